"""Weights & Biases CSV exports.

- the chart export (a line plot's "Export CSV"): ``"Step"``, then per run
  ``"<run> - <metric>"`` with ``__MIN`` and ``__MAX`` companions: each metric column (not
  the companions) is one run; empty cells (steps another run logged) are skipped;
- the run-history export (``run.history()`` or the run page's table): ``_step`` and one
  column per metric; the value column is ``--value-col`` or the first present of
  :data:`RETURN_COLUMNS`; one file is one run, named after the file;
- the runs-table export (one row per run, no steps) has no learning curve and is refused.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .table import LogError, Table, csv_rows, names, number

RETURN_COLUMNS = ("charts/episodic_return", "rollout/ep_rew_mean", "episode_return",
                  "episode_reward", "episode_reward_mean", "env_runners/episode_return_mean",
                  "return", "reward", "value")
RUNS_TABLE = {"name", "state", "runtime", "created", "notes", "user", "tags", "sweep"}


def kind(head) -> str | None:
    """``"wandb_chart"``, ``"wandb_history"``, ``"wandb_runs"`` or ``None``."""
    if head and head[0] == "Step" and any(" - " in h for h in head[1:]):
        return "wandb_chart"
    if "_step" in head:
        return "wandb_history"
    low = {h.lower() for h in head}
    if len(low & RUNS_TABLE) >= 2 and not low & {"step", "_step", "global_step"}:
        return "wandb_runs"
    return None


def refuse_runs_table(path: Path):
    raise LogError(f"{path}, row 1: a W&B runs-table export (one row per run, no steps): it "
                   "has no learning curve; export a run's history (the run page's table, or "
                   "run.history() to CSV) or a chart's data (the chart menu, Export CSV)")


def _table(path, series, head, is_step, value_col="value"):
    """``series``: {column index: (steps, values, rows)} -> one run per column."""
    steps, values, runs, rows, run_names = [], [], [], [], []
    for j, (s, v, r) in series.items():
        if not r:
            continue
        run_names.append(head[j].split(" - ")[0] if " - " in head[j] else Path(path).stem)
        runs.append(np.full(len(r), len(run_names) - 1))
        steps += s
        values += v
        rows += r
    if not rows:
        raise LogError(f"{path}, row 2: no data rows with a value")
    n = len(rows)
    return Table(np.array(steps), np.array(values), np.concatenate(runs), run_names,
                 source=np.zeros(n, dtype=np.int64), record=np.array(rows),
                 files=[(path, "row", {"step": head[is_step], "value": value_col})],
                 formats=["wandb"])


def read_chart(path: Path) -> Table:
    head, rows = csv_rows(path)
    cols = [j for j, h in enumerate(head) if j and not h.endswith(("__MIN", "__MAX"))]
    series = {j: ([], [], []) for j in cols}
    for row, rec in rows:
        for j in cols:
            if rec[j].strip():
                _add(series[j], path, row, head, 0, j, rec)
    return _table(path, series, head, 0)


def _add(s, path, row, head, i, j, rec):
    s[0].append(number(path, row, head[i], rec[i]))
    s[1].append(number(path, row, head[j], rec[j]))
    s[2].append(row)


def read_history(path: Path, value_col: str | None = None) -> Table:
    head, rows = csv_rows(path)
    low = [h.lower() for h in head]
    wanted = (value_col.lower(),) if value_col else RETURN_COLUMNS
    j = next((low.index(c) for c in wanted if c in low), None)
    if j is None:
        raise LogError(f"{path}, row 1: no return column (looked for {names(wanted)}; the "
                       f"header has {names(head)}); name it with --value-col")
    i = head.index("_step")
    series = {j: ([], [], [])}
    for row, rec in rows:
        if rec[j].strip():
            _add(series[j], path, row, head, i, j, rec)
    return _table(path, series, head, i, head[j])

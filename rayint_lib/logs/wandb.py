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

import csv
import io
from pathlib import Path

import numpy as np

from .table import LogError, Table, names, quote, read_text

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


def _rows(path):
    reader = csv.reader(io.StringIO(read_text(path)))
    head = [h.strip() for h in next(reader, [])]
    return head, reader


def _cell(path, row, col, text):
    try:
        return float(text)
    except ValueError:
        raise LogError(f"{path}, row {row}, column {quote(col)}: {quote(text)} is not a "
                       "number") from None


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
    head, reader = _rows(path)
    cols = [j for j, h in enumerate(head) if j and not h.endswith(("__MIN", "__MAX"))]
    series = {j: ([], [], []) for j in cols}
    for rec in reader:
        row = reader.line_num
        if not rec:
            continue
        if len(rec) != len(head):
            raise LogError(f"{path}, row {row}: {len(rec)} fields, the header has {len(head)}")
        for j in cols:
            if rec[j].strip():
                series[j][0].append(_cell(path, row, head[0], rec[0]))
                series[j][1].append(_cell(path, row, head[j], rec[j]))
                series[j][2].append(row)
    return _table(path, series, head, 0)


def read_history(path: Path, value_col: str | None = None) -> Table:
    head, reader = _rows(path)
    low = [h.lower() for h in head]
    wanted = (value_col.lower(),) if value_col else RETURN_COLUMNS
    j = next((low.index(c) for c in wanted if c in low), None)
    if j is None:
        raise LogError(f"{path}, row 1: no return column (looked for {names(wanted)}; the "
                       f"header has {names(head)}); name it with --value-col")
    i = head.index("_step")
    series = {j: ([], [], [])}
    for rec in reader:
        row = reader.line_num
        if not rec:
            continue
        if len(rec) != len(head):
            raise LogError(f"{path}, row {row}: {len(rec)} fields, the header has {len(head)}")
        if rec[j].strip():
            series[j][0].append(_cell(path, row, head[i], rec[i]))
            series[j][1].append(_cell(path, row, head[j], rec[j]))
            series[j][2].append(row)
    return _table(path, series, head, i, head[j])

"""``progress.csv`` of Stable-Baselines3 and of RLlib / Ray Tune: one row per iteration.

SB3 writes ``time/total_timesteps`` and ``rollout/ep_rew_mean``; RLlib writes
``num_env_steps_sampled_lifetime`` (new stack) or ``timesteps_total`` (old), and
``env_runners/episode_return_mean`` or ``episode_reward_mean``. The value is a mean over
the last episodes (already smoothed by the library). Rows whose step or value cell is empty
(early iterations before an episode ended) are skipped. One file is one run, named after
its folder.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from .table import LogError, Table, names, quote, read_text, single

SB3 = {"step": ("time/total_timesteps",), "value": ("rollout/ep_rew_mean",)}
RLLIB = {"step": ("num_env_steps_sampled_lifetime", "timesteps_total",
                  "env_runners/num_env_steps_sampled_lifetime", "num_env_steps_sampled"),
         "value": ("env_runners/episode_return_mean", "episode_return_mean",
                   "env_runners/episode_reward_mean", "episode_reward_mean")}
FORMATS = {"sb3_progress": SB3, "rllib_progress": RLLIB}


def kind(head) -> str | None:
    """``"sb3_progress"``, ``"rllib_progress"`` or ``None`` from a CSV header."""
    low = {h.lower() for h in head}
    for name, cols in FORMATS.items():
        if any(c in low for c in cols["step"]) and any(c in low for c in cols["value"]):
            return name
    return None


def _column(path, head, fmt, field, given):
    low = [h.lower() for h in head]
    wanted = (given.lower(),) if given else FORMATS[fmt][field]
    for c in wanted:
        if c in low:
            return low.index(c)
    raise LogError(f"{path}, row 1: no {field} column (looked for {names(wanted)}; the "
                   f"header has {names(head)})")


def read(path: Path, fmt: str, cols: dict | None = None) -> Table:
    cols = cols or {}
    reader = csv.reader(io.StringIO(read_text(path)))
    head = [h.strip() for h in next(reader, [])]
    i_s = _column(path, head, fmt, "step", cols.get("step"))
    i_v = _column(path, head, fmt, "value", cols.get("value"))
    steps, values, rows = [], [], []
    for rec in reader:
        row = reader.line_num
        if not rec:
            continue
        if len(rec) != len(head):
            raise LogError(f"{path}, row {row}: {len(rec)} fields, the header has {len(head)}")
        s, v = rec[i_s].strip(), rec[i_v].strip()
        if not s or not v:
            continue                          # no episode finished yet: skipped
        for text, i in ((s, i_s), (v, i_v)):
            try:
                float(text)
            except ValueError:
                raise LogError(f"{path}, row {row}, column {quote(head[i])}: {quote(text)} "
                               "is not a number") from None
        steps.append(float(s))
        values.append(float(v))
        rows.append(row)
    if not rows:
        raise LogError(f"{path}, row 2: no row with both {quote(head[i_s])} and "
                       f"{quote(head[i_v])}")
    run = Path(path).absolute().parent.name or Path(path).stem
    return single(path, "row", steps, values, run, rows,
                  {"step": head[i_s], "value": head[i_v]}, fmt)



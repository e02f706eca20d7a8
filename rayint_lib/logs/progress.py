"""``progress.csv`` of Stable-Baselines3 and of RLlib / Ray Tune: one row per iteration.

SB3 writes ``time/total_timesteps`` and ``rollout/ep_rew_mean``; RLlib writes
``num_env_steps_sampled_lifetime`` (new stack) or ``timesteps_total`` (old), and
``env_runners/episode_return_mean`` or ``episode_reward_mean``. The value is a mean over
the last episodes (already smoothed by the library). Rows whose step or value cell is empty
(early iterations before an episode ended) are skipped. One file is one run, named after
its folder.
"""
from __future__ import annotations

from pathlib import Path

from .table import LogError, Table, csv_rows, names, number, quote, single

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
    head, rows = csv_rows(path)
    i_s = _column(path, head, fmt, "step", cols.get("step"))
    i_v = _column(path, head, fmt, "value", cols.get("value"))
    steps, values, records = [], [], []
    for row, rec in rows:
        if not rec[i_s].strip() or not rec[i_v].strip():
            continue                          # no episode finished yet: skipped
        steps.append(number(path, row, head[i_s], rec[i_s]))
        values.append(number(path, row, head[i_v], rec[i_v]))
        records.append(row)
    if not records:
        raise LogError(f"{path}, row 2: no row with both {quote(head[i_s])} and "
                       f"{quote(head[i_v])}")
    run = Path(path).absolute().parent.name or Path(path).stem
    return single(path, "row", steps, values, run, records,
                  {"step": head[i_s], "value": head[i_v]}, fmt)

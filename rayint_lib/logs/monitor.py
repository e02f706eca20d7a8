"""Stable-Baselines3 ``Monitor`` files (``*.monitor.csv``): one episode per row.

Row 1 is a JSON comment (``#{"t_start": ..., "env_id": ...}``), row 2 the header ``r,l,t``
(return, length, seconds since ``t_start``; other columns are ignored). The files in one
folder are the parallel environments of ONE training run: their episodes are merged by
wall time (``t_start + t``) and the step of an episode is the cumulative length of all
episodes that ended by then, over every worker. Several folders are several runs.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from .table import LogError, Table, quote, read_text


def is_monitor(path: Path, first_line: str) -> bool:
    return path.name.endswith("monitor.csv") or first_line.startswith("#{")


def _episodes(path: Path):
    """``(end times, lengths, returns, rows)`` of one Monitor file."""
    lines = read_text(path).splitlines()
    if not lines or not lines[0].startswith("#"):
        raise LogError(f"{path}, row 1: no Monitor header (a '#{{...}}' JSON line)")
    try:
        meta = json.loads(lines[0][1:])
        t_start = float(meta.get("t_start", 0.0)) if isinstance(meta, dict) else 0.0
    except (ValueError, TypeError):
        raise LogError(f"{path}, row 1: the Monitor header {quote(lines[0])} is not JSON "
                       "with a number t_start") from None
    reader = csv.reader(io.StringIO("\n".join(lines[1:])))
    head = [h.strip() for h in next(reader, [])]
    missing = [c for c in ("r", "l", "t") if c not in head]
    if missing:
        raise LogError(f"{path}, row 2: no column {quote(missing[0])} (a Monitor file has "
                       "r,l,t)")
    ir, il, it = (head.index(c) for c in ("r", "l", "t"))
    t, length, ret, rows = [], [], [], []
    for rec in reader:
        row = reader.line_num + 1
        if not rec:
            continue
        if len(rec) != len(head):
            raise LogError(f"{path}, row {row}: {len(rec)} fields, the header has {len(head)}")
        vals = []
        for i, name in ((ir, "r"), (il, "l"), (it, "t")):
            try:
                vals.append(float(rec[i]))
            except ValueError:
                raise LogError(f"{path}, row {row}, column {quote(name)}: "
                               f"{quote(rec[i])} is not a number") from None
        if not (vals[1] >= 0 and np.isfinite(vals[1]) and np.isfinite(vals[2])):
            raise LogError(f"{path}, row {row}, column {quote('l' if vals[1] < 0 else 't')}: "
                           "episode length and time must be finite, the length >= 0")
        ret.append(vals[0])
        length.append(vals[1])
        t.append(t_start + vals[2])
        rows.append(row)
    if not rows:
        raise LogError(f"{path}, row 3: no episodes (a Monitor file with only its header)")
    return np.array(t), np.array(length), np.array(ret), np.array(rows)


def read(files: list, run: str) -> Table:
    """One run from the Monitor files of its parallel environments."""
    parts = [_episodes(p) for p in files]
    t = np.concatenate([p[0] for p in parts])
    order = np.argsort(t, kind="stable")
    length = np.concatenate([p[1] for p in parts])[order]
    ret = np.concatenate([p[2] for p in parts])[order]
    rows = np.concatenate([p[3] for p in parts])[order]
    source = np.concatenate([np.full(p[0].size, i) for i, p in enumerate(parts)])[order]
    n = t.size
    return Table(np.cumsum(length), ret, np.zeros(n, dtype=np.int64), [run],
                 source=source.astype(np.int64), record=rows.astype(np.int64),
                 files=[(p, "row", {"step": "l", "value": "r"}) for p in files],
                 formats=["monitor"])

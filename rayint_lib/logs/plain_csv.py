"""Plain CSV curves, and TensorBoard's CSV download (``Wall time,Step,Value``).

A header, then one row per logged point. Columns, found in any case unless given:
``step`` (or ``global_step``), ``value``, optionally ``run`` (one curve per run) and
``component`` (then ``value`` is J_k of that component). One file without a run column is
one run, named after the file.

Read with pandas' C parser; where anything is off (a cell that is not a number, an empty
cell, a ragged row) the file is read again row by row to name the row and the column.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from .table import LogError, Table, check_file, names, number, quote, read_text

COLUMNS = {"step": ("step", "global_step"), "value": ("value",), "run": ("run",),
           "component": ("component",)}
HEADER_BYTES = 1 << 20


def header(path: Path) -> list:
    """The header row of a CSV file (at most :data:`HEADER_BYTES`)."""
    check_file(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            line = f.readline(HEADER_BYTES)
    except UnicodeDecodeError as err:
        raise LogError(f"{path}, byte {err.start}: not UTF-8 text") from None
    if len(line) >= HEADER_BYTES and not line.endswith("\n"):
        raise LogError(f"{path}, row 1: a header longer than {HEADER_BYTES} characters")
    row = next(csv.reader([line]), [])
    if not any(h.strip() for h in row):
        raise LogError(f"{path}, row 1: empty file (no header)")
    return [h.strip() for h in row]


def find(path, head, field, given, columns=COLUMNS):
    """Index of the ``field`` column in ``head`` (``given`` by name, else found)."""
    if given is not None:
        hits = [i for i, h in enumerate(head) if h.lower() == given.strip().lower()]
        if not hits:
            raise LogError(f"{path}, row 1, column {quote(given)}: no such column (the header "
                           f"has {names(head)})")
        return hits[0]
    hits = [i for i, h in enumerate(head) if h.lower() in columns[field]]
    if len(hits) > 1:
        raise LogError(f"{path}, row 1: columns {names(head[i] for i in hits)} could all be "
                       f"the {field} column; choose one with --{field}-col")
    if not hits and field in ("step", "value"):
        raise LogError(f"{path}, row 1: no {field} column (looked for "
                       f"{' or '.join(columns[field])}, any case; the header has "
                       f"{names(head)}); name it with --{field}-col")
    return hits[0] if hits else None


def _slow(path, head, idx):
    """Row by row, naming the first bad row and column."""
    out = {k: [] for k in ("step", "value", "run", "component", "row")}
    cols = {k: head[i] for k, i in idx.items() if i is not None}
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        next(reader, None)
        try:
            for rec in reader:
                row = reader.line_num
                if not rec or (len(rec) == 1 and not rec[0].strip()):
                    continue                                  # a blank line
                if len(rec) != len(head):
                    raise LogError(f"{path}, row {row}: {len(rec)} fields, the header has "
                                   f"{len(head)}")
                for k in ("step", "value"):
                    out[k].append(number(path, row, cols[k], rec[idx[k]]))
                for k in ("run", "component"):
                    if idx[k] is not None:
                        label = rec[idx[k]].strip()
                        if not label:
                            raise LogError(f"{path}, row {row}, column {quote(cols[k])}: "
                                           f"empty {k} label")
                        out[k].append(label)
                out["row"].append(row)
        except csv.Error as err:
            raise LogError(f"{path}, row {reader.line_num}: not a valid CSV file "
                           f"({quote(err)})") from None
        except UnicodeDecodeError:
            read_text(path)                   # raises, naming the byte offset
            raise
    return out


def _fast(path, head, idx):
    """pandas' C parser; ``None`` where anything is off (then :func:`_slow` names it)."""
    use = {k: i for k, i in idx.items() if i is not None}
    dtype = {i: ("float64" if k in ("step", "value") else "category") for k, i in use.items()}
    try:
        df = pd.read_csv(path, dtype=dtype, header=0,
                         skip_blank_lines=False, encoding="utf-8-sig", engine="c",
                         keep_default_na=False, na_values=[""])
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError):
        return None
    if df.shape[1] != len(head):
        return None
    cols = {k: df.iloc[:, i] for k, i in use.items()}
    nan = {k: c.isna().to_numpy() for k, c in cols.items()}
    rows = np.arange(2, len(df) + 2, dtype=np.int32)
    keep = slice(None)
    if any(m.any() for m in nan.values()):
        blank = np.logical_and.reduce(list(nan.values()))
        if any((m & ~blank).any() for m in nan.values()):
            return None
        keep = ~blank
        rows = rows[keep]
    out = {"row": rows}
    for k in ("step", "value"):
        out[k] = cols[k].to_numpy()[keep]
    for k in ("run", "component"):
        if k in cols:
            cat = cols[k].cat
            out[k] = (cat.codes.to_numpy()[keep].astype(np.int32),
                      [str(c).strip() for c in cat.categories])
    return out


def read(path: Path, cols: dict | None = None, folder: bool = False) -> Table:
    """One CSV file as a table; ``folder``: the file is one of a folder's (runs named
    ``FILE/RUN``)."""
    cols = cols or {}
    head = header(path)
    idx = {k: find(path, head, k, cols.get(k)) for k in COLUMNS}
    data = _fast(path, head, idx)
    if data is None:
        data = _slow(path, head, idx)
        for k in ("run", "component"):
            if data[k]:
                uniq, inv = np.unique(np.asarray(data[k]), return_inverse=True)
                data[k] = (inv.astype(np.int32), [str(u) for u in uniq])
    if not len(data["row"]):
        raise LogError(f"{path}, row 2: no data rows (only a header)")
    n = len(data["row"])
    stem = Path(path).stem
    if data.get("run"):
        runs, run_names = data["run"]
        run_names = [f"{stem}/{r}" if folder else r for r in run_names]
    else:
        runs, run_names = np.zeros(n, dtype=np.int32), [stem]
    comp = data.get("component") or (None, None)
    colnames = {k: head[i] for k, i in idx.items() if i is not None}
    return Table(np.asarray(data["step"], dtype=float), np.asarray(data["value"], dtype=float),
                 runs, run_names, comp[0], comp[1], np.zeros(n, dtype=np.int32),
                 np.asarray(data["row"], dtype=np.int32), [(path, "row", colnames)],
                 ["csv"])

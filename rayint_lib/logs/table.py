"""The one curves table every log reader produces, and the checks every input file passes
before it is read (size, kind of file, encoding).

A table holds one entry per logged point: ``steps``, ``values`` (the return), integer
``runs`` codes with their ``run_names``, optional ``components`` (codes and names), and for
each point where it came from (the file, and the row, record or byte offset), so that a
bad point is named in the words of the file it came from.
"""
from __future__ import annotations

import csv
import io
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAX_BYTES = 2 << 30        # the largest input file read (2 GiB)
QUOTE = 40                 # characters of a value, header or name quoted in a message


class LogError(ValueError):
    """Bad input logs: ``FILE, row R (or record R, byte B), column C: what is wrong``."""


def quote(text, n: int = QUOTE) -> str:
    """``repr`` of at most the first ``n`` characters of ``text`` (``...`` when cut)."""
    text = str(text)
    return repr(text[:n]) + ("..." if len(text) > n else "")


def names(items, n: int = 8) -> str:
    """At most ``n`` quoted names, and how many more."""
    items = list(items)
    out = ", ".join(quote(x) for x in items[:n])
    return out + (f" and {len(items) - n} more" if len(items) > n else "")


def check_file(path: Path) -> Path:
    """Refuse, before reading, what is not a readable regular file of at most
    :data:`MAX_BYTES`."""
    try:
        st = os.stat(path)
    except OSError as err:
        raise LogError(f"cannot read {quote(path, 200)}: {err.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise LogError(f"{quote(path, 200)}: not a regular file (a device, pipe or socket "
                       "is not read)")
    if st.st_size > MAX_BYTES:
        raise LogError(f"{quote(path, 200)}: {st.st_size} bytes, more than the "
                       f"{MAX_BYTES >> 30} GiB read")
    return path


def read_text(path: Path) -> str:
    """The whole file as UTF-8 text (a BOM dropped), or :class:`LogError` with the byte
    offset of the first byte that is not UTF-8."""
    data = check_file(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise LogError(f"{quote(path, 200)}, byte {err.start}: not UTF-8 text") from None


def number(path, row, column, text) -> float:
    """``float(text)``, or :class:`LogError` naming the file, row and column."""
    try:
        return float(text)
    except ValueError:
        raise LogError(f"{path}, row {row}, column {quote(column)}: {quote(text.strip())} is "
                       "not a number") from None


def csv_rows(path: Path):
    """``(header, rows)`` of a CSV file: ``rows`` yields ``(row number, record)``, skipping
    blank lines and refusing a row whose number of fields differs from the header's."""
    reader = csv.reader(io.StringIO(read_text(path)))
    head = [h.strip() for h in next(reader, [])]

    def rows():
        for rec in reader:
            if not rec:
                continue
            if len(rec) != len(head):
                raise LogError(f"{path}, row {reader.line_num}: {len(rec)} fields, the header "
                               f"has {len(head)}")
            yield reader.line_num, rec

    return head, rows()


@dataclass
class Table:
    """Points of one or more runs, with where each came from (see the module doc)."""

    steps: np.ndarray
    values: np.ndarray
    runs: np.ndarray                  # integer code of each point's run
    run_names: list
    components: np.ndarray | None = None
    component_names: list | None = None
    source: np.ndarray | None = None  # index into ``files`` of each point
    record: np.ndarray | None = None  # row (CSV, the header is row 1) or record number
    files: list = field(default_factory=list)   # [(path, unit, {field: column})]
    formats: list = field(default_factory=list)
    warnings: list = field(default_factory=list)  # what was read with a caveat

    def where(self, index, column_of: str = "step") -> str:
        """``FILE, row R, column C`` of point ``index``."""
        path, unit, cols = self.files[int(self.source[index])]
        col = cols.get(column_of, column_of)
        return f"{path}, {unit} {int(self.record[index])}, column {quote(col)}"

    def labels(self):
        """Per-point run and component labels for :func:`~rayint_lib.model.detection.detect`
        (integer codes; names via :attr:`run_names`)."""
        return self.runs, self.components


def concat(tables: list) -> Table:
    """One table of several (runs renumbered, names kept; a name used twice gets its
    table's number appended)."""
    if len(tables) == 1:
        return tables[0]
    steps, values, runs, comps, source, record, files, fmts = [], [], [], [], [], [], [], []
    warnings = [w for t in tables for w in t.warnings]
    run_names, comp_names = [], None
    if any(t.components is not None for t in tables) and not all(
            t.components is not None for t in tables):
        bad = next(t for t in tables if t.components is None)
        raise LogError(f"{bad.files[0][0]}: no component column, but other inputs have one")
    seen = set()
    for t in tables:
        rename = []
        for name in t.run_names:
            new = name if name not in seen else f"{name}#{len(run_names)}"
            seen.add(new)
            rename.append(new)
        runs.append(t.runs + len(run_names))
        run_names += rename
        if t.components is not None:
            comp_names = comp_names or []
            code = {n: comp_names.index(n) if n in comp_names else comp_names.append(n) or
                    len(comp_names) - 1 for n in t.component_names}
            comps.append(np.array([code[n] for n in t.component_names])[t.components])
        steps.append(t.steps)
        values.append(t.values)
        source.append(t.source + len(files))
        record.append(t.record)
        files += t.files
        fmts += t.formats
    return Table(np.concatenate(steps), np.concatenate(values), np.concatenate(runs), run_names,
                 np.concatenate(comps) if comp_names is not None else None, comp_names,
                 np.concatenate(source), np.concatenate(record), files, sorted(set(fmts)),
                 warnings)


def single(path, unit, steps, values, run, records, cols, fmt) -> Table:
    """A table of one run read from one file."""
    n = len(steps)
    return Table(np.asarray(steps, dtype=float), np.asarray(values, dtype=float),
                 np.zeros(n, dtype=np.int64), [run], source=np.zeros(n, dtype=np.int64),
                 record=np.asarray(records, dtype=np.int64), files=[(path, unit, cols)],
                 formats=[fmt])

"""``rayint detect``: the ray-interference detector (:mod:`rayint_lib.model.detection`) on
learning curves from CSV files.

Input: a CSV file with a header and one row per logged point, or a folder of such files
(``*.csv``, one run each unless they have a run column; the run is named after the file).
Columns, found case-insensitively unless given: ``step`` (or ``global_step``), ``value``,
optionally ``run`` and ``component`` (then ``value`` is J_k of that component). TensorBoard's
CSV export (``Wall time,Step,Value``) works as it is. Every problem with the input is one
message naming the file, the row and the column, and exit status 2; nothing is written.
"""
from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..model import detection

COLUMNS = {"step": ("step", "global_step"), "value": ("value",), "run": ("run",),
           "component": ("component",)}


class InputError(Exception):
    """Bad input curves: ``FILE, row R, column C: what is wrong``."""


@dataclass
class Curves:
    """Points read from CSV files, one entry per point, with where each came from."""

    steps: np.ndarray
    values: np.ndarray
    runs: np.ndarray | None
    components: np.ndarray | None
    files: list            # file of each point (index into ``sources``)
    rows: np.ndarray       # line number of each point in its file (the header is row 1)
    sources: list          # [(path, {field: column name})]

    def where(self, err: detection.CurveError) -> str:
        """``FILE, row R, column C`` of a :class:`~rayint_lib.model.detection.CurveError`."""
        if err.index is None:
            return ", ".join(str(p) for p, _ in self.sources)
        path, cols = self.sources[self.files[err.index]]
        column = cols.get(err.field or "step", err.field)
        if err.indices is not None and len(err.indices) > 1:
            first, last = int(self.rows[err.indices[0]]), int(self.rows[err.indices[-1]])
            return f"{path}, rows {first}-{last}, column {column!r}"
        return f"{path}, row {int(self.rows[err.index])}, column {column!r}"


def _find(path, header, field, given):
    names = [h.strip() for h in header]
    if given is not None:
        hits = [i for i, h in enumerate(names) if h.lower() == given.strip().lower()]
        if not hits:
            raise InputError(f"{path}, row 1, column {given!r}: no such column (the header has "
                             f"{', '.join(map(repr, names))})")
        return hits[0]
    hits = [i for i, h in enumerate(names) if h.lower() in COLUMNS[field]]
    if len(hits) > 1:
        raise InputError(f"{path}, row 1: columns {', '.join(repr(names[i]) for i in hits)} "
                         f"could all be the {field} column; choose one with --{field}-col")
    if not hits and field in ("step", "value"):
        raise InputError(f"{path}, row 1: no {field} column (looked for "
                         f"{' or '.join(COLUMNS[field])}, any case; the header has "
                         f"{', '.join(map(repr, names))}); name it with --{field}-col")
    return hits[0] if hits else None


def _number(path, row, column, text):
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{path}, row {row}, column {column!r}: {text.strip()!r} is not a "
                         "number") from None


def read_file(path: Path, cols: dict):
    """Rows of one CSV file: ``(steps, values, runs, components, rows, {field: column})``."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None or not any(h.strip() for h in header):
                raise InputError(f"{path}, row 1: empty file (no header)")
            idx = {k: _find(path, header, k, cols.get(k)) for k in COLUMNS}
            names = {k: header[i].strip() for k, i in idx.items() if i is not None}
            out = {k: [] for k in ("step", "value", "run", "component", "row")}
            for rec in reader:
                row = reader.line_num
                if not rec or (len(rec) == 1 and not rec[0].strip()):
                    continue                                  # a blank line
                if len(rec) != len(header):
                    raise InputError(f"{path}, row {row}: {len(rec)} fields, the header has "
                                     f"{len(header)}")
                out["step"].append(_number(path, row, names["step"], rec[idx["step"]]))
                out["value"].append(_number(path, row, names["value"], rec[idx["value"]]))
                for k in ("run", "component"):
                    if idx[k] is not None:
                        label = rec[idx[k]].strip()
                        if not label:
                            raise InputError(f"{path}, row {row}, column {names[k]!r}: empty "
                                             f"{k} label")
                        out[k].append(label)
                out["row"].append(row)
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not a UTF-8 text file ({err.reason})") from None
    except csv.Error as err:
        raise InputError(f"{path}, row {reader.line_num}: not a valid CSV file ({err})") from None
    if not out["row"]:
        raise InputError(f"{path}, row 2: no data rows (only a header)")
    return out, names, idx


def read_curves(path, step_col=None, value_col=None, run_col=None,
                component_col=None) -> Curves:
    """Curves from a CSV file or a folder of CSV files (one run per file)."""
    path = Path(path)
    cols = {"step": step_col, "value": value_col, "run": run_col, "component": component_col}
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
        if not files:
            raise InputError(f"{path}: a folder with no .csv files")
    elif path.exists():
        files = [path]
    else:
        raise InputError(f"cannot read {path}: no such file or folder")
    folder = path.is_dir()
    parts, sources = [], []
    for i, p in enumerate(files):
        data, names, idx = read_file(p, cols)
        n = len(data["row"])
        if folder:
            runs = [p.stem if idx["run"] is None else f"{p.stem}/{r}" for r in
                    (data["run"] or [None] * n)]
        else:                                   # one file: one run named after it
            runs = data["run"] or [p.stem] * n
        parts.append((data, runs, i, n))
        sources.append((p, names))
    has_comp = [bool(d["component"]) for d, _, _, _ in parts]
    if any(has_comp) and not all(has_comp):
        p = files[has_comp.index(False)]
        raise InputError(f"{p}, row 1: no component column, but other files have one")
    return Curves(
        steps=np.concatenate([d["step"] for d, _, _, _ in parts]),
        values=np.concatenate([d["value"] for d, _, _, _ in parts]),
        runs=np.concatenate([r for _, r, _, _ in parts]),
        components=(np.concatenate([d["component"] for d, _, _, _ in parts])
                    if all(has_comp) else None),
        files=[i for _, _, i, n in parts for _ in range(n)],
        rows=np.concatenate([d["row"] for d, _, _, _ in parts]),
        sources=sources)


def detect_file(path, *, step_col=None, value_col=None, run_col=None, component_col=None,
                **thresholds) -> detection.Detection:
    """:func:`~rayint_lib.model.detection.detect` on the curves of ``path``; raises
    :class:`InputError` naming the file, row and column of bad input."""
    cv = read_curves(path, step_col, value_col, run_col, component_col)
    try:
        return detection.detect(cv.steps, cv.values, cv.runs, cv.components, **thresholds)
    except detection.CurveError as err:
        raise InputError(f"{cv.where(err)}: {err.message}") from None


def check_output(path) -> Path:
    """Refuse (:class:`InputError`) an output file whose folder is missing or not writable."""
    path = Path(path).absolute()
    if path.is_dir():
        raise InputError(f"--plot {path}: a folder, not a file name")
    if not path.parent.is_dir():
        raise InputError(f"--plot {path}: folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise InputError(f"--plot {path}: folder {path.parent} is not writable")
    return path


def plot(result: detection.Detection, out: Path):
    """A PNG of every run (thin lines) and the mean curve (black), plateaus shaded; with
    components, a second panel with the components of the run that stalls most. Written to
    a temporary file and renamed: a failed plot leaves nothing behind."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    comps = result.has_components
    fig, axes = plt.subplots(1, 2 if comps else 1, figsize=(11 if comps else 6.5, 4),
                             squeeze=False)
    ax = axes[0, 0]
    colours = plt.get_cmap("tab10")
    log = result.thresholds["axis"] == "log"
    top = max(float(r.values.max()) for r in result.runs)
    for i, r in enumerate(result.runs):
        c = colours(i % 10)
        t, v = (r.steps, r.values) if not log else (r.steps[r.steps > 0], r.values[r.steps > 0])
        ax.plot(t, v, lw=0.8, color=c, alpha=0.7)
        half = max(r.tolerance * (top - float(r.values[0])), 1e-12) / 2
        for p in r.plateaus:   # the band the plateau stays in, shaded
            ax.fill_between([p.start_step, p.end_step], p.level - 2 * half, p.level + 2 * half,
                            color=c, alpha=0.25, lw=0)
    if len(result.runs) > 1 and result.mean_steps.size:
        keep = result.mean_steps > 0 if log else slice(None)
        ax.plot(result.mean_steps[keep], result.mean_values[keep], color="black", lw=2,
                label="mean of runs")
        for p in result.mean_plateaus:
            ax.plot([p.start_step, p.end_step], [p.level, p.level], color="black", lw=4,
                    alpha=0.5)
        ax.legend(loc="lower right", frameon=False)
    ax.set_xscale("log" if log else "linear")
    ax.set_xlabel("step" + (" (log scale)" if log else ""))
    ax.set_ylabel("J" + (" = sum of components" if comps else ""))
    ax.set_title(f"{len(result.runs)} run(s): {sum(len(r.plateaus) for r in result.runs)} "
                 f"plateau(s) shaded; mean curve {len(result.mean_plateaus)}", fontsize=10)
    if comps:
        r = max(result.runs, key=lambda r: (len(r.stalls), len(r.plateaus)))
        ax2 = axes[0, 1]
        for k, v in r.components.items():
            keep = r.steps > 0 if log else slice(None)
            ax2.plot(r.steps[keep], v[keep], lw=1.5, label=f"J_{k}")
        for s in r.stalls:
            ax2.axvspan(s["from_step"], s["to_step"], color="grey", alpha=0.15, lw=0)
        ax2.set_xscale("log" if log else "linear")
        ax2.set_xlabel("step" + (" (log scale)" if log else ""))
        ax2.set_title(f"components of run {r.run}: {len(r.stalls)} stall(s) shaded",
                      fontsize=10)
        ax2.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=120)
        os.replace(tmp, out)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)


def _fmt(x) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.4g}"


def report(result: detection.Detection) -> str:
    """The human-readable summary ``rayint detect`` prints without ``--json``."""
    d = result.to_dict()
    th = result.thresholds
    lines = [f"{len(result.runs)} run(s); time axis {th['axis']}; "
             f"{th['normalisation']}; tolerance {th['tolerance_rule']}"]
    for r in result.runs:
        head = (f"run {r.run}: {r.steps.size} points, steps {_fmt(r.steps[0])}..."
                f"{_fmt(r.steps[-1])}, tolerance {_fmt(r.tolerance)}, "
                f"{len(r.plateaus)} plateau(s)")
        lines.append(head)
        for p in r.plateaus:
            lines.append(f"  steps {_fmt(p.start_step)}-{_fmt(p.end_step)}: level "
                         f"{_fmt(p.level)} ({p.level_normalised:.0%} of the progress), flatness "
                         f"{_fmt(p.flatness)}{' (not left by the last step)' if p.open else ''}")
        for s in r.stalls:
            lines.append(f"  component {s['component']} stalls (gains {_fmt(s['progress'])}) "
                         f"while {s['stalled_while']} learns, steps {_fmt(s['from_step'])}-"
                         f"{_fmt(s['to_step'])}; picks up at {_fmt(s['picked_up_at'])}")
    lines.append(f"mean curve: {len(result.mean_plateaus)} plateau(s); "
                 f"{_fmt(d['plateaus_per_run'])} per run; averaging hides plateaus: "
                 f"{'yes' if result.averaging_hides_plateaus else 'no'}")
    lines.append(f"verdict: {result.verdict}")
    return "\n".join(lines)


def cmd_detect(args) -> int:
    """``rayint detect``: exit 0 with the report, or :class:`InputError` (exit 2)."""
    out = check_output(args.plot) if args.plot else None
    thresholds = {k: getattr(args, k) for k in ("tolerance", "min_ratio", "min_fraction",
                                                "axis", "eta")
                  if getattr(args, k) is not None}
    try:
        result = detect_file(args.curves, step_col=args.step_col, value_col=args.value_col,
                             run_col=args.run_col, component_col=args.component_col,
                             **thresholds)
    except detection.CurveError as err:      # bad thresholds come as plain ValueErrors
        raise InputError(str(err)) from None
    except ValueError as err:
        raise InputError(str(err)) from None
    if out is not None:
        plot(result, out)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1, allow_nan=False))
    else:
        print(report(result))
    return 0


def add_parser(sub):
    """The ``detect`` subcommand's arguments."""
    dt = sub.add_parser("detect", help="look for ray interference in your learning curves (CSV)",
                        description="Look for the symptoms of ray interference (Sec. 4 of "
                        "the paper) in learning curves: plateaus in individual runs, hidden by "
                        "averaging; components learned one at a time. Input: a CSV file with a "
                        "header, one row per logged point (columns step or global_step, value, "
                        "optionally run and component; any case), a TensorBoard CSV export "
                        "(Wall time,Step,Value), or a folder of such files (one run each). "
                        "Exit status 2, naming the file, row and column, on bad input.")
    dt.add_argument("curves", metavar="CURVES.csv",
                    help="a CSV file (header; one row per logged point) or a folder of them")
    dt.add_argument("--step-col", metavar="C", help="step column (default: step or global_step)")
    dt.add_argument("--value-col", metavar="C", help="value column (default: value)")
    dt.add_argument("--run-col", metavar="C", help="run column (default: run, if present)")
    dt.add_argument("--component-col", metavar="C",
                    help="component column (default: component, if present)")
    dt.add_argument("--json", action="store_true", help="print one JSON object")
    dt.add_argument("--plot", metavar="OUT.png", help="write a PNG of the runs, plateaus shaded")
    dt.add_argument("--tolerance", type=float, metavar="W",
                    help="plateau band in units of the run's progress (default: from the noise)")
    dt.add_argument("--min-ratio", type=float, metavar="R",
                    help="log axis: shortest plateau as t_end / t_start (default 2)")
    dt.add_argument("--min-fraction", type=float, metavar="F",
                    help="linear axis: shortest plateau as a fraction of the logged span "
                         "(default 0.1)")
    dt.add_argument("--axis", choices=detection.AXES, help="time axis (default auto)")
    dt.add_argument("--eta", type=float, help="step size: flatness = |dJ/dstep| / eta "
                    "(default 1)")
    return dt

"""``rayint detect``: the ray-interference detector (:mod:`rayint_lib.model.detection`) on
training logs (:mod:`rayint_lib.logs`: plain CSV, TensorBoard CSV and event files,
Stable-Baselines3 Monitor and progress files, RLlib progress files, W&B exports).

Every problem with the input is one message naming the file, the row, record or byte
offset and the column, and exit status 2, before anything is written; ``--plot`` never
replaces an existing file (unless ``--force``, and never an input or anything that is not a
regular file).
"""
from __future__ import annotations

import json
import math
import os
import stat
import sys
import tempfile
from pathlib import Path

from .. import logs
from ..book.detect_plot import draw_runs
from ..logs.table import quote
from ..model import detection

InputError = logs.LogError
PLOT_RUNS = 12          # runs drawn by --plot (the first ones)


def where(table: logs.Table, err: detection.CurveError) -> str:
    """``FILE, row R, column C`` of a :class:`~rayint_lib.model.detection.CurveError`."""
    if err.index is None:
        return ", ".join(str(p) for p, _, _ in table.files[:3])
    field = err.field or "step"
    if err.indices is not None and len(err.indices) > 1:
        path, unit, cols = table.files[int(table.source[err.indices[0]])]
        first, last = int(table.record[err.indices[0]]), int(table.record[err.indices[-1]])
        return f"{path}, {unit}s {first}-{last}, column {quote(cols.get(field, field))}"
    return table.where(err.index, field)


def detect_paths(paths, *, fmt="auto", tag=None, step_col=None, value_col=None, run_col=None,
                 component_col=None, **thresholds):
    """``(table, detection)`` of the logs in ``paths``; :class:`InputError` naming the file,
    row (record, byte) and column of bad input."""
    table = logs.read(paths, fmt, tag, {"step": step_col, "value": value_col, "run": run_col,
                                        "component": component_col})
    try:
        result = detection.detect(table.steps, table.values, table.runs, table.components,
                                  run_names=table.run_names,
                                  component_names=table.component_names, **thresholds)
    except detection.CurveError as err:
        raise InputError(f"{where(table, err)}: {err.message}") from None
    return table, result


def check_output(path, inputs=(), force=False) -> Path:
    """Refuse (:class:`InputError`) an output file whose folder is missing or not writable,
    an existing file (unless ``force``), anything that is not a regular file, and any of
    the ``inputs``."""
    given = str(path)
    if not given.strip():
        raise InputError("--plot: an empty file name")
    path = Path(path).absolute()
    shown = quote(given, 120)
    for p in inputs:
        p = Path(p).absolute()
        if path == p or (path.exists() and p.exists() and os.path.samefile(path, p)) or \
                p in path.parents:
            raise InputError(f"--plot {shown}: an input of this command; choose a new file")
    if path.is_symlink() or path.exists():
        try:
            mode = os.stat(path).st_mode
        except OSError:
            mode = 0
        if not stat.S_ISREG(mode) or path.is_symlink():
            raise InputError(f"--plot {shown}: exists and is not a regular file; never "
                             "replaced")
        if not force:
            raise InputError(f"--plot {shown}: the file exists; give a new name, or --force "
                             "to replace it")
    if not path.parent.is_dir():
        raise InputError(f"--plot {shown}: its folder does not exist")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise InputError(f"--plot {shown}: its folder is not writable")
    if len(path.name.encode()) > 200:
        raise InputError(f"--plot {shown}: a file name longer than 200 bytes")
    return path


def plot(result: detection.Detection, out: Path):
    """A PNG of the first :data:`PLOT_RUNS` runs: raw points, the trend with its band, the
    plateaus shaded, the start stall marked; the mean curve (black) with several runs; with
    components, a second panel with the components of the run that stalls most. Written to
    a temporary file and renamed: a failed plot leaves nothing behind."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    comps = result.has_components
    fig, axes = plt.subplots(1, 2 if comps else 1, figsize=(11 if comps else 6.5, 4),
                             squeeze=False)
    ax = axes[0, 0]
    log = result.thresholds["axis"] == "log"
    draw_runs(ax, result, PLOT_RUNS)
    if len(result.runs) > 1 and result.mean_steps.size:
        keep = result.mean_steps > 0 if log else slice(None)
        ax.plot(result.mean_steps[keep], result.mean_values[keep], color="black", lw=2,
                label="mean of runs")
        for p in result.mean_plateaus:
            ax.plot([p.start_step, p.end_step], [p.level, p.level], color="black", lw=4,
                    alpha=0.5)
    ax.legend(loc="lower right", frameon=False, fontsize=7)
    ax.set_ylabel("J" + (" = sum of components" if comps else " (return)"))
    more = f" (first {PLOT_RUNS} of {len(result.runs)})" if len(result.runs) > PLOT_RUNS else ""
    ax.set_title(f"{len(result.runs)} run(s){more}: points, trend and band; "
                 f"{sum(len(r.plateaus) for r in result.runs)} plateau(s) shaded, start "
                 "stall dotted", fontsize=9)
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
    fd, tmp = tempfile.mkstemp(prefix=".rayint-plot.", suffix=".tmp", dir=out.parent)
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


def _ci(ci) -> str:
    return "" if not ci else f" [{_fmt(ci[0])}, {_fmt(ci[1])}]"


def report(result: detection.Detection) -> str:
    """The human-readable summary ``rayint detect`` prints without ``--json``."""
    d = result.to_dict()
    th = result.thresholds
    lines = [f"{len(result.runs)} run(s); time axis {th['axis']}; "
             f"{th['normalisation']}; tolerance {th['tolerance_rule']}; 95% bootstrap "
             "intervals in brackets"]
    for r in result.runs:
        st = r.start_stall
        lines.append(f"run {r.run}: {r.steps.size} points, steps {_fmt(r.steps[0])}..."
                     f"{_fmt(r.steps[-1])}, noise {_fmt(r.noise)}, trend window {r.window}, "
                     f"tolerance {_fmt(r.tolerance)}, {len(r.plateaus)} plateau(s)"
                     + (" (too noisy)" if r.too_noisy else ""))
        lines.append("  start stall: " + (
            f"leaves its starting level at step {_fmt(st['end_step'])}"
            f"{_ci(st.get('end_step_ci'))}, {st['fraction']:.0%} of the time axis"
            f"{_ci(st.get('fraction_ci'))}" if st.get("left_start") else
            "never leaves its starting level" if st.get("left_start") is False else
            "cannot be told (too noisy)"))
        for p in r.plateaus:
            lines.append(f"  steps {_fmt(p.start_step)}{_ci(p.start_ci)}-{_fmt(p.end_step)}"
                         f"{_ci(p.end_ci)}: level {_fmt(p.level)}{_ci(p.level_ci)} "
                         f"({p.level_normalised:.0%} of the progress), flatness "
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
    """``rayint detect``: exit 0 with the report, or :class:`InputError` (exit 2) before
    anything is written."""
    out = check_output(args.plot, args.curves, args.force) if args.plot is not None else None
    thresholds = {k: getattr(args, k) for k in ("tolerance", "min_ratio", "min_fraction",
                                                "axis", "eta")
                  if getattr(args, k) is not None}
    try:
        table, result = detect_paths(args.curves, fmt=args.format, tag=args.tag,
                                     step_col=args.step_col, value_col=args.value_col,
                                     run_col=args.run_col, component_col=args.component_col,
                                     **thresholds)
    except InputError:
        raise
    except ValueError as err:                 # bad thresholds
        raise InputError(str(err)[:300]) from None
    for w in table.warnings:
        print(f"rayint detect: warning: {w}", file=sys.stderr)
    if out is not None:
        plot(result, out)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1, allow_nan=False))
    else:
        print(report(result))
    return 0


def add_parser(sub):
    """The ``detect`` subcommand's arguments."""
    dt = sub.add_parser("detect", help="look for ray interference in your training logs",
                        description="Look for the symptoms of ray interference (Sec. 4 of "
                        "the paper) in training logs: plateaus in individual runs, hidden by "
                        "averaging; a slow start; components learned one at a time. Reads "
                        "plain CSV (step,value[,run][,component]), TensorBoard CSV and event "
                        "files, Stable-Baselines3 monitor and progress files, RLlib progress "
                        "files and W&B exports (see --format). Exit status 2, naming the file, "
                        "row (record, byte) and column, on bad input; nothing is written.")
    dt.add_argument("curves", metavar="LOGS", nargs="+",
                    help="log files or folders (a folder of monitor or event files is one "
                         "run; a folder of CSV files one run per file)")
    dt.add_argument("--format", default="auto", choices=logs.FORMATS,
                    help="input format (default: from the file names and contents)")
    dt.add_argument("--tag", metavar="TAG", help="TensorBoard scalar to read (default: the "
                    "first present of " + ", ".join(logs.tfevents.TAGS[:3]) + ", ...)")
    dt.add_argument("--step-col", metavar="C", help="step column (default: step or global_step)")
    dt.add_argument("--value-col", metavar="C", help="value column (default: value)")
    dt.add_argument("--run-col", metavar="C", help="run column (default: run, if present)")
    dt.add_argument("--component-col", metavar="C",
                    help="component column (default: component, if present)")
    dt.add_argument("--json", action="store_true", help="print one JSON object")
    dt.add_argument("--plot", metavar="OUT.png",
                    help="write a PNG: points, trend and band, plateaus shaded (a new file)")
    dt.add_argument("--force", action="store_true",
                    help="let --plot replace an existing regular file (never an input)")
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

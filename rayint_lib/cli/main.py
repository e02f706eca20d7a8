"""The ``rayint`` command: ``list``, ``run`` and ``sweep`` parameter runs of the book's notebooks,
and ``detect`` (ray interference in anyone's learning curves).

Every name and value is checked (type from the parameters cell, range from the notebook's
validator, memory and time estimates included) before a kernel starts or a folder is made;
bad invocations exit with status 2 and write nothing. Run folders are written atomically
(see :mod:`rayint_lib.cli.runs`).
"""
from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import signal
import sys
import time
from pathlib import Path

from ..book.notebooks import chapter_names, notebook_path
from ..model.config import clip, short
from . import detect, inputs, params, runs

USAGE_ERROR, RUN_FAILED = 2, 1
DEFAULT_ROOT = Path("runs")


UsageError = inputs.UsageError


def _notebook(name) -> Path:
    try:
        return notebook_path(name)
    except ValueError as err:
        raise UsageError(params.unknown_name_message(str(name), chapter_names(),
                                                     what="notebook")) from err
    except OSError as err:              # a name too long for the file system, ...
        raise UsageError(f"notebook {clip(name)}: {err.strerror}") from None


def _read_file(path) -> dict:
    """Parameters from a YAML (or JSON) file: a mapping of names to values (or lists)."""
    return inputs.read_parameters_file(path)


# --- list ---------------------------------------------------------------------------------

def _listed(nb: Path) -> list[dict]:
    """``rayint list``'s rows for a notebook: its declaration, or (a notebook without a chapter
    module) its parameters cell."""
    try:
        return [{"name": p.name, "type": p.type_name, "default": p.default,
                 "allowed": p.allowed, "help": p.meaning}
                for p in params.declaration(nb).values()]
    except params.ParameterError:
        return [{"name": p.name, "type": type(p.default).__name__, "default": p.default,
                 "allowed": "", "help": p.help}
                for p in params.read_parameters(nb).values()]


def cmd_list(args) -> int:
    names = args.notebooks or chapter_names()
    try:
        out = {nb.stem: _listed(nb) for nb in map(_notebook, names)}
    except params.ParameterError as err:
        raise UsageError(str(err)) from None
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    for nb, ps in out.items():
        print(f"{nb}" + ("" if ps else "  (no parameters)"))
        rows = [(p["name"], p["type"], repr(p["default"]), p["allowed"], p["help"]) for p in ps]
        widths = [max((len(r[i]) for r in rows), default=0) for i in range(4)]
        for r in rows:
            print("  " + "  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + f"  {r[4]}")
        print()
    return 0


# --- run ----------------------------------------------------------------------------------

def _pairs(pairs) -> dict:
    out = {}
    for name, value in pairs or []:
        if name in out:
            raise UsageError(f"parameter {name!r} given twice")
        out[name] = value
    return out


def _force(args):
    """``--force``: let the validators start work they estimate at more than a day
    (``RAYINT_FORCE=1``, seen by the validation here, the kernels and the workers)."""
    if getattr(args, "force", False):
        os.environ["RAYINT_FORCE"] = "1"


def _default_out(nb: Path, overrides: dict) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = DEFAULT_ROOT / f"{nb.stem}-{stamp}-{runs.digest(overrides, 6)}"
    out, i = base, 1
    while out.exists() or runs.failed_path(out).exists():
        i += 1
        out = base.with_name(f"{base.name}-{i}")
    return out


def _resolve(nb: Path, values: dict):
    try:
        return params.resolve(nb, values)
    except params.ParameterError as err:
        raise UsageError(str(err)) from None


def _check_notebook(nb: Path):
    try:
        params.check_notebook(nb)
    except params.ParameterError as err:
        raise UsageError(str(err)) from None


def _checked_inputs(args):
    """The notebook of ``run`` and ``sweep`` and the values of their ``-f`` file, checked
    before any work: ``(notebook path, {name: value})``."""
    _force(args)
    nb = _notebook(args.notebook)
    inputs.check_common(args)
    _check_notebook(nb)
    return nb, (_read_file(args.file) if args.file else {})


def cmd_run(args) -> int:
    nb, given = _checked_inputs(args)
    text = {k: params.Text(v) for k, v in _pairs(args.param).items()}
    overrides, full, cost = _resolve(nb, {**given, **text})
    inputs.check_cost(cost, jobs=1)
    if args.out is not None:
        out = inputs.check_new_output(args.out)
    else:
        inputs.check_default_root(DEFAULT_ROOT)
        out = _default_out(nb, overrides).absolute()
    print(f"rayint: running {nb.stem} with {short(overrides) if overrides else 'its defaults'} "
          f"-> {out}", file=sys.stderr)
    try:
        prov = runs.run(nb, overrides, full, out, kernel_name=args.kernel,
                        extra={"command": sys.argv})
    except runs.RunExists as err:
        raise UsageError(str(err)) from None
    except Exception as err:  # noqa: BLE001
        failed = runs.failed_path(out) / runs.FAILED
        where = f"\n  traceback: {failed}" if failed.is_file() else ""
        print(f"rayint: run failed: {runs._short(err)}{where}", file=sys.stderr)
        return RUN_FAILED
    glued = json.loads((out / "glued.json").read_text())
    print(f"rayint: done in {prov['wall_time_s']} s: {out}", file=sys.stderr)
    for k, v in glued.items():
        if _scalar(v):
            print(f"  {k} = {v}")
    return 0


# --- sweep --------------------------------------------------------------------------------

def split_values(text: str) -> list[str]:
    """``"2,4,8"`` -> ``["2", "4", "8"]``; commas inside brackets or quotes do not split."""
    out, depth, quote, cur = [], 0, None, ""
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
            if depth < 0:
                raise UsageError(f"malformed value list {short(text)}: unbalanced brackets")
        elif ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        cur += ch
    out.append(cur)
    if depth or quote:
        raise UsageError(f"malformed value list {short(text)}: unbalanced brackets or quotes")
    if any(not v.strip() for v in out):
        raise UsageError(f"malformed value list {short(text)}: empty value")
    return out


def build_grid(nb: Path, text_grid: dict, file_grid: dict
               ) -> tuple[list[str], list[tuple], params.Cost]:
    """``(swept names, [(swept values, overrides, all parameters), ...], cost)``, all
    validated; ``cost``: the largest memory of a run and the summed time of all runs. The
    number of combinations is refused before any is checked."""
    axes = {}
    for name, values in file_grid.items():
        axes[name] = values if isinstance(values, list) else [values]
    for name, text in text_grid.items():
        axes[name] = [params.Text(v) for v in split_values(text)]
    for name, values in axes.items():
        if not values:
            raise UsageError(f"parameter {short(name)} has an empty list of values")
    inputs.check_combinations({n: len(v) for n, v in axes.items()})
    names = list(axes)
    swept = [n for n in names if len(axes[n]) > 1]
    combos, seen, peak, seconds = [], set(), 0.0, 0.0
    for combo in itertools.product(*(axes[n] for n in names)):
        raw = dict(zip(names, combo))
        try:
            ov, full, cost = params.resolve(nb, raw)
        except params.ParameterError as err:
            shown = ", ".join(f"{n}={short(v)}" for n, v in raw.items())
            raise UsageError(f"{err} (in combination {short(shown)})") from None
        key = runs.digest(full)
        if key in seen:
            raise UsageError(f"the grid has duplicate combinations, e.g. {short(ov)}")
        seen.add(key)
        combos.append(({n: ov[n] for n in swept}, ov, full))
        peak, seconds = max(peak, cost.bytes), seconds + cost.seconds
    return swept, combos, params.Cost(peak, seconds)


def _default_sweep_out(nb: Path, grid_spec) -> Path:
    return DEFAULT_ROOT / f"{nb.stem}-sweep-{runs.digest(grid_spec, 8)}"


def _prepare_sweep_folder(out: Path, nb: Path):
    """Check (without writing) that ``out`` is new or an earlier sweep of ``nb``."""
    marker = out / "sweep.json"
    if out.exists():
        if not out.is_dir():
            raise UsageError(f"output {clip(out)} exists and is not a folder")
        if marker.exists():
            earlier = inputs.read_sweep_marker(marker)
            if earlier != nb.stem:
                raise UsageError(f"output folder {clip(out)} holds a sweep of "
                                 f"{short(earlier)}, not {nb.stem}")
        elif any(out.iterdir()):
            raise UsageError(f"output folder {clip(out)} exists and is not a rayint sweep "
                             "folder; results are never overwritten (choose another --out)")
    elif os.path.lexists(out):
        raise UsageError(f"--out {clip(out)}: a symbolic link to nothing exists there; results "
                         "are never written through it (choose another --out)")


def _connect(address, timeout):
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - a dependency of the package
        raise UsageError("--scheduler needs the 'distributed' package") from None
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise UsageError(f"cannot reach the Dask scheduler at {short(address)} within "
                         f"{timeout:g} s ({type(err).__name__}: {clip(err)})") from None


def _progress(total, desc):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="run", file=sys.stderr, dynamic_ncols=True,
                disable=None if total else True)


def _run_local(todo, nb, jobs, kernel, bar):
    """Run ``todo`` [(folder, overrides, full)] here: in-process (jobs=1) or ``jobs`` child
    processes at a time. Interrupted, the children get SIGTERM and mark their runs failed."""
    results = {}
    if jobs == 1:
        for out, ov, full in todo:
            results[out] = runs.run_quietly(nb, ov, full, out, kernel_name=kernel)
            bar.update()
        return results
    import subprocess
    import threading
    from concurrent.futures import ThreadPoolExecutor, as_completed

    children, stopping, lock = set(), threading.Event(), threading.Lock()

    def one(out, ov, full):
        with lock:
            if stopping.is_set():
                return {"status": "not started", "folder": "", "error": "sweep interrupted"}
            child = subprocess.Popen([sys.executable, "-c", runs.CHILD], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            children.add(child)
        spec = {"nb": str(nb), "overrides": ov, "parameters": full, "out": str(out),
                "kernel_name": kernel}
        stdout, _ = child.communicate(json.dumps(spec, default=str))
        with lock:
            children.discard(child)
        try:
            return json.loads(stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {"status": "failed", "folder": "",
                    "error": f"worker exited ({child.returncode})"}

    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = {pool.submit(one, *item): item[0] for item in todo}
        for fut in as_completed(futures):
            results[futures[fut]] = fut.result()
            bar.update()
    except BaseException:
        with lock:
            stopping.set()
            for child in children:
                child.send_signal(signal.SIGTERM)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results


# a kernel that did not start (seen under load: two kernels starting at once chose the same
# ZeroMQ port): none of the notebook ran, so the run is submitted again like a worker's death
KERNEL_NOT_STARTED = ("Kernel didn't respond in", "Kernel died before replying to kernel_info")


def _kernel_not_started(result) -> bool:
    return (isinstance(result, dict) and not result.get("ok", True)
            and any(text in result.get("traceback", "") for text in KERNEL_NOT_STARTED))


def _run_dask(todo, nb, client, bar):
    """Run ``todo`` on a Dask cluster; folders are written here from the returned files.

    Each result is fetched as soon as its run finishes (a worker that dies later cannot take
    it along) and its future released at once: the scheduler then forgets the result, so a
    worker that dies holding results already written here does not make the cluster compute
    them again (unreleased, they piled up on the workers, and every death sent them back to
    the head of the queue until no new run finished: the stall of long sweeps). A run whose
    workers kept dying (``KilledWorker``: the scheduler gave up after its
    ``allowed-failures``) or whose kernel did not start is submitted again, up to
    ``runs.WORKER_DEATH_RESUBMITS`` times."""
    from distributed import KilledWorker, as_completed

    text = nb.read_text()

    def submit(out, ov, full):
        return client.submit(runs.execute_remote, text, nb.stem, ov, full, str(nb.parent),
                             force=bool(os.environ.get("RAYINT_FORCE")),
                             pure=False, key=f"rayint-{out.name}-{runs.digest(time.time())}")

    futures = {submit(*task): task for task in todo}  # the runs not yet finished
    resubmitted = dict.fromkeys((out for out, _, _ in todo), 0)
    results = {}
    try:
        pending = as_completed(list(futures), loop=client.loop, with_results=True,
                               raise_errors=False)
        for fut, result in pending:
            task = futures.pop(fut)
            fut.release()
            out = task[0]
            # a failed task gives (type, exception, traceback); a cancelled one the exception
            error = result[1] if isinstance(result, tuple) else (
                result if isinstance(result, BaseException) else None)
            retry = isinstance(error, KilledWorker) or _kernel_not_started(result)
            if retry and resubmitted[out] < runs.WORKER_DEATH_RESUBMITS:
                resubmitted[out] += 1
                again = submit(*task)
                futures[again] = task
                pending.add(again)
                continue
            if error is not None:  # the cluster failed (a notebook's error is a failed result)
                results[out] = {"status": "failed", "folder": "", "error": runs._short(error)}
            else:
                results[out] = runs.write_remote_result(result, out)
            bar.update()
    finally:
        client.cancel(list(futures))
    return results


def _scalar(v) -> bool:
    return v is None or isinstance(v, (bool, int, float, str))


def summarise(out: Path, combos, results):
    """One row per combination (a ``pandas.DataFrame``): status, parameters, glued scalar
    values, wall time."""
    import pandas as pd

    rows = []
    for swept, ov, full in combos:
        folder = out / runs.combination_name(swept, full)
        row = {"run": folder.name}
        if runs.is_complete(folder):
            _, glued, prov = runs.read_run(folder)
            row.update(status="complete", wall_time_s=prov.get("wall_time_s"))
            row.update({k: v for k, v in full.items() if _scalar(v) or isinstance(v, list)})
            row.update({k: v for k, v in glued.items() if _scalar(v) and k not in full})
        else:
            r = results.get(folder, {})
            row.update(status=r.get("status", "missing"), error=r.get("error", ""))
            row.update({k: v for k, v in full.items() if _scalar(v) or isinstance(v, list)})
        rows.append(row)
    return pd.DataFrame(rows)


def cmd_sweep(args) -> int:
    nb, file_grid = _checked_inputs(args)
    text_grid = _pairs(args.param)
    if not file_grid and not text_grid:
        raise UsageError("a sweep needs at least one -p NAME V1,V2,... or -f grid.yaml")
    swept, combos, cost = build_grid(nb, text_grid, file_grid)
    inputs.check_cost(cost, jobs=1 if args.scheduler else args.jobs, runs=len(combos))
    spec = {"notebook": nb.stem, "grid": {**{k: v for k, v in file_grid.items()}, **text_grid}}
    # absolute: papermill changes the working directory of the process while it runs
    if args.out is not None:
        out = inputs.check_output_text(args.out)
    else:
        inputs.check_default_root(DEFAULT_ROOT)
        out = _default_sweep_out(nb, spec).absolute()
    _prepare_sweep_folder(out, nb)
    client = _connect(args.scheduler, args.connect_timeout) if args.scheduler else None

    todo, done = [], 0
    for sw, ov, full in combos:
        folder = out / runs.combination_name(sw, full)
        if runs.is_complete(folder):
            done += 1
        else:
            todo.append((folder, ov, full))
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(json.dumps({**spec, "swept": swept}, indent=1, default=str))
    where = f"on {args.scheduler}" if client else (f"{args.jobs} local processes" if args.jobs > 1
                                                   else "this process")
    print(f"rayint: sweep of {nb.stem}: {len(combos)} runs, {done} already finished, "
          f"{len(todo)} to run ({where}) -> {out}", file=sys.stderr)
    t0 = time.perf_counter()
    try:
        with _progress(len(todo), nb.stem) as bar:
            if client:
                results = _run_dask(todo, nb, client, bar)
            else:
                results = _run_local(todo, nb, args.jobs, args.kernel, bar)
    finally:
        if client:
            client.close()
    table = summarise(out, combos, results)
    tmp = out / ".summary.csv.tmp"
    table.to_csv(tmp, index=False)
    os.replace(tmp, out / "summary.csv")
    _print_table(table, swept, combos[0][2])
    failed = int((table["status"] != "complete").sum())
    ran = sum(r.get("status") == "complete" for r in results.values())
    print(f"rayint: {ran} run(s) executed in {time.perf_counter() - t0:.1f} s, {failed} not "
          f"complete; summary: {out / 'summary.csv'}", file=sys.stderr)
    return RUN_FAILED if failed else 0


def _print_table(table, swept, parameter_names, most=8):
    """Status, swept parameters and the glued scalars that differ between runs."""
    import pandas as pd

    meta = {"run", "status", "error", "wall_time_s"}
    glued = [c for c in table.columns if c not in meta and c not in parameter_names]
    varying = [c for c in glued if table[c].astype(str).nunique() > 1] if len(table) > 1 else glued
    cols = ["status", *swept, *varying[:most], *(["error"] if "error" in table else [])]
    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.max_colwidth", 40):
        print(table[cols].to_string(index=False))
    hidden = len(glued) - len(varying[:most])
    if hidden:
        print(f"({hidden} more glued values, equal across runs or beyond the first {most} "
              "that differ: see summary.csv)")


# --- main ---------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="rayint", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)

    ls = sub.add_parser("list", help="notebooks with their parameters, types, defaults, meanings")
    ls.add_argument("notebooks", nargs="*", help="short names or paths (default: all)")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=cmd_list)

    def common(p, value_help):
        p.add_argument("notebook", help="short name (01_minimal_bandit) or path of a notebook")
        p.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"),
                       help=value_help)
        p.add_argument("-f", "--file", metavar="params.yaml",
                       help="YAML mapping of parameter names to values (-p wins)")
        p.add_argument("--out", metavar="DIR", help="output folder (default: under runs/)")
        p.add_argument("--kernel", default="python3", help="Jupyter kernel (default python3)")
        p.add_argument("--force", action="store_true",
                       help="start work estimated at more than a day (sets RAYINT_FORCE=1); "
                            "the memory limit still holds")

    rn = sub.add_parser("run", help="one validated run into a new folder")
    common(rn, "set a parameter (repeatable)")
    rn.set_defaults(func=cmd_run)

    sw = sub.add_parser("sweep", help="all combinations of parameter values; resumable")
    common(sw, "comma-separated values of a parameter, e.g. -p K 2,4,8 (repeatable)")
    sw.add_argument("--jobs", type=int, default=1, help="parallel local runs (processes)")
    sw.add_argument("--scheduler", metavar="ADDRESS",
                    help="Dask scheduler (tcp://host:8786): run there instead of locally")
    sw.add_argument("--connect-timeout", type=float, default=10.0, metavar="S",
                    help="seconds to wait for the scheduler (default 10)")
    sw.set_defaults(func=cmd_sweep)

    detect.add_parser(sub).set_defaults(func=detect.cmd_detect)
    return ap


def main(argv=None) -> int:
    """Entry point of the ``rayint`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    previous = signal.getsignal(signal.SIGTERM)
    if previous in (signal.SIG_DFL, None):
        runs.raise_on_sigterm()
    forced = os.environ.get("RAYINT_FORCE")
    try:
        return args.func(args)
    except (UsageError, params.ParameterError, detect.InputError) as err:
        print(f"rayint: error: {params.short_message(err)}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt as err:
        print(f"rayint: interrupted ({err or 'SIGINT'}); unfinished runs are marked .failed",
              file=sys.stderr)
        return 143 if isinstance(err, runs.Interrupted) else 130
    finally:
        if previous in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if forced is None:                    # --force holds for this invocation only
            os.environ.pop("RAYINT_FORCE", None)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

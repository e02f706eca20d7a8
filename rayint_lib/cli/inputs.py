"""Every input of ``rayint run``, ``sweep`` and ``list`` that is not a parameter value, checked
before any work: files read, output paths, options, environment variables, the estimated
cost of the work as a whole. Each check raises :class:`UsageError` (exit status 2) with a
message that quotes at most a short prefix of the culprit (:func:`~rayint_lib.model.config.short`);
nothing is written. Parameter values are checked by the chapters' declarations and
validators (:mod:`rayint_lib.cli.params`).
"""
from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from pathlib import Path

from ..model import config
from ..model.config import MAX_SECONDS, clip, short

MAX_FILE_BYTES = 2**20          # a parameters file or sweep.json larger than this is refused
MAX_NODES = 10_000              # values in a parameters file, lists included
MAX_DEPTH = 4                   # mapping > grid list > list-valued parameter > its entries
MAX_COMBINATIONS = 1000         # runs of one sweep (split a larger one into several)
MAX_JOBS = 256                  # local processes of a sweep even with --force
MAX_CONNECT_TIMEOUT = 3600.0    # seconds (--connect-timeout)
NAME_MARGIN = 40                # bytes a run folder's name gains (.NAME.tmp-PID-XXXXXXXX, .failed)
PATH_MARGIN = 300               # bytes a sweep adds below its folder (run folder and files)


class UsageError(Exception):
    """A bad invocation: reported as ``rayint: error: ...`` with exit status 2."""


# --- files --------------------------------------------------------------------------------

def read_small_text(path, what: str) -> str:
    """The UTF-8 text of a regular file of at most :data:`MAX_FILE_BYTES` (refused otherwise:
    a device, a folder, a FIFO, a larger file, another encoding)."""
    shown = clip(path)
    if "\0" in str(path):
        raise UsageError(f"{what} {shown}: a file name cannot hold a NUL character")
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{what} {shown} is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise UsageError(f"{what} {shown} has {info.st_size} bytes, more than the limit of "
                             f"{MAX_FILE_BYTES} bytes")
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise UsageError(f"cannot read {what} {shown}: {err.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise UsageError(f"{what} {shown} has more than {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UsageError(f"{what} {shown} is not UTF-8 text (byte {err.start})") from None


def _size_and_depth(value) -> tuple[int, int]:
    """Number of values and nesting depth of a loaded YAML value (iterative: any depth)."""
    nodes, depth, stack = 0, 0, [(value, 1)]
    while stack and nodes <= MAX_NODES:
        v, d = stack.pop()
        nodes, depth = nodes + 1, max(depth, d)
        children = v.values() if isinstance(v, dict) else v if isinstance(v, list) else ()
        stack.extend((c, d + 1) for c in children)
    return nodes, depth


def read_parameters_file(path) -> dict:
    """Parameters from a YAML (or JSON) file: a mapping of names to values (or lists). YAML
    aliases are refused (an alias bomb of a few hundred bytes expands to billions of values),
    and so are more than :data:`MAX_NODES` values or nesting deeper than :data:`MAX_DEPTH`."""
    import yaml

    class NoAliases(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                raise yaml.YAMLError("YAML aliases (*name) are not accepted; write the values")
            return super().compose_node(parent, index)

    text = read_small_text(path, "parameters file")
    shown = clip(path)
    try:
        data = yaml.load(text, Loader=NoAliases)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as err:
        raise UsageError(f"parameters file {shown} is not valid YAML: "
                         f"{clip(str(err).splitlines()[0] if str(err) else err)}") from None
    except (RecursionError, MemoryError):
        raise UsageError(f"parameters file {shown} is nested too deeply") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise UsageError(f"parameters file {shown} must be a mapping of parameter names to "
                         "values")
    nodes, depth = _size_and_depth(data)
    if nodes > MAX_NODES or depth > MAX_DEPTH:
        raise UsageError(f"parameters file {shown} holds more than {MAX_NODES} values or lists "
                         f"nested deeper than {MAX_DEPTH - 2} levels")
    return data


def read_sweep_marker(marker: Path) -> str:
    """The notebook named by an earlier sweep's ``sweep.json``."""
    text = read_small_text(marker, "sweep marker")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("notebook"), str):
        raise UsageError(f"{clip(marker)} is not a rayint sweep marker (a JSON object "
                         "naming its notebook); is this folder a sweep?")
    return data["notebook"]


# --- output paths -------------------------------------------------------------------------

def check_output_text(text, option="--out") -> Path:
    """The absolute output path of ``--out TEXT``, its parent checked: it exists, is a folder
    and a folder can be made there (tried, and removed), and the names are not too long."""
    if not str(text).strip():
        raise UsageError(f"{option} needs a folder name; got an empty one")
    if "\0" in str(text):
        raise UsageError(f"{option} {clip(text)}: a file name cannot hold a NUL character")
    out = Path(text).absolute()
    shown = clip(out)
    parent = out.parent
    try:
        name_max = os.pathconf(parent if parent.is_dir() else "/", "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    if len(out.name.encode()) + NAME_MARGIN > name_max:
        raise UsageError(f"{option} {shown}: the name has {len(out.name.encode())} bytes; at "
                         f"most {name_max - NAME_MARGIN} fit (the run adds suffixes)")
    if len(str(out).encode()) + PATH_MARGIN > 4096:
        raise UsageError(f"{option} {shown}: the path is too long")
    if not parent.exists():
        raise UsageError(f"{option} {shown}: its parent folder {clip(parent)} does not "
                         "exist (create it first)")
    if not parent.is_dir():
        raise UsageError(f"{option} {shown}: {clip(parent)} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {shown}: its parent folder {clip(parent)} is not "
                         "writable")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".rayint-probe-", dir=parent))
    except OSError as err:
        raise UsageError(f"{option} {shown}: no folder can be made in {clip(parent)} "
                         f"({err.strerror})") from None
    return out


def check_new_output(text, option="--out") -> Path:
    """:func:`check_output_text`, and nothing may be at the path yet (not even a symbolic
    link to nothing): results are never overwritten."""
    out = check_output_text(text, option)
    if os.path.lexists(out):
        kind = "a symbolic link" if out.is_symlink() else "something"
        raise UsageError(f"{option} {clip(out)}: {kind} exists there already; results "
                         "are never overwritten (choose another --out)")
    return out


def check_default_root(root: Path):
    """The default output root (``runs/`` here): a writable folder, or one that can be made."""
    root = root.absolute()
    if os.path.lexists(root):
        if not root.is_dir() or not os.access(root, os.W_OK | os.X_OK):
            raise UsageError(f"default output folder {clip(root)} is not a writable "
                             "folder; choose one with --out")
    else:
        check_output_text(root, option="default output folder")


# --- options, environment, cost -----------------------------------------------------------

def check_common(args):
    """The options of ``run`` and ``sweep`` and the environment, before anything is read."""
    try:
        config.memory_limit()
    except ValueError as err:
        raise UsageError(str(err)) from None
    scheduler = getattr(args, "scheduler", None)
    if not scheduler:
        _check_kernel(args.kernel)
    jobs = getattr(args, "jobs", 1)
    cores = os.cpu_count() or 1
    if not 1 <= jobs <= MAX_JOBS:
        raise UsageError(f"--jobs must be in [1, {MAX_JOBS}]; got {jobs}")
    if jobs > cores and not args.force:
        raise UsageError(f"--jobs {jobs} is more than the {cores} cores of this machine; "
                         "pass --force to start that many anyway")
    timeout = getattr(args, "connect_timeout", 1.0)
    if not (math.isfinite(timeout) and 0 < timeout <= MAX_CONNECT_TIMEOUT):
        raise UsageError(f"--connect-timeout must be in (0, {MAX_CONNECT_TIMEOUT:g}] seconds; "
                         f"got {timeout}")


def _check_kernel(name):
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except (NoSuchKernel, OSError, ValueError):
        known = ", ".join(sorted(KernelSpecManager().find_kernel_specs()))
        raise UsageError(f"--kernel {short(name)}: no such Jupyter kernel; known: "
                         f"{known}") from None


def check_combinations(sizes: dict):
    """Refuse a sweep of more than :data:`MAX_COMBINATIONS` runs before any is checked."""
    total = math.prod(sizes.values())
    if total > MAX_COMBINATIONS:
        shown = " x ".join(f"{n} ({k})" for n, k in sizes.items())
        raise UsageError(f"the grid has {total} combinations ({clip(shown)}), more than "
                         f"{MAX_COMBINATIONS}; split it into several sweeps")


def check_cost(cost, jobs: int, runs: int = 1):
    """Refuse work whose runs at once (``jobs``) need more memory than the limit, or that
    would take more than a day in all (unless ``--force``): the estimates of the validators,
    summed over a run's parts and over the runs of a sweep."""
    at_once = min(jobs, runs)
    limit = config.memory_limit()
    if cost.bytes * at_once > limit:
        raise UsageError(f"{at_once} run(s) at once would need about "
                         f"{config.size_text(cost.bytes * at_once)} of memory "
                         f"({config.size_text(cost.bytes)} each), more than the limit of "
                         f"{config.size_text(limit)}; use fewer --jobs or smaller runs")
    seconds = cost.seconds / at_once
    if seconds > MAX_SECONDS and not os.environ.get("RAYINT_FORCE"):
        what = f"the {runs} runs with {at_once} at a time" if runs > 1 else "the run's parts"
        raise UsageError(f"{what} would take about {seconds / 3600:.3g} hours in all, more than "
                         "a day; reduce the work, or pass --force to start anyway")

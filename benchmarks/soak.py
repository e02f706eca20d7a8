"""Soak test of ``rayint sweep`` on a Dask cluster whose workers keep dying (issue 21).

A scheduler and workers run on 127.0.0.1 (started here, one thread per worker, no nanny);
while a sweep of the tiny test notebook (``tests/data/tiny.ipynb``) runs on them, one worker
is killed (SIGKILL, with its kernels) every ``--period`` seconds (at least twice the median
wall time of a local run, so that a loaded machine still finishes runs between kills) and a
fresh one started in its place. Afterwards every combination must have exactly one complete
folder, no stale ``NAME.failed`` (two are planted, as an interrupted earlier attempt leaves
them), and a ``glued.json`` byte-identical to the same run done locally (a plain local sweep
of the same grid, or of its first rows with ``--reference N``); a second invocation must have
nothing left to do.

``tests/cli/test_soak.py`` runs 40 runs of it inside ``make test``; by hand::

    nice .venv/bin/python benchmarks/soak.py --runs 500 --workers 3 --period 5 --reference 50

prints runs, kills, wall time, lost and duplicated, and (last line) the same as JSON.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
TINY = DATA / "tiny.ipynb"
# the CLI with the tiny notebook's validator registered (as tests/cli/test_cli.py does)
RAYINT = (f"import sys; sys.path.insert(0, {str(DATA)!r}); import tiny_validator; "
          "from rayint_lib import chapters; base = chapters.chapter; "
          "chapters.chapter = lambda nb: tiny_validator if nb == 'tiny' else base(nb); "
          "from rayint_lib.cli.main import main; sys.exit(main(sys.argv[1:]))")


def environment() -> dict:
    """Ours, with this checkout first on the path (workers import its ``rayint_lib``)."""
    env = {k: v for k, v in os.environ.items() if k not in ("RAYINT_CLAIMS_DIR", "RAYINT_FORCE")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _kill_tree(proc: subprocess.Popen):
    """SIGKILL a process we started and every process below it (its kernels)."""
    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    for p in [proc, *family]:
        try:
            p.send_signal(signal.SIGKILL)
        except (psutil.NoSuchProcess, ProcessLookupError):
            pass
    proc.wait()
    psutil.wait_procs(family, timeout=10)


class Cluster:
    """A Dask scheduler and ``n_workers`` one-thread workers on 127.0.0.1, in ``folder``.
    ``allowed_failures``: worker deaths the scheduler tolerates per task before it gives up
    on it (``KilledWorker``; Dask's default is 3)."""

    def __init__(self, folder: Path, n_workers: int, allowed_failures: int | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.env = environment()
        if allowed_failures is not None:
            self.env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = str(allowed_failures)
        info = self.folder / "scheduler.json"
        self.scheduler = self._start("scheduler", [
            sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
            "--port", "0", "--no-dashboard", "--scheduler-file", str(info)])
        deadline = time.monotonic() + 60
        while not info.exists() or not info.read_text().strip():
            if time.monotonic() > deadline or self.scheduler.poll() is not None:
                raise RuntimeError("the Dask scheduler did not start")
            time.sleep(0.2)
        time.sleep(0.2)  # the file is written whole, but give the writer its moment
        self.address = json.loads(info.read_text())["address"]
        self.started = 0
        self.kills = 0
        self.workers = [self.start_worker() for _ in range(n_workers)]

    def _start(self, name, argv):
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        return subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=self.folder)

    def start_worker(self) -> subprocess.Popen:
        self.started += 1
        return self._start(f"worker-{self.started}", [
            sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--host",
            "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard",
            "--local-directory", str(self.folder / f"w{self.started}")])

    def wait_registered(self, timeout=300.0, stop: threading.Event | None = None):
        """Wait until the last started worker has registered with the scheduler."""
        log = self.folder / f"worker-{self.started}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not (stop and stop.is_set()):
            if "Registered to" in log.read_text(errors="replace"):
                return
            time.sleep(0.2)

    def kill_one(self, rng: random.Random):
        """Kill a random worker (SIGKILL, kernels included) and start another in its place."""
        i = rng.randrange(len(self.workers))
        _kill_tree(self.workers[i])
        self.kills += 1
        self.workers[i] = self.start_worker()

    def close(self):
        for proc in [*self.workers, self.scheduler]:
            _kill_tree(proc)

    def gave_up(self) -> int:
        """Tasks the scheduler gave up on (``KilledWorker``), which the sweep resubmits."""
        log = (self.folder / "scheduler.log").read_text(errors="replace")
        return len(re.findall(r"marked as failed because \d+ workers died", log))


class Killer(threading.Thread):
    """Kills a worker of ``cluster`` every ``period`` seconds until stopped (counted from
    when its replacement has registered: a slow start does not shorten a worker's life)."""

    def __init__(self, cluster: Cluster, period: float, seed=0):
        super().__init__(daemon=True)
        self.cluster, self.period = cluster, period
        self.rng = random.Random(seed)
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(self.period):
            self.cluster.kill_one(self.rng)
            self.cluster.wait_registered(stop=self.stopped)

    def stop(self):
        self.stopped.set()
        self.join()


def grid(n_runs: int) -> tuple[str, str]:
    """Values of the tiny notebook's ``a`` and ``x`` for at least ``n_runs`` combinations."""
    n_x = 10 if n_runs >= 100 else 4
    n_a = math.ceil(n_runs / n_x)
    if n_a > 86:  # a > 86 is "more than a day" for the tiny validator
        raise ValueError(f"runs must be in [1, {86 * n_x}], got {n_runs}")
    return ",".join(str(a) for a in range(1, n_a + 1)), ",".join(
        f"{i / n_x:g}" for i in range(n_x))


def sweep(out: Path, a: str, x: str, *extra, timeout=None) -> subprocess.CompletedProcess:
    """``rayint sweep tiny -p a A -p x X --out OUT EXTRA...`` in a child process; past
    ``timeout`` seconds it is killed with its runs and ``TimeoutExpired`` raised."""
    # --force: the tiny validator pretends each run takes a x 1000 s, and the sweep's whole
    # time estimate would refuse the grid (each run really takes a few seconds)
    argv = [sys.executable, "-c", RAYINT, "sweep", str(TINY), "-p", "a", a, "-p", "x", x,
            "--out", str(out), "--force", *extra]
    proc = subprocess.Popen(argv, env=environment(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=out.parent)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        raise
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


def run_time(sweep_folder: Path) -> float:
    """Median wall time of one run of a finished sweep (its ``summary.csv``)."""
    import csv
    import statistics

    with open(sweep_folder / "summary.csv", newline="") as f:
        return statistics.median(float(r["wall_time_s"]) for r in csv.DictReader(f))


def plant_stale_failures(out: Path, reference: Path, n=2) -> int:
    """Start ``out`` as a sweep whose first ``n`` runs failed in an earlier attempt (as an
    interrupted local sweep leaves them): their ``NAME.failed`` must be gone once they run."""
    out.mkdir()
    (out / "sweep.json").write_bytes((reference / "sweep.json").read_bytes())
    for name in sorted(p.name for p in reference.iterdir() if p.is_dir())[:n]:
        (out / f"{name}.failed").mkdir()
        (out / f"{name}.failed" / "FAILED.txt").write_text("Interrupted: an earlier attempt\n")
    return n


def audit(out: Path, reference: Path) -> dict:
    """Lost, duplicated and differing runs of the sweep ``out`` (its ``summary.csv`` lists
    every combination) against the local runs in ``reference`` (all or some of them)."""
    import csv

    with open(out / "summary.csv", newline="") as f:
        expected = [row["run"] for row in csv.DictReader(f)]
    entries = [p.name for p in out.iterdir() if p.is_dir()]
    complete = [n for n in expected if (out / n / "provenance.json").is_file()]
    # anything beside one final folder per run: a second copy, a stale failure, a temp folder
    duplicated = sorted(set(entries) - set(expected))
    compared = [n for n in complete if (reference / n).is_dir()]
    differ = [n for n in compared if (out / n / "glued.json").read_bytes()
              != (reference / n / "glued.json").read_bytes()]
    return {"runs": len(expected), "lost": sorted(set(expected) - set(complete)),
            "duplicated": duplicated, "compared": len(compared), "differ": differ}


def soak(folder: Path, n_runs: int, n_workers=2, period=4.0, jobs=2, seed=0,
         timeout=None, reference=None, allowed_failures=None) -> dict:
    """The whole check in ``folder`` (new); returns the figures (see the module doc).

    ``timeout``: seconds each of the three sweeps may take (``TimeoutExpired`` beyond);
    ``reference``: compare only about this many runs with local runs (default: all);
    ``allowed_failures``: the scheduler's (see :class:`Cluster`)."""
    folder = Path(folder)  # new, or holding only an earlier soak's local reference
    folder.mkdir(parents=True, exist_ok=True)
    if any((folder / sub).exists() for sub in ("dask", "cluster")):
        raise ValueError(f"{folder} holds an earlier soak's sweep: choose a new folder")
    a, x = grid(n_runs)
    if reference is not None:
        n_x = len(x.split(","))
        a_ref = ",".join(a.split(",")[:max(1, math.ceil(reference / n_x))])
    t0 = time.perf_counter()
    local = sweep(folder / "local", a if reference is None else a_ref, x, "--jobs", str(jobs),
                  timeout=timeout)
    t_local = time.perf_counter() - t0
    if local.returncode != 0:
        raise RuntimeError(f"the local reference sweep failed:\n{local.stderr[-3000:]}")
    planted = plant_stale_failures(folder / "dask", folder / "local")
    period = max(period, 2 * run_time(folder / "local"))
    cluster = Cluster(folder / "cluster", n_workers, allowed_failures)
    try:
        killer = Killer(cluster, period, seed)
        t0 = time.perf_counter()
        killer.start()
        try:
            first = sweep(folder / "dask", a, x, "--scheduler", cluster.address, timeout=timeout)
        finally:
            killer.stop()
        wall = time.perf_counter() - t0
        found = audit(folder / "dask", folder / "local")
        second = sweep(folder / "dask", a, x, "--scheduler", cluster.address, timeout=timeout)
    finally:
        cluster.close()
    return {**found, "stale_failures_planted": planted, "kills": cluster.kills,
            "period_s": round(period, 1),
            "workers_started": cluster.started, "gave_up": cluster.gave_up(),
            "wall_time_s": round(wall, 1), "local_wall_time_s": round(t_local, 1),
            "first_rc": first.returncode, "second_rc": second.returncode,
            "first_stderr": first.stderr[-2000:], "second_stderr": second.stderr[-2000:]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=500, help="at least this many runs (500)")
    p.add_argument("--workers", type=int, default=2, help="Dask workers alive at a time (2)")
    p.add_argument("--period", type=float, default=4.0, help="seconds between kills (4)")
    p.add_argument("--allowed-failures", type=int, default=None,
                   help="worker deaths the scheduler tolerates per task (Dask's default 3)")
    p.add_argument("--reference", type=int, default=None,
                   help="compare about this many runs with local runs (default: all)")
    p.add_argument("--folder", default=None, help="new folder for everything (a temp folder)")
    args = p.parse_args(argv)
    import tempfile

    folder = Path(args.folder) if args.folder else Path(tempfile.mkdtemp(prefix="soak-")) / "s"
    r = soak(folder, args.runs, args.workers, args.period, reference=args.reference,
             allowed_failures=args.allowed_failures)
    print(f"runs {r['runs']}, kills {r['kills']} (one every {r['period_s']} s; the scheduler "
          f"gave up on {r['gave_up']} tasks, resubmitted by the sweep), wall time "
          f"{r['wall_time_s']} s "
          f"(local reference {r['local_wall_time_s']} s), lost {len(r['lost'])}, duplicated "
          f"{len(r['duplicated'])}, differing from local {len(r['differ'])} of {r['compared']} "
          f"compared; second "
          f"invocation: {r['second_stderr'].splitlines()[0] if r['second_stderr'] else ''}")
    print(json.dumps({k: (len(v) if isinstance(v, list) else v) for k, v in r.items()
                      if not k.endswith("stderr")}))
    return 0 if not (r["lost"] or r["duplicated"] or r["differ"]) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Speed and memory of the bandit simulator (issue 7): plain loop vs numpy vs the library.

Workload: stochastic on-policy REINFORCE with the shared-bias softmax (Sec. 2, App. A),
eta = 0.1, fixed work (no early stop), K = n = 2 and K = n = 8. The unit is run-updates per
second (one update = one sample per context). Rates do not depend on the number of runs
for the plain loop (runs are independent and simulated one after the other), so it is timed
on a subset of the runs; the numpy and library versions are timed with all 10k runs.

Also measured: 16 runs of K = n = 8 for 1e6 updates (per-step overhead), peak memory
(resident set of a fresh process) for 10k runs x 1e6 updates against 10k runs x 1e3 updates,
and the extremes K = n = 32, eta = 10, 1e6 updates (finite results).

Before and after: the library of another git revision (``--before REV``, default ``main``)
is timed in the same run, alternating with this one (fresh processes, best of two each), and
both are compared with the machine's arithmetic bound, a compiled loop of the same float32
arithmetic per run-update (the softmax with the kernel's ``exp`` and the shared-bias step,
vectorised over runs, no random numbers or bookkeeping). The remedies' rules
(:mod:`rayint_lib.model.remedies`, REINFORCE) are timed at 2x2 for comparison.

Usage: ``python benchmarks/simulator.py [--tiny] [--no-memory] [--before REV]``; ``make bench``
runs it. The last line printed is a JSON object (``updates_per_s``, ``library_vs_plain_2x2``,
``library_vs_plain_8x8``, ``before_after``, ...).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from numba import njit, prange

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rayint_lib.model.config import BanditConfig  # noqa: E402
from rayint_lib.model.kernel import _exp_f32  # noqa: E402
from rayint_lib.model.remedies import Method, run_method  # noqa: E402
from rayint_lib.model.simulate import simulate  # noqa: E402

ETA = 0.1


def plain_loop(K, n, runs, updates, seed=0):
    """Per-run Python loop over lists: softmax, categorical draw, REINFORCE step on (W, b)."""
    rnd = random.Random(seed)
    for _ in range(runs):
        W = [[rnd.gauss(0.0, 1.0) for _ in range(K)] for _ in range(n)]   # W[a][k]
        b = [rnd.gauss(0.0, 1.0) for _ in range(n)]
        for _ in range(updates):
            dW = []
            db = [0.0] * n
            for k in range(K):
                logits = [W[a][k] + b[a] for a in range(n)]
                m = max(logits)
                e = [math.exp(x - m) for x in logits]
                s = sum(e)
                pi = [x / s for x in e]
                u, a, acc = rnd.random(), 0, pi[0]
                while u >= acc and a < n - 1:
                    a += 1
                    acc += pi[a]
                if a == k:                          # reward 1 only for the right arm
                    g = [(1.0 if j == k else 0.0) - pi[j] for j in range(n)]
                    dW.append((k, g))
                    for j in range(n):
                        db[j] += g[j]
            for k, g in dW:
                for j in range(n):
                    W[j][k] += ETA * g[j]
            for j in range(n):
                b[j] += ETA * db[j]
    return runs * updates


def numpy_straightforward(K, n, runs, updates, seed=0):
    """Straightforward numpy over ``[runs, K, n]`` (float64, categorical draws)."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((runs, K, n))
    b = rng.standard_normal((runs, n))
    eye = np.eye(K, n)
    for _ in range(updates):
        logits = W + b[:, None, :]
        z = np.exp(logits - logits.max(axis=-1, keepdims=True))
        pi = z / z.sum(axis=-1, keepdims=True)
        u = rng.random((runs, K, 1))
        a = (u < pi.cumsum(axis=-1)).argmax(axis=-1)
        r = (a == np.arange(K)).astype(float)
        g = r[..., None] * (eye - pi)
        W += ETA * g
        b += ETA * g.sum(axis=1)
    return runs * updates


def library(K, n, runs, updates, seed=0):
    """``rayint_lib.model.simulate`` (the compiled path); counts the updates actually done."""
    cfg = BanditConfig(K=K, n=n, eta=ETA, n_runs=runs, max_samples=updates * K, seed=seed,
                       solved_margin=1e-6)
    res = simulate(cfg)
    done = int(res.stop_step.sum())
    if done != runs * updates:
        print(f"note: {runs * updates - done} run-updates skipped by early stops", file=sys.stderr)
    return done, res


@njit(cache=True, parallel=True)
def _bound_loop(x, updates, eta):
    """The kernel's essential float32 arithmetic on blocks ``x`` ``[blocks, K, n, B]``."""
    for ib in prange(x.shape[0]):
        L = x[ib]
        K, n, B = L.shape
        e = np.empty((K, n, B), np.float32)
        inv = np.empty(B, np.float32)
        m = np.empty(B, np.float32)
        bias = np.zeros((n, B), np.float32)
        for _ in range(updates):
            for k in range(K):
                for i in range(B):
                    m[i] = L[k, 0, i]
                    inv[i] = 0
                for a in range(1, n):
                    for i in range(B):
                        m[i] = max(m[i], L[k, a, i])
                for a in range(n):
                    for i in range(B):
                        e[k, a, i] = _exp_f32(L[k, a, i] - m[i])
                        inv[i] += e[k, a, i]
                for i in range(B):
                    inv[i] = np.float32(1) / inv[i]
                for a in range(n):
                    for i in range(B):
                        g = e[k, a, i] * inv[i]
                        bias[a, i] -= g
                        L[k, a, i] += eta * (bias[a, i] - g)
    return x


def arithmetic_bound(K, n, runs, updates):
    """Run-updates per second of the kernel's essential float32 arithmetic: per context a
    row max, ``n`` exps (the kernel's vectorisable ``exp``), a sum, a reciprocal, and the
    shared-bias step on every logit, on blocks of 512 runs in parallel."""
    B = 512
    x = np.zeros((max(1, runs // B), K, n, B), np.float32)
    _bound_loop(x[:1], 1, np.float32(ETA))
    t0 = time.perf_counter()
    _bound_loop(x, updates, np.float32(ETA))
    return x.shape[0] * B * updates / (time.perf_counter() - t0)


_RATE = (
    "import sys, time; sys.path.insert(0, %r)\n"
    "from rayint_lib.model.config import BanditConfig\n"
    "from rayint_lib.model.simulate import simulate\n"
    "def run(K, R, T):\n"
    "    cfg = BanditConfig(K=K, n=K, eta=0.1, n_runs=R, max_samples=T * K, solved_margin=1e-6)\n"
    "    t0 = time.perf_counter(); r = simulate(cfg)\n"
    "    return r.stop_step.sum() / (time.perf_counter() - t0)\n"
    "from rayint_lib.model.remedies import Method, run_method\n"
    "def rule(R, T):\n"
    "    t0 = time.perf_counter()\n"
    "    r = run_method(Method('reinforce'), n_runs=R, max_samples=2 * T, solved_margin=1e-6)\n"
    "    return r.stop_step.sum() / (time.perf_counter() - t0)\n"
    "run(2, 8, 10); run(8, 8, 10); rule(8, 10)\n"
    "print(run(2, %d, %d), run(8, %d, %d), rule(%d, %d))\n")


def revision_tree(rev) -> Path:
    """A folder holding ``rayint_lib`` as git revision ``rev`` has it (extracted once, kept
    with its numba cache in the temporary folder)."""
    root = Path(__file__).resolve().parents[1]
    commit = subprocess.run(["git", "-C", str(root), "rev-parse", rev], capture_output=True,
                            text=True, check=True).stdout.strip()
    old = Path(tempfile.gettempdir()) / f"rayint-bench-{commit}"     # kept: numba's cache
    if not old.exists():
        archive = subprocess.run(["git", "-C", str(root), "archive", commit, "rayint_lib"],
                                 capture_output=True, check=True).stdout
        old.mkdir()
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    return old


def before_after(rev, plan, rule_plan, rounds=2):
    """Run-updates/s of the library at 2x2 and 8x8 and of the remedies' REINFORCE rule at
    2x2 (``rule_plan``: runs, updates), for revision ``rev`` and this tree, each in fresh
    processes, alternating, best of ``rounds``: ``{"before": {...}, "after": {...}}``."""
    root = Path(__file__).resolve().parents[1]
    best = {name: {"2x2": 0.0, "8x8": 0.0, "rule_2x2": 0.0} for name in ("before", "after")}
    old = revision_tree(rev)
    for _ in range(rounds):
        for name, path in (("before", str(old)), ("after", str(root))):
            code = _RATE % (path, *plan[2]["library"], *plan[8]["library"], *rule_plan)
            out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                 text=True, check=True).stdout.split()
            for size, rate in zip(("2x2", "8x8", "rule_2x2"), out):
                best[name][size] = max(best[name][size], float(rate))
    return best


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def measure_memory(K, runs, updates):
    """Memory of ``simulate`` for ``runs x updates`` in a fresh process (MiB).

    ``traced_peak_mib``: peak of the numpy allocations during the call (tracemalloc: the
    initial logits, the outputs, the curves); ``kernel_scratch_mib``: the compiled kernel's
    per-block state (allocated outside tracemalloc's view, computed from the block sizes:
    8 arrays of ``[K, n, B]`` or ``[K, B]`` floats and a few ``[B]``, one block per thread at a
    time); ``rss_*``: resident set of the process before the call (after imports and the
    compiled kernels are loaded) and its peak after the call.
    """
    code = (
        "import resource, sys, time, tracemalloc; sys.path.insert(0, %r)\n"
        "import numba\n"
        "from rayint_lib.model.config import BanditConfig\n"
        "from rayint_lib.model.kernel import block_size\n"
        "from rayint_lib.model.simulate import simulate\n"
        "simulate(BanditConfig(K=%d, n=%d, n_runs=8, max_samples=%d))\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "tracemalloc.start()\n"
        "t = time.perf_counter()\n"
        "r = simulate(BanditConfig(K=%d, n=%d, n_runs=%d, max_samples=%d, solved_margin=1e-6))\n"
        "dt = time.perf_counter() - t\n"
        "traced = tracemalloc.get_traced_memory()[1]\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "K, n, R = %d, %d, %d\n"
        "B = block_size(K, n, R)\n"
        "scratch = numba.get_num_threads() * 4 * B * (3 * K * n + 6 * K + n + 13)\n"
        "print(base / 1024, peak / 1024, dt, int(r.stop_step.sum()), r.curves.nbytes / 2**20, "
        "traced / 2**20, scratch / 2**20)\n"
    ) % (str(Path(__file__).resolve().parents[1]), K, K, 10 * K, K, K, runs, updates * K, K, K,
         runs)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    base, peak, dt, done, curves_mib, traced, scratch = out.stdout.split()
    return {"runs": runs, "updates": updates, "K": K, "rss_before_mib": round(float(base), 1),
            "rss_peak_mib": round(float(peak), 1), "traced_peak_mib": round(float(traced), 1),
            "kernel_scratch_mib": round(float(scratch), 3),
            "curves_mib": round(float(curves_mib), 1),
            "seconds": round(float(dt), 2), "run_updates_done": int(done)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="tiny sizes (smoke test)")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    ap.add_argument("--before", default=None,
                    help="git revision timed as 'before' (default main; none with --tiny)")
    args = ap.parse_args(argv)
    import numba

    runs = 64 if args.tiny else 10_000
    # (runs, updates) per implementation and size: about 1-3 s each on 2 cores
    plan = {
        2: {"plain": (4, 50) if args.tiny else (200, 1000),
            "numpy": (runs, 20) if args.tiny else (runs, 150),
            "library": (runs, 100) if args.tiny else (runs, 20_000)},
        8: {"plain": (2, 20) if args.tiny else (60, 500),
            "numpy": (runs, 5) if args.tiny else (runs, 50),
            "library": (runs, 50) if args.tiny else (runs, 2_000)},
    }
    library(2, 2, 8, 10)     # load the compiled kernels (cache) before timing
    library(8, 8, 8, 10)
    p2_runs, p2_updates = (64, 100) if args.tiny else (2000, 20_000)
    run_method(Method("reinforce"), K=2, n=2, n_runs=8, max_samples=20)
    rates = {}
    rows = []
    for K, p in plan.items():
        size = f"{K}x{K}"
        for name, fn in (("plain", plain_loop), ("numpy", numpy_straightforward),
                         ("library", library)):
            r, u = p[name]
            out, dt = timed(fn, K, K, r, u)
            done = out[0] if name == "library" else out
            rates.setdefault(name, {})[size] = done / dt
            rows.append((name, size, r, u, dt, done / dt))

    bound = {f"{K}x{K}": arithmetic_bound(K, K, p["library"][0], p["library"][1] // 4)
             for K, p in plan.items()}
    before = args.before or (None if args.tiny else "main")
    compared = before_after(before, plan, (p2_runs, p2_updates)) if before else None
    rule_out, rule_s = timed(lambda: run_method(Method("reinforce"), K=2, n=2, n_runs=p2_runs,
                                                max_samples=2 * p2_updates, solved_margin=1e-6))
    rule_rate = rule_out.stop_step.sum() / rule_s

    long_updates = 100 if args.tiny else 10**6
    long_cfg = BanditConfig(K=8, n=8, eta=ETA, n_runs=16, max_samples=8 * long_updates,
                            solved_margin=1e-6)
    res, long_s = timed(simulate, long_cfg)
    # importance-weighted off-policy updates: the largest steps, and no early stop
    extreme_cfg = BanditConfig(K=32, n=32, eta=10.0, n_runs=2, max_samples=32 * long_updates,
                               solved_margin=1e-6, learner="off_policy",
                               off_policy_weighting="importance")
    ext, extreme_s = timed(simulate, extreme_cfg)
    extreme_finite = bool(np.isfinite(ext.curves).all())

    print(f"bandit simulator, on-policy REINFORCE, shared bias, eta={ETA}, fixed work; "
          f"{os.cpu_count()} CPUs, numba threads {numba.get_num_threads()}, "
          f"{platform.processor() or platform.machine()}")
    print()
    print("| implementation | size | runs timed | updates | seconds | run-updates/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, size, r, u, dt, rate in rows:
        print(f"| {name} | {size} | {r} | {u} | {dt:.2f} | {rate / 1e6:.3f} M |")
    ratio2 = rates["library"]["2x2"] / rates["plain"]["2x2"]
    ratio8 = rates["library"]["8x8"] / rates["plain"]["8x8"]
    print()
    print(f"library vs plain: {ratio2:.0f}x at 2x2 (target 500x), "
          f"{ratio8:.0f}x at 8x8 (target 300x)")
    print(f"16 runs of K=n=8 for {res.stop_step.min()} updates: {long_s:.2f} s (target < 10 s)")
    print("K=n=32, eta=10, importance-weighted off-policy, "
          f"2 runs x {ext.stop_step.min()} updates: {extreme_s:.2f} s, "
          f"all finite: {extreme_finite}")
    after = compared["after"] if compared else rates["library"]
    print()
    print(f"| library, K=n | before ({before}) | after | arithmetic bound | after / bound |")
    print("| --- | --- | --- | --- | --- |")
    for size in ("2x2", "8x8"):
        was = f"{compared['before'][size] / 1e6:.1f} M" if compared else "-"
        print(f"| {size} | {was} | {after[size] / 1e6:.1f} M | {bound[size] / 1e6:.1f} M | "
              f"{after[size] / bound[size]:.0%} |")
    was = f"{compared['before']['rule_2x2'] / 1e6:.2f} M before, " if compared else ""
    print(f"remedies' REINFORCE rule, 2x2: {was}{rule_rate / 1e6:.2f} M run-updates/s (per-run "
          "loop, float64)")
    summary = {
        "updates_per_s": {k: {s: round(v) for s, v in d.items()} for k, d in rates.items()},
        "library_vs_plain_2x2": round(ratio2, 1),
        "library_vs_plain_8x8": round(ratio8, 1),
        "long_16runs_8x8_seconds": round(long_s, 2),
        "long_16runs_8x8_updates": int(res.stop_step.min()),
        "extreme_32x32_eta10_finite": extreme_finite,
        "extreme_32x32_eta10_updates": int(ext.stop_step.min()),
        "before_after": compared,
        "arithmetic_bound": {k: round(v) for k, v in bound.items()},
        "after_vs_bound": {k: round(after[k] / v, 3) for k, v in bound.items()},
        "rule_reinforce_2x2": round(rule_rate),
        "numba_threads": numba.get_num_threads(),
        "tiny": args.tiny,
    }
    if not args.no_memory:
        big = measure_memory(2, 100 if args.tiny else 10_000, 100 if args.tiny else 10**6)
        small = measure_memory(2, 100 if args.tiny else 10_000, 10 if args.tiny else 1_000)
        for m in (big, small):
            print(f"memory, {m['runs']} runs x {m['updates']} updates (K=n=2, {m['seconds']} s): "
                  f"numpy peak {m['traced_peak_mib']} MiB (curves {m['curves_mib']} MiB) + kernel "
                  f"scratch {m['kernel_scratch_mib']} MiB; process RSS {m['rss_before_mib']} MiB "
                  f"before (imports, compiled code), peak {m['rss_peak_mib']} MiB after")
        summary["memory"] = {"long": big, "short": small}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

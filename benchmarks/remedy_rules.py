"""Speed of the remedies' compiled rules (Sec. 4, :mod:`rayint_lib.model.remedy_kernel`),
before and after: run-updates per CPU-second of one thread, for this tree and the library of
another git revision (``--before REV``, default ``main``), each rule in fresh processes,
the two trees alternating, best of ``--rounds``.

CPU time of one thread (``NUMBA_NUM_THREADS=1``, :func:`time.process_time`) rather than wall
time: on a machine shared with other work the ratio then measures the code, not the load.
Fixed work (no early stop). Usage: ``python benchmarks/remedy_rules.py [--before REV]
[--rounds N] [--tiny]``; the last line printed is a JSON object (``after_vs_before`` per
rule and size).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.simulator import revision_tree  # noqa: E402

_RATE = (
    "import sys, time; sys.path.insert(0, %r)\n"
    "from rayint_lib.model.remedies import Method, run_method\n"
    "def rate(kind, K, R, T):\n"
    "    m = Method(kind, eta=0.01 if kind in ('adam', 'rmsprop') else 0.1)\n"
    "    run_method(m, K=K, n=K, n_runs=8, max_samples=10 * K, solved_margin=1e-6)\n"
    "    t0 = time.process_time()\n"
    "    r = run_method(m, K=K, n=K, n_runs=R, max_samples=K * T, solved_margin=1e-6)\n"
    "    return r.stop_step.sum() / (time.process_time() - t0)\n"
    "print(*[rate(*c) for c in %r])\n")

# (rule, K = n, runs, updates): about 0.5 s each on one core
CASES = [("reinforce", 2, 300, 5000), ("adam", 2, 150, 5000), ("pcgrad", 4, 100, 2000),
         ("curriculum", 4, 100, 2000), ("natural", 4, 100, 2000)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="main", help="git revision timed as 'before'")
    ap.add_argument("--rounds", type=int, default=5, help="alternations (best of)")
    ap.add_argument("--tiny", action="store_true", help="tiny sizes (smoke test)")
    args = ap.parse_args(argv)
    cases = [(k, K, 8, 50) for k, K, _, _ in CASES] if args.tiny else CASES
    trees = {"before": str(revision_tree(args.before)),
             "after": str(Path(__file__).resolve().parents[1])}
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    best = {name: {} for name in trees}
    for _ in range(args.rounds):
        for name, path in trees.items():
            out = subprocess.run([sys.executable, "-c", _RATE % (path, cases)], env=env,
                                 capture_output=True, text=True, check=True).stdout.split()
            for (kind, K, _, _), rate in zip(cases, out):
                key = f"{kind}_{K}x{K}"
                best[name][key] = max(best[name].get(key, 0.0), float(rate))
    for key in best["after"]:
        print(f"{key:16s} before {best['before'][key] / 1e6:6.2f} M/s, after "
              f"{best['after'][key] / 1e6:6.2f} M/s per CPU-second")
    ratio = {key: round(best["after"][key] / best["before"][key], 3) for key in best["after"]}
    print(json.dumps({"before": args.before, "run_updates_per_cpu_s": best,
                      "after_vs_before": ratio}))


if __name__ == "__main__":
    main()

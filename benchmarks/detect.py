"""Speed and memory of ``rayint detect`` end to end (issue 18, item 7): 1,000 runs x 2,000
points in one long CSV (``run,step,value``, about 38 MB), against pandas reading the same
file, measured in the same run.

The curves are noisy episode returns (Gaussian noise 20% of the progress) around staircases
(half the runs, one plateau each) and smooth sigmoids, so that the trend, the plateau search
and the bootstrap intervals all do their work. ``detect_vs_pandas_read`` is the wall time
of reading the file with the library's reader and detecting (JSON built, as ``--json``
does) over the time ``pandas.read_csv`` takes for the same file; the target is at most 10.
``peak_mb`` is the peak resident memory of a child process that does the same,
``working_mb`` that peak less the memory after its imports (python, numpy, pandas), next to
``numeric_mb`` (the steps and values as float64).

Usage: ``python benchmarks/detect.py [--tiny]``; the last line printed is JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rayint_lib import logs  # noqa: E402
from rayint_lib.model import detection  # noqa: E402


def write_csv(path: Path, runs: int, points: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.arange(1, points + 1) * 500
    span = t[-1]
    with open(path, "w") as f:
        f.write("run,step,value\n")
        for r in range(runs):
            if r % 2:
                y = 1 / (1 + np.exp(-(t - 0.5 * span) / (0.12 * span)))
            else:
                a, b = rng.uniform(0.1, 0.3), rng.uniform(0.55, 0.8)
                y = 0.5 / (1 + np.exp(-(t - a * span) / (0.01 * span))) + \
                    0.5 / (1 + np.exp(-(t - b * span) / (0.01 * span)))
            y = 100 * (y + rng.normal(0, 0.2, points))
            f.write("".join(f"seed{r},{s},{v:.4f}\n" for s, v in zip(t, y)))


def detect_file(path: Path) -> dict:
    table = logs.read([path])
    result = detection.detect(table.steps, table.values, table.runs, run_names=table.run_names)
    return result.to_dict()


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak():
    """Start the peak afresh (a forked child inherits its parent's high-water mark)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="50 runs x 500 points (a check)")
    parser.add_argument("--child", metavar="CSV", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:                  # peak memory: after the imports, and at the end
        reset_peak()
        base = peak_rss_mb()
        detect_file(Path(args.child))
        print(base, peak_rss_mb())
        return None
    runs, points = (50, 500) if args.tiny else (1000, 2000)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "curves.csv"
        write_csv(path, runs, points)
        size_mb = path.stat().st_size / 2**20
        t0 = time.perf_counter()
        pd.read_csv(path)
        t_pandas = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = detect_file(path)
        t_detect = time.perf_counter() - t0
        t0 = time.perf_counter()                  # pandas again: the load may have changed
        pd.read_csv(path)
        t_pandas = min(t_pandas, time.perf_counter() - t0)
        child = subprocess.run([sys.executable, __file__, "--child", str(path)],
                               capture_output=True, text=True, check=True)
        base, peak = map(float, child.stdout.strip().splitlines()[-1].split())
    numeric_mb = runs * points * 2 * 8 / 2**20
    print(f"{runs} runs x {points} points ({size_mb:.1f} MB CSV): pandas read {t_pandas:.2f} s, "
          f"detect end to end {t_detect:.2f} s, ratio {t_detect / t_pandas:.3g}; "
          f"peak memory {peak:.0f} MB, {peak - base:.0f} MB above the {base:.0f} MB of python and "
          f"the libraries (numeric data {numeric_mb:.0f} MB); runs with plateaus "
          f"{out['runs_with_plateaus']}")
    result = {"runs": runs, "points": points, "csv_mb": size_mb, "pandas_read_s": t_pandas,
              "detect_s": t_detect, "detect_vs_pandas_read": t_detect / t_pandas,
              "target_ratio": 10, "peak_mb": peak, "imports_mb": base,
              "working_mb": peak - base, "numeric_mb": numeric_mb,
              "runs_with_plateaus": out["runs_with_plateaus"], "cpus": os.cpu_count(),
              "load_1min": os.getloadavg()[0], "machine": platform.machine()}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()

"""Rates behind the time estimates of the JAX trainers (issue 22), stored as constants in
``rayint_lib/chapters/deep_rl.py`` (``MLP_RATE``, ``AGENT_RATE``).

For each trainer the wall time of a fixed amount of work (no early stop, compilation excluded
by a warm-up call) is measured at a small and a large network, and fitted as
``seconds = work x (a + b x parameters)``: work is run-updates for the MLP bandit (K samples
each) and seed-environment-steps for the actor-critic. Prints ``a`` and ``b`` per trainer;
the last line printed is JSON.

Usage: ``python benchmarks/deep_rates.py [--tiny]``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rayint_lib.model.deep import agent  # noqa: E402
from rayint_lib.model.deep import bandit as db  # noqa: E402
from rayint_lib.model.deep.policies import n_parameters  # noqa: E402


def _fit(points):
    """``(a, b)`` of ``seconds_per_unit = a + b x parameters`` through two points."""
    (p1, s1), (p2, s2) = points
    b = max((s2 - s1) / (p2 - p1), 0.0)
    return max(s1 - b * p1, 0.0), b


def mlp_points(runs, updates, widths):
    out = []
    for width in widths:
        spec = db.MLPBanditSpec(depth=2, width=width, max_samples=2 * updates,
                                solved_margin=1e-6, n_checkpoints=5)
        db.simulate_mlp(spec, runs, 0)                           # compile
        t0 = time.perf_counter()
        db.simulate_mlp(spec, runs, 1)
        P = n_parameters(spec.K, spec.n, spec.depth, spec.width)
        out.append((P, (time.perf_counter() - t0) / (runs * updates)))
    return out


def agent_points(seeds, n_updates, widths):
    out = []
    for width in widths:
        spec = agent.AgentSpec(width=width, n_updates=n_updates, solved_margin=1e-9,
                               n_checkpoints=5)
        agent.train(spec, seeds, 0)                              # compile
        t0 = time.perf_counter()
        agent.train(spec, seeds, 1)
        P = n_parameters(spec.env.obs_dim, agent.n_outputs(spec), spec.depth, spec.width)
        out.append((P, (time.perf_counter() - t0) / (seeds * n_updates
                                                    * spec.env_steps_per_update)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="a few seconds (for the tests)")
    args = ap.parse_args(argv)
    size = (8, 40) if args.tiny else (64, 2000)
    mlp = _fit(mlp_points(*size, widths=(16, 256)))
    ag = _fit(agent_points(size[0], max(10, size[1] // 20), widths=(16, 256)))
    print(f"MLP bandit: seconds per run-update = {mlp[0]:.3g} + {mlp[1]:.3g} x parameters")
    print(f"actor-critic: seconds per seed-env-step = {ag[0]:.3g} + {ag[1]:.3g} x parameters")
    result = {"mlp_rate": mlp, "agent_rate": ag, "cpus": os.cpu_count(),
              "load_1min": os.getloadavg()[0]}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()

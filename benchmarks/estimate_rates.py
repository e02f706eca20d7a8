"""Rates behind the time estimates of the chapters' validators (issue 22), stored as
constants next to them: ``MLP_RATE`` and ``AGENT_RATE`` (``chapters/deep_rl.py``),
``GRID_SECONDS`` and ``ORBIT_SECONDS`` (``chapters/minimal_bandit.py``), ``RUN_STEP_SECONDS``
(``chapters/deep_linear.py``), ``GRID_SECONDS`` and ``SUP_SECONDS`` (``chapters/appendix_b.py``).

For each JAX trainer the wall time of a fixed amount of work (no early stop, compilation
excluded by a warm-up call) is measured at a small and a large network, and fitted as
``seconds = work x (a + b x parameters)``: work is run-updates for the MLP bandit (K samples
each) and seed-environment-steps for the actor-critic. The other parts are timed at small
sizes, per unit of work (grid cell, orbit start, run-step): fixed costs weigh most there, so
these are upper rates for larger sizes. The last line printed is JSON.

Usage: ``python benchmarks/estimate_rates.py [--tiny]``.
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


def _per_unit(fn, units, *args):
    fn(*args)                                                    # caches, first calls
    t0 = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t0) / units


def chapter_rates(tiny):
    """Seconds per unit of the orbit, grid and deep-linear parts of chapters 01, 04, 06."""
    from rayint_lib.chapters import appendix_b as b
    from rayint_lib.chapters import deep_linear as d
    from rayint_lib.chapters import minimal_bandit as m

    g, o, runs = (20, 6, 2) if tiny else (40, 10, 4)
    return {"01_grid_cell": _per_unit(m.basins, g * g, g),
            "01_orbit_start": _per_unit(m.wta_exit_check, o * o, o)
            + _per_unit(m.tabular_basins, o * o, o),
            "04_run_step": _per_unit(d.run_chapter, runs * 500,
                                     d.validate(n_runs=runs, n_steps=500)),
            "06_grid_cell_level": _per_unit(b.b3_basins, g * g, [0.1], g),
            "06_sup_start": _per_unit(b.b5_supervised, o * o, o)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="a few seconds (for the tests)")
    args = ap.parse_args(argv)
    size = (8, 40) if args.tiny else (64, 2000)
    mlp = _fit(mlp_points(*size, widths=(16, 256)))
    ag = _fit(agent_points(size[0], max(10, size[1] // 20), widths=(16, 256)))
    print(f"MLP bandit: seconds per run-update = {mlp[0]:.3g} + {mlp[1]:.3g} x parameters")
    print(f"actor-critic: seconds per seed-env-step = {ag[0]:.3g} + {ag[1]:.3g} x parameters")
    parts = chapter_rates(args.tiny)
    for k, v in parts.items():
        print(f"{k}: {v:.3g} s")
    result = {"mlp_rate": mlp, "agent_rate": ag, **parts, "cpus": os.cpu_count(),
              "load_1min": os.getloadavg()[0]}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()

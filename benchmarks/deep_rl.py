"""Speed of the JAX trainers (issue 13): vmapped seeds vs a loop over seeds, and the MLP
bandit vs the library's linear kernel.

1. Environment steps per second of the actor-critic on the multi-room task (K = 2, 5 x 5
   rooms, horizon 10, torso 1 x 32, 16 episodes per update): all seeds in one vmapped,
   jitted run, against the same jitted single-seed trainer called once per seed; the ratio
   ``vmap_vs_loop`` is measured in one run. Compilation is excluded (one warm-up call each).
2. Run-updates per second of the MLP bandit (depth 0 and depth 2 x 64) against the numba
   linear kernel (``model.simulate``), all without early stop.

Usage: ``python benchmarks/deep_rl.py [--tiny]``; the last line printed is JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import jax

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rayint_lib.model.config import BanditConfig  # noqa: E402
from rayint_lib.model.deep import agent  # noqa: E402
from rayint_lib.model.deep import bandit as db  # noqa: E402
from rayint_lib.model.simulate import simulate  # noqa: E402


def _block(x):
    return jax.block_until_ready(x)


def agent_speed(seeds, n_updates):
    """Env steps / s, vmapped and looped (fixed work: solved_margin tiny, no early stop)."""
    spec = agent.AgentSpec(n_updates=n_updates, solved_margin=1e-9, n_checkpoints=5)
    params = agent.init_params(spec, seeds, 0)
    keys = agent.run_keys(0, seeds)
    _block(agent.run_batch(spec, params, keys))                  # compile
    t0 = time.perf_counter()
    _block(agent.run_batch(spec, params, keys))
    t_vmap = time.perf_counter() - t0
    one = [jax.tree_util.tree_map(lambda x, i=i: x[i], params) for i in range(seeds)]
    _block(agent.train_one(spec, one[0], keys[0]))               # compile
    t0 = time.perf_counter()
    for i in range(seeds):
        _block(agent.train_one(spec, one[i], keys[i]))
    t_loop = time.perf_counter() - t0
    steps = seeds * n_updates * spec.env_steps_per_update
    return steps / t_vmap, steps / t_loop


def bandit_speed(runs, updates):
    """Run-updates / s of the MLP bandit (no early stop) and of the linear kernel."""
    out = {}
    for depth, width in ((0, 1), (2, 64)):
        spec = db.MLPBanditSpec(depth=depth, width=width, max_samples=2 * updates,
                                solved_margin=1e-6, n_checkpoints=5)
        db.simulate_mlp(spec, runs, 0)                           # compile
        t0 = time.perf_counter()
        db.simulate_mlp(spec, runs, 1)
        out[f"mlp_depth{depth}_width{width}"] = runs * updates / (time.perf_counter() - t0)
    cfg = BanditConfig(n_runs=runs, max_samples=2 * updates, solved_margin=1e-6)
    simulate(cfg.replace(n_runs=8))                              # compile
    t0 = time.perf_counter()
    simulate(cfg)
    out["linear_kernel"] = runs * updates / (time.perf_counter() - t0)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="a few seconds (for the tests)")
    args = ap.parse_args(argv)
    seeds, updates = (8, 20) if args.tiny else (256, 200)
    b_runs, b_updates = (16, 200) if args.tiny else (256, 5000)
    vmap_rate, loop_rate = agent_speed(seeds, updates)
    print(f"actor-critic, {seeds} seeds x {updates} updates: vmapped {vmap_rate:.3g} env "
          f"steps/s, looped {loop_rate:.3g} env steps/s, ratio {vmap_rate / loop_rate:.3g}")
    bs = bandit_speed(b_runs, b_updates)
    for k, v in bs.items():
        print(f"bandit {k}: {v:.3g} run-updates/s ({b_runs} runs x {b_updates} updates)")
    result = {"seeds": seeds, "env_steps_per_s_vmap": vmap_rate,
              "env_steps_per_s_loop": loop_rate, "vmap_vs_loop": vmap_rate / loop_rate,
              **{f"bandit_{k}_run_updates_per_s": v for k, v in bs.items()},
              "mlp_depth2_vs_linear_kernel": bs["mlp_depth2_width64"] / bs["linear_kernel"],
              "backend": jax.default_backend(), "cpus": os.cpu_count(),
              "load_1min": os.getloadavg()[0], "machine": platform.machine()}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()

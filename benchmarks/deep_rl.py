"""Speed of the JAX trainers (issues 13 and 20): the book's PPO against a PureJaxRL-style
peer, the actor-critic, and the MLP bandit vs the library's linear kernel.

1. Environment steps per second of the book's PPO trainer (``model.deep.ppo``, shared
   network, with its in-run measures: exact J_k and gradient cosines at the checkpoints)
   against ``benchmarks/purejaxrl_peer.py`` (a single-file PPO written as PureJaxRL writes
   it), on the same CPU, the same multi-task DeepSea (K = 2, size 8) and the same network
   (actor and critic 2 x 64 ReLU), with the same seeds (a vmap axis in both), environments,
   steps per update, epochs and minibatches; the ratio ``trainer_vs_peer`` is measured in
   one run: one warm-up call each (compilation excluded), then ``--repeats`` rounds that
   call the two in turn, each side timed on its best call.
2. Environment steps per second of the actor-critic on the multi-room task (K = 2, 5 x 5
   rooms, horizon 10, torso 1 x 32, 16 episodes per update), all seeds in one vmapped,
   jitted run.
3. Run-updates per second of the MLP bandit (depth 0 and depth 2 x 64) against the numba
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

# jaxlib 0.10's batched QR (the peer's orthogonal initialiser, under vmap) waits inside the
# intra-op thread pool for tasks it queued on that pool; XLA's default scheduler runs the
# peer's independent QR calls at once, and on 2 cores both pool threads then wait forever
# (native stacks: lapack_sgeqrf_ffi -> ParallelBatchMap -> BlockingCounter::Wait, the
# process idle in block_until_ready). The other scheduler does not run them together:
# 0 hangs in 9 tries against a hang in nearly every try. It is set for both sides alike.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " "
                           "--xla_cpu_enable_concurrency_optimized_scheduler=false").strip()

import jax  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rayint_lib.model.config import BanditConfig  # noqa: E402
from rayint_lib.model.deep import agent, multitask, ppo  # noqa: E402
from rayint_lib.model.deep import bandit as db  # noqa: E402
from rayint_lib.model.simulate import simulate  # noqa: E402


def _block(x):
    return jax.block_until_ready(x)


def _best_times(fns, repeats):
    """Best wall time of each of ``fns`` over ``repeats`` rounds, after one warm-up
    (compile) call each; the calls alternate within a round, so that a change of load on a
    shared machine hits every side alike."""
    for fn in fns:
        _block(fn())
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            _block(fn())
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def trainer_vs_peer(seeds, n_updates, repeats):
    """Env steps / s of the book's PPO and of the PureJaxRL-style peer, same settings."""
    import purejaxrl_peer

    env = multitask.MultiTaskParams(K=2, size=8)
    spec = ppo.PPOSpec(env=env, n_updates=n_updates, n_checkpoints=min(20, n_updates + 1))
    params = jax.device_put(ppo.init_params(spec, seeds, 0))
    keys = ppo.run_keys(0, seeds)
    trainer = ppo.compiled(spec)
    steps = seeds * n_updates * spec.env_steps_per_update
    config = purejaxrl_peer.default_config(env, n_updates * spec.env_steps_per_update)
    assert (config["NUM_ENVS"], config["NUM_STEPS"]) == (spec.num_envs, spec.num_steps)
    peer = jax.jit(jax.vmap(purejaxrl_peer.make_train(config)))
    assert config["NUM_UPDATES"] == n_updates
    tables = ppo.no_teachers(spec, seeds)
    t_trainer, t_peer = _best_times([lambda: trainer(params, keys, 0.0, tables),
                                     lambda: peer(keys)], repeats)
    return steps / t_trainer, steps / t_peer


def agent_speed(seeds, n_updates):
    """Env steps / s of the actor-critic, vmapped (fixed work: no early stop)."""
    spec = agent.AgentSpec(n_updates=n_updates, solved_margin=1e-9, n_checkpoints=5)
    params = agent.init_params(spec, seeds, 0)
    keys = agent.run_keys(0, seeds)
    t, = _best_times([lambda: agent.run_batch(spec, params, keys)], 1)
    return seeds * n_updates * spec.env_steps_per_update / t


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
    ap.add_argument("--repeats", type=int, default=5, help="timed rounds (best of each side)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    seeds, updates = (4, 4) if args.tiny else (16, 100)
    ac_seeds, ac_updates = (8, 20) if args.tiny else (256, 200)
    b_runs, b_updates = (16, 200) if args.tiny else (256, 5000)
    trainer_rate, peer_rate = trainer_vs_peer(seeds, updates, 1 if args.tiny else args.repeats)
    print(f"PPO, multi-task DeepSea, {seeds} seeds x {updates} updates: book trainer "
          f"{trainer_rate:.3g} env steps/s, PureJaxRL-style peer {peer_rate:.3g} env steps/s, "
          f"ratio {trainer_rate / peer_rate:.3g}")
    ac_rate = agent_speed(ac_seeds, ac_updates)
    print(f"actor-critic, {ac_seeds} seeds x {ac_updates} updates: {ac_rate:.3g} env steps/s")
    bs = bandit_speed(b_runs, b_updates)
    for k, v in bs.items():
        print(f"bandit {k}: {v:.3g} run-updates/s ({b_runs} runs x {b_updates} updates)")
    result = {"seeds": seeds, "ppo_env_steps_per_s_trainer": trainer_rate,
              "ppo_env_steps_per_s_peer": peer_rate,
              "trainer_vs_peer": trainer_rate / peer_rate,
              "actor_critic_env_steps_per_s": ac_rate,
              **{f"bandit_{k}_run_updates_per_s": v for k, v in bs.items()},
              "mlp_depth2_vs_linear_kernel": bs["mlp_depth2_width64"] / bs["linear_kernel"],
              "backend": jax.default_backend(), "cpus": os.cpu_count(),
              "load_1min": os.getloadavg()[0], "machine": platform.machine()}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()

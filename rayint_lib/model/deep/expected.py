"""Exact expected-update learners on the multi-task DeepSea problem: the paper's control for
coupling without sampling (Sec. 3.3: off-policy learning from a fixed distribution,
``f_k = const``), and its on-policy pair.

No environment is stepped. At each step the learner's exact expected REINFORCE update of
``J = sum_k J_k`` (:func:`.measures.expected_update` on each task's one successful path,
:func:`.multitask.success_path`) moves the shared actor through PPO's own optimiser and step
size (:func:`.ppo.optimizer`: global gradient-norm clip, Adam): from fixed uniform-random data
the update is ``2^-N sum_k sum_r grad log pi(right | k, r, r)`` (every task weighted alike,
however well it is solved), on-policy it is ``grad J`` itself (task ``k`` weighted by ``J_k``:
coupling). The two differ in the weights only, so their difference is that of coupling alone.
The objective is the success probability (no move costs, no entropy bonus, no critic). The
learner takes as many optimiser steps per PPO update as PPO does (``update_epochs x
num_minibatches``) and is measured at PPO's checkpoints, like :func:`.ppo.train`.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..config import check_int
from . import measures as ms
from . import multitask as mt
from . import ppo
from .policies import apply


def _run_one(actor, uniform, spec: ppo.PPOSpec):
    """One learner's measures at the checkpoints; ``uniform``: a traced bool."""
    obs, target = (jnp.asarray(x) for x in mt.success_path(spec.env))
    logits_fn = lambda a: apply(a, obs, spec.env.K)  # noqa: E731
    opt = ppo.optimizer(spec)
    mix = jnp.where(uniform, 1.0, 0.0)
    per_update = spec.update_epochs * spec.num_minibatches

    def step(_, c):
        a, s = c
        g = ms.expected_update(logits_fn, a, target, mix)
        upd, s = opt.update(jax.tree_util.tree_map(jnp.negative, g), s, a)
        return optax.apply_updates(a, upd), s

    def update(_, c):
        return jax.lax.fori_loop(0, per_update, step, c)

    def measure(c):
        J, R = ppo.exact(spec, c[0])
        return (J, R, ppo.gradient_cosine(spec, c[0]),
                ppo.coupling_ratio(spec, c[0], mix))

    return ppo.checkpointed(update, measure, (actor, opt.init(actor)), spec.steps)[1]


@lru_cache(maxsize=16)
def compiled(spec: ppo.PPOSpec):
    """The jitted learner, vmapped over seeds: ``(actors, uniform) -> (J, R, cos,
    coupling)``."""
    return jax.jit(jax.vmap(lambda a, u: _run_one(a, u, spec), in_axes=(0, None)))


def train(spec: ppo.PPOSpec, n_runs: int, seed: int = 0, uniform: bool = True) -> ppo.PPORuns:
    """``n_runs`` exact learners from the shared actors :func:`.ppo.train` starts from (the
    same seeds), on uniform data or on-policy; recorded as PPO's runs are."""
    check_int("n_runs", n_runs, 1)
    check_int("seed", seed, 0)
    spec = replace(spec, separate=False, behaviour="uniform" if uniform else "on_policy")
    actor, _ = ppo.init_params(spec, n_runs, seed)
    J, R, cos, coupling = (np.asarray(x, np.float64) for x in compiled(
        replace(spec, behaviour="on_policy"))(actor, jnp.bool_(uniform)))
    return ppo.PPORuns(spec, spec.steps, J, R, cos, coupling)

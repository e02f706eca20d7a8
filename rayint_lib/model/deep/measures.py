"""Interference and coupling of a network policy on a task whose reward lies at the end of
one path of ``length`` steps (Sec. 3.3; the paper's rho of Sec. 2.2 and f_k(J_k) of Sec. 3.1),
from exact per-room gradients: the K-room corridor (:mod:`.rooms`, 4 actions, a wrong key
ends the episode) and K DeepSea tasks (:mod:`.multitask`, 2 actions, the treasure only at the
end of the all-right diagonal).

For room ``k`` the expected update of a learner is a weighted sum of the score of its targets,
``g_k = sum_c w_{k,c} grad log pi(key_{k,c} | k, c)``, with the weights held fixed:

* RL (REINFORCE from behaviour ``b = (1 - m) pi + m / A`` over ``A`` actions, no importance
  weights): only the successful path carries reward, so ``w_{k,c} = prod_c' b(key_{k,c'})``,
  the behaviour's chance of success. On-policy (``m = 0``) this is ``J_k`` and
  ``g_k = grad J_k`` exactly;
* supervised imitation at the visited states: ``w_{k,c} = prod_{c' < c} b(key_{k,c'})``, the
  behaviour's chance of reaching cell ``c``.

*Interference* is the cosine between the rooms' ``g_k`` over the parameters (mean over pairs
of rooms; exactly 0 for separate networks, whose gradients live on disjoint parameters).
*Coupling* is ``|g_k|`` relative to the same learner's ``|g_k|`` under fixed uniform data
(``m = 1``) at the same parameters: for on-policy RL it is ``J_k / A^-length``, so a value
near 0 at low ``J_k`` is ``f_k(0) ~ 0``; supervised imitation keeps the first cell's weight at
1 whatever the policy, so its ratio stays of order 1 (interference without coupling).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def target_logp(logits, target):
    """``log pi(target_{k,c} | k, c)`` ``[K, length]`` from logits ``[K, length, A]``."""
    logp = jax.nn.log_softmax(logits)
    return jnp.take_along_axis(logp, target[..., None], -1)[..., 0]


def weights(logp, mix, supervised, n_actions=4):
    """The fixed weights ``w_{k,c}`` ``[K, length]`` (module doc) from ``log pi`` of the
    targets, for a uniform behaviour over ``n_actions`` actions; ``mix`` and ``supervised``
    may be traced."""
    b = (1.0 - mix) * jnp.exp(logp) + mix / n_actions
    b = jax.lax.stop_gradient(b)
    reach = jnp.cumprod(jnp.concatenate([jnp.ones_like(b[:, :1]), b[:, :-1]], 1), axis=1)
    success = jnp.broadcast_to(jnp.prod(b, axis=1, keepdims=True), b.shape)
    return jnp.where(supervised, reach, success)


def surrogate(logits_fn, target, mix, supervised):
    """``p -> [K]``: each room's ``sum_c w_{k,c} log pi(key_{k,c} | k, c)`` at ``p``, the
    weights held fixed; its gradient is ``g_k``. ``logits_fn(params)`` gives the logits
    ``[K, length, A]`` of every (room, cell) of the successful path."""
    def f(p):
        logits = logits_fn(p)
        lp = target_logp(logits, target)
        return (weights(lp, mix, supervised, logits.shape[-1]) * lp).sum(axis=1)
    return f


def room_gradients(logits_fn, params, target, mix, supervised):
    """``g_k`` of every room, flattened over all parameters: ``[K, P]``."""
    jac = jax.jacrev(surrogate(logits_fn, target, mix, supervised))(params)
    leaves = [x.reshape(x.shape[0], -1) for x in jax.tree_util.tree_leaves(jac)]
    return jnp.concatenate(leaves, axis=1)


def expected_update(logits_fn, params, target, mix, supervised=False):
    """The learner's whole expected update ``sum_k g_k``, a pytree like ``params`` (an
    ascent direction): on-policy RL (``mix = 0``) ``grad sum_k J_k``, uniform data
    (``mix = 1``) ``A^-length sum_k sum_c grad log pi(key_{k,c} | k, c)``."""
    return jax.grad(lambda p: surrogate(logits_fn, target, mix, supervised)(p).sum())(params)


def mean_pair_cosine(g):
    """Mean cosine over the pairs of rows of ``g`` ``[K, P]`` (0 where a row vanishes)."""
    norm = jnp.linalg.norm(g, axis=1)
    unit = g / jnp.where(norm > 0, norm, 1.0)[:, None]
    c = unit @ unit.T
    K = g.shape[0]
    return (c.sum() - jnp.trace(c)) / (K * (K - 1))


def measures(logits_fn, params, target, mix, supervised):
    """``(interference cosine, coupling ratio [K])`` at ``params`` (module doc); the ratio
    is NaN where the uniform-data gradient underflows."""
    own = room_gradients(logits_fn, params, target, mix, supervised)
    uniform = room_gradients(logits_fn, params, target, 1.0, supervised)
    ref = jnp.linalg.norm(uniform, axis=1)
    # NaN where the reference vanishes in float32 (a policy saturated at pi = 1)
    ratio = jnp.linalg.norm(own, axis=1) / jnp.where(ref > 1e-30, ref, jnp.nan)
    return mean_pair_cosine(own), ratio

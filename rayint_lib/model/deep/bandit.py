"""The (K x n) contextual bandit of Sec. 2 with MLP policies (App. A), many seeds at once.

The policy is a ReLU MLP of the one-hot context, softmax over the ``n`` actions
(:mod:`.policies`); ``depth = 0`` is the shared-bias linear policy ``l = W s + b``. Learning is
the simulator's (:mod:`rayint_lib.model.simulate`): on-policy REINFORCE with exactly one sample
per context per update (or the supervised cross-entropy toward the right arm), SGD with step
size ``eta``, stop when ``J >= K - solved_margin`` or after ``max_samples`` samples (App. A).

**theta0.** Every architecture starts at ``J(theta0) = J0`` exactly (``K/10`` by default): the
network is drawn at random (:func:`.policies.init_mlp`), then a fixed, non-trained offset is
added to the right arm's logit of each context, chosen as the linear bandit chooses its
right-arm logits (:func:`rayint_lib.model.bandit.initial_logits`): ``init="angular"`` or
``"simplex"`` give each context its share of ``J0``; ``init="logit"`` adds one common offset to
every right arm (shares follow the random network). The offset moves no gradient. At
``depth = 0`` the draws are those of the linear bandit (same seed, same ``theta0``).

**Flatness** (Fig. 3, App. A): every ``window`` updates, the rate ``dJ/dt`` of the *expected*
update at the visited parameters, per unit step size: ``<grad J, E[direction]>``, exact here
(the expectation over the K contexts and n actions is closed-form: on-policy
``E[direction] = grad J``, so the rate is ``||grad J||^2``; supervised
``sum_k grad log pi_k(k)``). The flattest plateau is its smallest absolute value once the
run has left the start (``max J >= J0 + start_margin K``) and while it still runs: the
record's window (:func:`rayint_lib.model.record.flattest_window`), as the linear engine's.

Curves ``J_k(t)`` are kept on a log grid of checkpoints (multiples of ``window``): memory does
not grow with the number of updates.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..bandit import common_right_arm_offset, logit_for_prob, right_arm_probs, split_performance
from ..config import check_choice, check_float, check_int
from ..record import BanditRuns, checkpoint_steps, flattest_window, start_threshold
from .policies import apply, init_mlp, numpy_mlp

LEARNERS = ("on_policy", "supervised")


@dataclass(frozen=True)
class MLPBanditSpec:
    """Static description of one batch of MLP-bandit runs (one compiled trainer each)."""

    K: int = 2
    n: int = 2
    depth: int = 2
    width: int = 64
    eta: float = 0.1
    learner: str = "on_policy"       # on_policy | supervised
    separate: bool = False           # one network per context (no shared parameter)
    max_samples: int = 100_000       # stop after this many samples (K per update)
    window: int = 10                 # updates between flatness measurements
    start_margin: float = 0.05
    solved_margin: float = 0.1
    n_checkpoints: int = 60

    def __post_init__(self):
        check_int("K", self.K, 1)
        check_int("n", self.n, 2)
        if self.n < self.K:
            raise ValueError(f"n must be >= K; got n={self.n}, K={self.K}")
        check_int("depth", self.depth, 0, 8)
        check_int("width", self.width, 1, 4096)
        check_float("eta", self.eta, 0, None, low_open=True)
        check_choice("learner", self.learner, LEARNERS)
        check_int("window", self.window, 1)
        check_int("max_samples", self.max_samples, self.K * self.window)
        check_float("start_margin", self.start_margin, 0, 1)
        check_float("solved_margin", self.solved_margin, 0, self.K, low_open=True,
                    high_open=True)
        check_int("n_checkpoints", self.n_checkpoints, 2)

    @property
    def max_updates(self) -> int:
        return self.max_samples // self.K

    @property
    def steps(self) -> np.ndarray:
        """Log-spaced checkpoints in whole windows: ``0, window, ..., max_updates``."""
        return checkpoint_steps(self.max_updates, self.n_checkpoints, self.window)


def initial_parameters(spec: MLPBanditSpec, n_runs: int, seed: int, J0=None, init="angular",
                       output_scale=1.0):
    """``(params, offset)`` with a leading runs axis, ``J(theta0) = J0`` exactly (module doc).

    ``offset`` ``[runs, K, n]`` is zero except on the right arms. Draws with
    ``numpy.random.default_rng(seed)``; at ``depth = 0`` (shared) the logits equal the linear
    bandit's :func:`~rayint_lib.model.bandit.initial_logits` for the same seed.
    """
    K, n = spec.K, spec.n
    J0 = K / 10 if J0 is None else check_float("J0", J0, 0, K, low_open=True, high_open=True)
    check_choice("init", init, ("angular", "simplex", "logit"))
    check_float("output_scale", output_scale, 0, None, low_open=True)
    rng = np.random.default_rng(seed)
    eye = np.eye(K, dtype=np.float64)
    if spec.depth == 0 and not spec.separate:
        W = output_scale * rng.standard_normal((n_runs, K, n))     # as bandit.initial_logits
        params = [(W.astype(np.float32), np.zeros((n_runs, n), np.float32))]
        logits = W.copy()
    elif spec.separate:
        params = init_mlp(rng, K, n, spec.depth, spec.width, output_scale, lead=(n_runs, K))
        logits = np.stack([numpy_mlp([(W[:, k], b[:, k]) for W, b in params], eye[None, k:k + 1])
                           [:, 0] for k in range(K)], axis=1)
    else:
        params = init_mlp(rng, K, n, spec.depth, spec.width, output_scale, lead=(n_runs,))
        logits = numpy_mlp(params, eye[None])
    idx = np.arange(K)
    offset = np.zeros((n_runs, K, n))
    if init == "logit":
        offset[:, idx, idx] = common_right_arm_offset(logits, J0)[:, None]
    else:
        wrong = logits[:, ~np.eye(K, n, dtype=bool)].reshape(n_runs, K, n - 1)
        shares = split_performance(J0, K, n_runs, init, rng)
        offset[:, idx, idx] = logit_for_prob(shares, wrong) - logits[:, idx, idx]
    return params, offset.astype(np.float32)


def _functions(spec: MLPBanditSpec, supervised=None):
    """Pure per-seed functions of the parameters: logits, ``J_k``, sampled and expected
    ascent directions, and the expected progress rate. ``supervised`` (default: from
    ``spec.learner``) may be a traced bool, so that both learners share one compiled run."""
    K = spec.K
    if supervised is None:
        supervised = spec.learner == "supervised"
    idx = jnp.arange(K)
    eye = jnp.eye(K)

    def logits(p, offset):
        return apply(p, eye, K, spec.separate) + offset

    def J_k(p, offset):
        return jax.nn.softmax(logits(p, offset))[idx, idx]

    def sampled_objective(p, offset, u):
        """``sum_k r_k log pi_k(k)``: its gradient is the REINFORCE direction (one sample per
        context, reward ``1[a = k]`` drawn as a Bernoulli of ``pi_k(k)``) or, supervised, the
        cross-entropy direction toward the right arm."""
        logp = jax.nn.log_softmax(logits(p, offset))[idx, idx]
        r = jnp.where(supervised, 1.0, (u < jnp.exp(logp)).astype(logp.dtype))
        return jnp.sum(jax.lax.stop_gradient(r) * logp), jnp.exp(logp)

    def expected_rate(p, offset):
        """``<grad J, E[direction]>`` per unit step size (exact expectation)."""
        gJ = jax.grad(lambda q: J_k(q, offset).sum())(p)
        d = jax.lax.cond(jnp.asarray(supervised), lambda q: jax.grad(
            lambda q2: jax.nn.log_softmax(logits(q2, offset))[idx, idx].sum())(q),
            lambda q: gJ, p)
        return sum(jnp.vdot(a, b) for a, b in zip(jax.tree_util.tree_leaves(gJ),
                                                   jax.tree_util.tree_leaves(d)))

    return logits, J_k, sampled_objective, expected_rate


def expected_direction(spec: MLPBanditSpec, params, offset):
    """The expected ascent direction (a parameter pytree) for one seed: on-policy
    ``grad J``, supervised ``grad sum_k log pi_k(k)`` (for the tests)."""
    _, J_k, _, _ = _functions(spec)
    idx = jnp.arange(spec.K)
    logits = _functions(spec)[0]
    if spec.learner == "supervised":
        return jax.grad(lambda q: jax.nn.log_softmax(logits(q, offset))[idx, idx].sum())(params)
    return jax.grad(lambda q: J_k(q, offset).sum())(params)


def expected_rate(spec: MLPBanditSpec, params, offset):
    """``dJ/dt`` per unit step size under the expected update, one seed (jit-able)."""
    return _functions(spec)[3](params, offset)


def _run_one(params, offset, key, supervised, spec: MLPBanditSpec):
    """One learning run, entirely in ``lax`` loops (vmapped over seeds by the caller)."""
    K = spec.K
    _, J_k, sampled_objective, rate_fn = _functions(spec, supervised)
    opt = optax.sgd(spec.eta)
    grad_obj = jax.value_and_grad(sampled_objective, has_aux=True)
    target = K - spec.solved_margin
    J_first = J_k(params, offset)
    threshold = start_threshold(J_first.sum(), spec.start_margin, K)

    def one_update(_, c):
        p, s, active, t, i = c
        u = jax.random.uniform(jax.random.fold_in(key, i), (K,))
        (_, pk), g = grad_obj(p, offset, u)
        active = active & (pk.sum() < target)
        upd, s_new = opt.update(jax.tree_util.tree_map(jnp.negative, g), s, p)
        p_new = optax.apply_updates(p, upd)
        keep = lambda new, old: jnp.where(active, new, old)  # noqa: E731
        p = jax.tree_util.tree_map(keep, p_new, p)
        s = jax.tree_util.tree_map(keep, s_new, s)
        return p, s, active, t + active.astype(jnp.int32), i + 1

    def one_window(c):
        p, s, active, t, i, flat, flattest, run_max, nw = c
        p, s, moved, t, i = jax.lax.fori_loop(0, spec.window, one_update, (p, s, active, t, i))
        Jk = J_k(p, offset)
        flat, flattest, run_max = flattest_window(jnp, flat, flattest, run_max, Jk,
                                                  jnp.abs(rate_fn(p, offset)), moved, threshold)
        active = moved & (Jk.sum() < target)
        return p, s, active, t, i, flat, flattest, run_max, nw + 1

    def segment(c, n_windows):
        def cond(cw):
            return (cw[-1] < n_windows) & cw[2]
        p, s, active, t, i, flat, flattest, run_max = c
        out = jax.lax.while_loop(cond, one_window,
                                 (p, s, active, t, i, flat, flattest, run_max, 0))
        c = out[:-1]
        return c, J_k(c[0], offset)

    carry = (params, opt.init(params), J_first.sum() < target, jnp.int32(0), jnp.int32(0),
             jnp.float32(jnp.inf), jnp.full((K,), jnp.nan, jnp.float32), J_first.sum())
    n_windows = jnp.asarray(np.diff(spec.steps) // spec.window, jnp.int32)
    carry, curve = jax.lax.scan(segment, carry, n_windows)
    p, _, _, t, _, flat, flattest, _ = carry
    curves = jnp.concatenate([J_first[None], curve], axis=0)
    return curves, J_first, t, J_k(p, offset), flat, flattest


@lru_cache(maxsize=64)
def _compiled(spec: MLPBanditSpec):
    """One compiled trainer per architecture (the learner is a traced argument)."""
    return jax.jit(jax.vmap(lambda p, o, k, s: _run_one(p, o, k, s, spec),
                            in_axes=(0, 0, 0, None)))


def run_keys(seed: int, n_runs: int):
    """One key per run, split from ``seed``."""
    return jax.random.split(jax.random.PRNGKey(seed), n_runs)


def simulate_mlp(spec: MLPBanditSpec, n_runs: int, seed: int = 0, J0=None, init="angular",
                 output_scale=1.0) -> BanditRuns:
    """Train ``n_runs`` MLP policies together (one jitted, vmapped call); the bandit's record
    (:class:`~rayint_lib.model.record.BanditRuns`, ``config``: the spec)."""
    check_int("n_runs", n_runs, 1)
    check_int("seed", seed, 0)
    params, offset = initial_parameters(spec, n_runs, seed, J0, init, output_scale)
    out = _compiled(replace(spec, learner="on_policy"))(
        params, offset, run_keys(seed, n_runs), jnp.bool_(spec.learner == "supervised"))
    curves, initial, t, final, flat, flattest = (np.asarray(x, np.float64) for x in out)
    return BanditRuns.collect(spec, spec.steps, curves, initial, t.astype(np.int64), final,
                              flat, flattest)


def logits_of(spec: MLPBanditSpec, params, offset):
    """Logits ``[K, n]`` of one seed's parameters (for the tests)."""
    return _functions(spec)[0](params, offset)


def memory_bytes(spec: MLPBanditSpec, n_runs: int) -> int:
    """Bytes of one batch: parameters with gradient, optimizer state and two scratch copies,
    activations, and the curves on the checkpoint grid (float32), per run."""
    from .policies import n_parameters
    P = n_parameters(spec.K, spec.n, spec.depth, spec.width, spec.separate, spec.K)
    per_run = 4 * (6 * P + 4 * spec.K * (spec.width * spec.depth + spec.n)
                   + len(spec.steps) * spec.K) + 256
    return n_runs * per_run


__all__ = ["MLPBanditSpec", "initial_parameters", "simulate_mlp", "expected_rate",
           "expected_direction", "right_arm_probs", "memory_bytes"]

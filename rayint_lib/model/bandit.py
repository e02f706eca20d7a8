"""The (K x n) contextual bandit of Sec. 2 and its softmax policies.

Reward ``r(s_k, a) = 1[a = k]``; performance ``J = sum_k J_k`` with ``J_k = pi(k | s_k)``.
Arrays carry a leading runs axis: logits are ``[runs, K, n]`` (row k = logits in context k).

Policy parameterisations (Sec. 2, Sec. 2.6):

* ``shared_bias``: logits ``l = W s + b``; W has one column per context, b is shared by all
  contexts and causes the interference.
* ``tabular``: logits ``l = W s``: no shared parameter, no interference.
* ``separate``: one (W_k, b_k) per context ("separate networks"); no shared parameter.
"""
from __future__ import annotations

import numpy as np

from .config import INITS, check_choice, check_float, check_int


def softmax(logits):
    """Numerically stable softmax over the last axis (log-sum-exp shift)."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def right_arm_probs(logits):
    """``J_k = pi(k | s_k)`` for every context: ``[runs, K]`` from ``[runs, K, n]``."""
    K = logits.shape[-2]
    return softmax(logits)[..., np.arange(K), np.arange(K)]


def performance(logits):
    """Total performance ``J = sum_k pi(k | s_k)`` (Sec. 2), one value per run."""
    return right_arm_probs(logits).sum(axis=-1)


def logsumexp(x):
    """``log sum_i exp(x_i)`` over the last axis, shifted by the maximum (no overflow)."""
    m = x.max(axis=-1)
    return m + np.log(np.exp(x - m[..., None]).sum(axis=-1))


def logit_for_prob(p, other_logits):
    """Right-arm logit that gives ``pi(k|s_k) = p`` given the other arms' logits."""
    return np.log(p) - np.log1p(-p) + logsumexp(other_logits)


def split_performance(J0, K, n_runs, init, rng):
    """Per-context performances ``[n_runs, K]`` summing to ``J0`` (the paper leaves this open).

    * ``simplex``: uniform on ``{J : sum_k J_k = J0, 0 < J_k < 1}`` (Dirichlet(1, ..., 1)).
    * ``angular``: direction uniform on the positive orthant of the sphere (as App. B.4
      assumes near the origin), scaled so that ``sum_k J_k = J0``.
    Draws with some ``J_k >= 1`` (possible only when J0 > 1) are redrawn.
    """
    out = np.empty((n_runs, K))
    todo = np.arange(n_runs)
    while todo.size:
        if init == "simplex":
            x = rng.dirichlet(np.ones(K), size=todo.size)
        else:
            x = np.abs(rng.standard_normal((todo.size, K)))
            x /= x.sum(axis=1, keepdims=True)
        x *= J0
        ok = (x < 1).all(axis=1) & (x > 0).all(axis=1)
        out[todo[ok]] = x[ok]
        todo = todo[~ok]
    return out


def initial_logits(K, n, J0, n_runs, rng, init="simplex", logit_scale=1.0):
    """Draw ``theta0`` as logits ``[n_runs, K, n]`` with total performance exactly ``J0``.

    Wrong arms get i.i.d. ``N(0, logit_scale^2)`` logits. The right arm's logit in each
    context is then set so that ``pi(k|s_k)`` takes its share of ``J0``:

    * ``simplex`` / ``angular``: shares from :func:`split_performance`;
    * ``logit``: all logits i.i.d. normal (a random network), then one common offset added to
      every right-arm logit, solved so that ``J = J0`` (shares follow the random network).

    Any logits are reachable by every parameterisation (W is free per context), so the same
    ``theta0`` serves all settings (common random numbers across settings).
    """
    check_choice("init", init, INITS)
    check_float("J0", J0, 0, K, low_open=True, high_open=True)
    check_int("n_runs", n_runs, 1)
    logits = logit_scale * rng.standard_normal((n_runs, K, n))
    idx = np.arange(K)
    other = ~np.eye(K, n, dtype=bool)  # [K, n]: True for the wrong arms of context k
    wrong = logits[:, other].reshape(n_runs, K, n - 1)
    if init == "logit":
        logits[:, idx, idx] += common_right_arm_offset(logits, J0)[:, None]
        return logits
    shares = split_performance(J0, K, n_runs, init, rng)
    logits[:, idx, idx] = logit_for_prob(shares, wrong)
    return logits


def common_right_arm_offset(logits, J, lo=-60.0, hi=60.0, iterations=64):
    """Offset ``c`` per run with ``performance(logits + c on the right arms) = J``.

    ``J(c) = sum_k sigmoid(l_kk + c - logsumexp_{a != k} l_ka)`` grows strictly with ``c``, so
    all runs are solved at once by bisection on ``[lo, hi]`` (64 halvings: the bracket ends
    below 1e-16, tighter than the former per-run ``brentq(xtol=1e-12)``).
    """
    runs, K, n = logits.shape
    idx = np.arange(K)
    wrong = logits[:, ~np.eye(K, n, dtype=bool)].reshape(runs, K, n - 1)
    gap = logits[:, idx, idx] - logsumexp(wrong)
    lo = np.full(runs, lo)
    hi = np.full(runs, hi)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        below = (0.5 * (1.0 + np.tanh(0.5 * (gap + mid[:, None])))).sum(axis=-1) < J
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def split_logits(logits, policy, rng=None):
    """Parameters (W, b) that produce ``logits`` under ``policy``.

    ``shared_bias``: b is drawn ``N(0, 1)`` (the bias is what matters for the dynamics, its
    value does not), W = logits - b. ``tabular``: b = None. ``separate``: per-context b_k = 0.
    """
    if policy == "shared_bias":
        rng = rng or np.random.default_rng(0)
        b = rng.standard_normal(logits.shape[:1] + logits.shape[-1:])
        return logits - b[:, None, :], b
    if policy == "separate":
        return logits.copy(), np.zeros_like(logits)
    return logits.copy(), None


def logit_gradients(logits):
    """``d J_k / d l_k = pi_k(k) (e_k - pi_k)`` for each context: ``[runs, K, n]``."""
    pi = softmax(logits)
    K = logits.shape[-2]
    idx = np.arange(K)
    g = -pi * pi[..., idx, idx][..., None]
    g[..., idx, idx] += pi[..., idx, idx]
    return g


def parameter_gradients(logits, policy):
    """Gradient of each ``J_k`` w.r.t. all parameters, flattened: ``[runs, K, P]``.

    For ``shared_bias`` the parameters are (W, b): ``dJ_k/dW[:, k] = dJ_k/db = g_k``.
    For ``separate``: (W_k, b_k) per context. For ``tabular``: W only.
    """
    g = logit_gradients(logits)
    runs, K, n = g.shape
    eye = np.eye(K)
    dW = (eye[None, :, :, None] * g[:, :, None, :]).reshape(runs, K, K * n)
    if policy == "tabular":
        return dW
    if policy == "separate":
        return np.concatenate([dW, dW], axis=-1)
    return np.concatenate([dW, g], axis=-1)


def interference(logits, policy="shared_bias"):
    """Cosine ``rho_{k,k'}`` between the gradients of ``J_k`` and ``J_k'`` (Definition 1).

    Returns ``[runs, K, K]``; for the 2x2 bandit with shared bias ``rho_12 = -1/2`` (Sec. 2.1).
    """
    G = parameter_gradients(logits, policy)
    norms = np.linalg.norm(G, axis=-1)
    return np.einsum("rkp,rjp->rkj", G, G) / (norms[..., :, None] * norms[..., None, :])


def logits_2x2(J1, J2):
    """Logits ``[..., 2, 2]`` of the (2 x 2) bandit with ``pi(1|s1) = J1``, ``pi(2|s2) = J2``."""
    J1, J2 = np.broadcast_arrays(np.asarray(J1, float), np.asarray(J2, float))
    out = np.zeros(J1.shape + (2, 2))
    out[..., 0, 0] = np.log(J1) - np.log1p(-J1)
    out[..., 1, 1] = np.log(J2) - np.log1p(-J2)
    return out


def finite_difference_gradients(logits, policy, h=1e-6):
    """Central-difference twin of :func:`parameter_gradients` (same layout), for checks."""
    W, b = split_logits(logits, policy, np.random.default_rng(0))
    flat = [W] if b is None else [W, b]
    sizes = [x[0].size for x in flat]
    runs, K = logits.shape[:2]
    theta = np.concatenate([x.reshape(runs, -1) for x in flat], axis=1)

    def J_of(th):
        parts = np.split(th, np.cumsum(sizes)[:-1], axis=1)
        Wp = parts[0].reshape(W.shape)
        if policy == "shared_bias":
            lg = Wp + parts[1].reshape(b.shape)[:, None, :]
        elif policy == "separate":
            lg = Wp + parts[1].reshape(b.shape)
        else:
            lg = Wp
        return right_arm_probs(lg)

    grads = np.empty((runs, K, theta.shape[1]))
    for p in range(theta.shape[1]):
        step = np.zeros_like(theta)
        step[:, p] = h
        grads[:, :, p] = (J_of(theta + step) - J_of(theta - step)) / (2 * h)
    return grads

"""The remedies' steps (Sec. 4), compiled: one small function per rule that turns the scores
``d_k = s_k grad_l log pi_k(k)`` ``[K, n]`` into the logit direction per unit step size (or
reweights the scores in place before the shared-bias step), dispatched on the rule's code by
:func:`.remedy_kernel.direction`. Float64; per-rule state and scratch as
:mod:`.remedy_kernel` lays them out; inlined into the dispatch (``inline="always"``), so that
splitting the rules costs no call per update. Their numpy specification:
:mod:`.remedies_reference`.
"""
from __future__ import annotations

import math

from numba import njit

from .remedy_rules import B1, B2, EPS


@njit(cache=True, inline="always")
def shared_bias(d, out):
    """The shared-bias step ``out_k = d_k + sum_j d_j`` (``dW[:, k] = d_k``, ``db = sum_j
    d_j``): REINFORCE and every rule that only reweights or changes the scores."""
    K, n = d.shape
    for a in range(n):
        g = 0.0
        for k in range(K):
            g += d[k, a]
        for k in range(K):
            out[k, a] = d[k, a] + g
    return out


@njit(cache=True, inline="always")
def scaled(c, d, out):
    """No shared parameter: ``out_k = c d_k`` (separate heads ``c = 2``, tabular ``c = 1``)."""
    K, n = d.shape
    for k in range(K):
        for a in range(n):
            out[k, a] = c * d[k, a]
    return out


@njit(cache=True, inline="always")
def entropy_bonus(tau, pi, d):
    """Adds ``tau grad H(pi_k)`` to the scores: ``-tau pi_k(a) (log pi_k(a) + H(pi_k))``."""
    K, n = d.shape
    for k in range(K):
        H = 0.0
        for a in range(n):
            if pi[k, a] > 0:
                H -= pi[k, a] * math.log(pi[k, a])
        for a in range(n):
            lp = math.log(pi[k, a]) if pi[k, a] > 0 else -700.0
            d[k, a] += tau * (-pi[k, a] * (lp + H))


@njit(cache=True, inline="always")
def natural(floor, J, s, out):
    """The natural gradient (exact softmax Fisher, pseudo-inverse): ``out_k = s_k /
    max(J_k, floor) (e_k - 1/n)``."""
    K, n = out.shape
    for k in range(K):
        w = s[k] / max(J[k], floor)
        for a in range(n):
            out[k, a] = w * ((1.0 if a == k else 0.0) - 1.0 / n)
    return out


@njit(cache=True, inline="always")
def gradnorm(beta, a_norm, d, commit):
    """GradNorm-style (alpha = 0): context k's scores times ``K (1/a_k) / sum_j 1/a_j`` with
    ``a_k`` the running average (decay ``beta``) of its (W, b) gradient norm ``sqrt(2)
    |d_k|``; ``commit`` moves the averages."""
    K, n = d.shape
    tot = 0.0
    for k in range(K):
        nn = 0.0
        for a in range(n):
            nn += d[k, a] * d[k, a]
        a_new = beta * a_norm[k] + (1.0 - beta) * math.sqrt(2.0 * nn)
        w = a_new if commit else a_norm[k]
        if commit:
            a_norm[k] = a_new
        tot += 1.0 / (w + 1e-12)
    for k in range(K):
        wk = K * (1.0 / (a_norm[k] + 1e-12)) / tot
        for a in range(n):
            d[k, a] *= wk


@njit(cache=True, inline="always")
def cosine_gate(d, norms, weights):
    """Cosine gating (Du et al. 2018) of the scores. Per-context gradients ``g_k = (d_k in
    W[:, k], d_k in b)``: ``<g_i, g_k> = <d_i, d_k>`` (only b is shared), ``|g_k|^2 = 2
    |d_k|^2``. Main task i keeps g_i and adds ``max(0, cos(g_i, g_k)) g_k``; averaged over
    the K main tasks, context k's gradient gets the weight ``(1 + sum_{i != k} max(0,
    cos_ik)) / K``. ``norms``, ``weights`` [K]: scratch."""
    K, n = d.shape
    for k in range(K):
        nk = 0.0
        for a in range(n):
            nk += d[k, a] * d[k, a]
        norms[k] = math.sqrt(2.0 * nk)
    for k in range(K):
        weights[k] = 1.0
        for i in range(K):
            if i == k or norms[i] == 0.0 or norms[k] == 0.0:
                continue
            dot = 0.0
            for a in range(n):
                dot += d[i, a] * d[k, a]
            weights[k] += max(0.0, dot / (norms[i] * norms[k]))
    for k in range(K):
        for a in range(n):
            d[k, a] *= weights[k] / K


@njit(cache=True, inline="always")
def pcgrad(d, order, GW, Gb, out):
    """PCGrad (Yu et al. 2020) on the (W, b) gradients ``g_i``: each is projected off every
    original ``g_j`` it conflicts with, in the run's ``order`` [K]; ``out``: the logit
    direction of ``sum_i g_i``. ``GW`` [K, K, n], ``Gb`` [K, n]: the projected gradients."""
    K, n = d.shape
    for i in range(K):
        for k in range(K):
            for a in range(n):
                GW[i, k, a] = d[i, a] if k == i else 0.0
        for a in range(n):
            Gb[i, a] = d[i, a]
    for i in range(K):
        for step in range(K):
            j = order[step]
            if j == i:
                continue
            sq = 0.0
            dot = 0.0
            for a in range(n):
                sq += 2.0 * d[j, a] * d[j, a]
                dot += (GW[i, j, a] + Gb[i, a]) * d[j, a]
            if dot < 0 and sq > 0:
                c = dot / sq
                for a in range(n):
                    GW[i, j, a] -= c * d[j, a]
                    Gb[i, a] -= c * d[j, a]
    for k in range(K):
        for a in range(n):
            acc = 0.0
            for i in range(K):
                acc += GW[i, k, a] + Gb[i, a]
            out[k, a] = acc
    return out


@njit(cache=True, inline="always")
def _moment_step(adam, b1, b2, eps, c1, c2, g, m, v):
    """One coordinate of Adam (bias-corrected by ``c1``, ``c2``) or RMSProp: ``(step, m,
    v)``."""
    v = b2 * v + (1.0 - b2) * g * g
    if adam:
        m = b1 * m + (1.0 - b1) * g
        return m * c1 / (math.sqrt(v * c2) + eps), m, v
    return g / (math.sqrt(v) + eps), m, v


@njit(cache=True, inline="always")
def adaptive(adam, h, t, d, moments, commit, out):
    """Adam (``adam``) or RMSProp on ``(W, b)`` at update ``t``: the gradient rows ``d_k``
    of ``W[:, k]`` and ``sum_k d_k`` of ``b``, their moments ``moments[:, k]`` and
    ``moments[:, K]`` (``commit`` stores the new ones); ``out_k = step_b + step_W[:, k]``."""
    K, n = d.shape
    b1, b2, eps = h[B1], h[B2], h[EPS]
    c1 = 1.0 / (1.0 - b1 ** t)
    c2 = 1.0 / (1.0 - b2 ** t)
    for a in range(n):
        g = 0.0
        for k in range(K):
            g += d[k, a]
        db, m, v = _moment_step(adam, b1, b2, eps, c1, c2, g, moments[0, K, a],
                                moments[1, K, a])
        if commit:
            moments[0, K, a] = m
            moments[1, K, a] = v
        for k in range(K):
            out[k, a] = db
    for k in range(K):
        for a in range(n):
            dw, m, v = _moment_step(adam, b1, b2, eps, c1, c2, d[k, a], moments[0, k, a],
                                    moments[1, k, a])
            if commit:
                moments[0, k, a] = m
                moments[1, k, a] = v
            out[k, a] += dw
    return out

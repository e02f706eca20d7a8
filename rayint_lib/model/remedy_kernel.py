"""The remedies' update rules, compiled (numba; one run at a time, logits ``[K, n]``).

A rule is two stages per context k (module :mod:`.remedies`): a sampled **signal** ``s_k``
(:func:`signal`; its expectation :func:`expected_signal`) and a **direction** in logit space
(:func:`direction`), built from the scores ``d_k = s_k grad_l log pi_k(k)`` by the rule's own
small function (below, dispatched on the rule's code, :data:`.remedy_rules.RULES`).
A rule's state is one tuple (:func:`initial_state`): GradNorm's norm averages ``[K]``, the
optimizer moments ``[2, K + 1, n]`` (first and second moments of the K rows of ``W`` and of
``b``) and the curriculum's two averages of ``J_k`` ``[2, K]``; its scratch space another
(``d [K, n]``, ``GW [K, K, n]``, ``Gb [K, n]``). :func:`_run_one` is the engine's loop for one
run (stop rule, flatness windows, checkpoints as :mod:`.record`). Only the three tiny leaf
functions (:func:`score`, :func:`behaviour_right`, :func:`_moment_step`) are inlined by numba
(``inline="always"``); inlining the rules' steps too (``direction`` twice, in the loop and in
the flatness) doubled the compilation, a dozen seconds of every fresh build, for a few percent
of run time; the results are the same to the bit either way.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from .kernel import draw_uniform, stream_key, uniform, update_key
from .remedy_rules import (
    ADAM,
    B1,
    B2,
    BETA,
    COSGATE,
    CURRICULUM,
    ENTROPY,
    EPS,
    ESCORT,
    ETA,
    FAST,
    FLOOR,
    GRADNORM,
    IMPORTANCE,
    MIX,
    MIXTURE,
    NATURAL,
    PCGRAD,
    REBALANCED,
    RMSPROP,
    SEPARATE,
    SLOW,
    TABULAR,
    TAU,
    P,
)

RECENTER = 256          # updates between logit re-centrings (softmax unchanged)


@njit(cache=True)
def policy(kind, L, p, pi, J):
    """Fill ``pi`` [K, n] with the policy of logits ``L`` and ``J`` [K] with ``pi_k(k)``:
    softmax, or for the escort transform ``|l|^p / sum_a |l_a|^p`` (Mei et al. 2020)."""
    K, n = L.shape
    for k in range(K):
        if kind == ESCORT:
            m = 0.0
            for a in range(n):
                m = max(m, abs(L[k, a]))
            tot = 0.0
            for a in range(n):
                e = (abs(L[k, a]) / m) ** p if m > 0 else 1.0
                pi[k, a] = e
                tot += e
        else:
            m = L[k, 0]
            for a in range(1, n):
                m = max(m, L[k, a])
            tot = 0.0
            for a in range(n):
                e = math.exp(L[k, a] - m)
                pi[k, a] = e
                tot += e
        for a in range(n):
            pi[k, a] /= tot
        J[k] = pi[k, k]


@njit(cache=True, inline="always")
def score(kind, L, pi, p, k, a):
    """``d log pi_k(k) / d l_{k a}``: softmax ``1[a = k] - pi_k(a)``; escort
    ``p (1[a = k] - pi_k(a)) / l_{k a}``."""
    r = (1.0 if a == k else 0.0) - pi[k, a]
    if kind == ESCORT:
        x = L[k, a]
        return p * r * x / (x * x + 1e-300)
    return r


@njit(cache=True)
def context_probs(kind, J, fast, slow, cmix, probs):
    """Context sampling probabilities: rebalanced ``(1 - mix)(1 - J_k)/sum + mix/K``;
    curriculum ``(1 - mix) LP_k / sum + mix/K`` with ``LP_k = |fast_k - slow_k|`` (uniform
    while every ``LP_k = 0``); uniform otherwise."""
    K = J.shape[0]
    tot = 0.0
    for k in range(K):
        w = 1.0 - J[k] if kind == REBALANCED else abs(fast[k] - slow[k])
        probs[k] = w
        tot += w
    for k in range(K):
        base = probs[k] / tot if tot > 0 else 1.0 / K
        probs[k] = (1.0 - cmix) * base + cmix / K
    return probs


@njit(cache=True, inline="always")
def behaviour_right(kind, Jk, n, mix):
    """Probability that the behaviour picks the rewarded arm ``k``."""
    if kind == MIXTURE or kind == IMPORTANCE:
        return (1.0 - mix) * Jk + mix / n
    return Jk


@njit(cache=True)
def signal(kind, h, J, state, u, v, n, s, probs):
    """Sampled signals ``s_k`` [K] from the uniforms ``u`` [K] (reward draws) and ``v`` [K]
    (context of each of the K samples; rebalanced and curriculum only).

    On-policy and mixtures: ``s_k = 1[u_k < mu_k(k)]``; importance weighting multiplies by
    ``pi_k(k) / mu_k(k)``; rebalanced / curriculum: ``s_k`` counts the rewarded samples
    drawn in context k (the contexts drawn by :func:`context_probs` at the curriculum's
    averages ``state[2]``).
    """
    K = J.shape[0]
    if kind == REBALANCED or kind == CURRICULUM:
        context_probs(kind, J, state[2][0], state[2][1], h[MIX], probs)
        for k in range(K):
            s[k] = 0.0
        for i in range(K):
            c = 0
            acc = probs[0]
            while c < K - 1 and v[i] >= acc:
                c += 1
                acc += probs[c]
            if u[i] < J[c]:
                s[c] += 1.0
        return s
    for k in range(K):
        q = behaviour_right(kind, J[k], n, h[MIX])
        s[k] = 1.0 if u[k] < q else 0.0
        if kind == IMPORTANCE:
            s[k] *= J[k] / q
    return s


@njit(cache=True)
def expected_signal(kind, h, J, state, n, s, probs):
    """``E[s_k]`` at the current state."""
    K = J.shape[0]
    if kind == REBALANCED or kind == CURRICULUM:
        context_probs(kind, J, state[2][0], state[2][1], h[MIX], probs)
        for k in range(K):
            s[k] = K * probs[k] * J[k]
        return s
    for k in range(K):
        s[k] = J[k] if kind == IMPORTANCE else behaviour_right(kind, J[k], n, h[MIX])
    return s


@njit(cache=True)
def initial_state(pi, J):
    """A run's rule state at the start (module doc): GradNorm's norm averages at the first
    gradient norms ``sqrt(2) |e_k - pi_k| J_k``, zero optimizer moments, the curriculum's
    averages at ``J_k``."""
    K, n = pi.shape
    a_norm = np.empty(K)
    averages = np.empty((2, K))
    for k in range(K):
        nn = 0.0
        for a in range(n):
            x = (1.0 if a == k else 0.0) - pi[k, a]
            nn += x * x
        a_norm[k] = math.sqrt(2.0 * nn) * J[k]
        averages[0, k] = J[k]
        averages[1, k] = J[k]
    return a_norm, np.zeros((2, K + 1, n)), averages


@njit(cache=True)
def advance_state(kind, h, J, state):
    """Before an update: the curriculum's fast and slow averages of ``J_k`` move."""
    if kind == CURRICULUM:
        fast, slow = state[2][0], state[2][1]
        for k in range(J.shape[0]):
            fast[k] = h[FAST] * fast[k] + (1.0 - h[FAST]) * J[k]
            slow[k] = h[SLOW] * slow[k] + (1.0 - h[SLOW]) * J[k]


# ------------------------------------------------------------------ the rules' steps
# One small function per rule: the scores d [K, n] -> the logit direction per unit step size
# (or the scores reweighted in place before the shared-bias step). They live in this module,
# beside the loop that calls them: numba's on-disk cache of a function is renewed only
# when its own file changes, not when a function it calls from another module does.

@njit(cache=True)
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


@njit(cache=True)
def scaled(c, d, out):
    """No shared parameter: ``out_k = c d_k`` (separate heads ``c = 2``, tabular ``c = 1``)."""
    K, n = d.shape
    for k in range(K):
        for a in range(n):
            out[k, a] = c * d[k, a]
    return out


@njit(cache=True)
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


@njit(cache=True)
def natural(floor, J, s, out):
    """The natural gradient (exact softmax Fisher, pseudo-inverse): ``out_k = s_k /
    max(J_k, floor) (e_k - 1/n)``."""
    K, n = out.shape
    for k in range(K):
        w = s[k] / max(J[k], floor)
        for a in range(n):
            out[k, a] = w * ((1.0 if a == k else 0.0) - 1.0 / n)
    return out


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
def direction(kind, h, L, pi, J, s, t, order, state, commit, scratch, out):
    """Logit direction per unit step size, ``out`` [K, n], for the signals ``s`` [K]: the
    scores ``d[k] = s_k grad log pi_k(k)``, then the rule's step. ``state``: the rule state
    (:func:`initial_state`); ``commit``: update it (``False`` evaluates the rule at the
    current state, for the flatness); ``order`` [K]: PCGrad's projection order; ``t``: the
    update count (Adam's bias correction); ``scratch``: ``(d, GW, Gb)``."""
    K, n = L.shape
    d, GW, Gb = scratch
    for k in range(K):
        for a in range(n):
            d[k, a] = s[k] * score(kind, L, pi, h[P], k, a)
    if kind == ENTROPY:
        entropy_bonus(h[TAU], pi, d)
    elif kind == GRADNORM:
        gradnorm(h[BETA], state[0], d, commit)
    elif kind == COSGATE:
        cosine_gate(d, Gb[:, 0], GW[0, :, 0])
    if kind == SEPARATE:
        return scaled(2.0, d, out)
    if kind == TABULAR:
        return scaled(1.0, d, out)
    if kind == NATURAL:
        return natural(h[FLOOR], J, s, out)
    if kind == PCGRAD:
        return pcgrad(d, order, GW, Gb, out)
    if kind == ADAM or kind == RMSPROP:
        return adaptive(kind == ADAM, h, t, d, state[1], commit, out)
    return shared_bias(d, out)


@njit(cache=True)
def expected_rate(kind, h, L, pi, J, t, state, s, probs, order, scratch, out):
    """Flatness at the visited parameters, ``|sum_k <dJ_k/dl_k, E[direction_k]>|``: the
    method's rule at the expected signals and the current state (exact for the rules that
    are linear in the signals; the mean-gradient surrogate for PCGrad, Adam, RMSProp)."""
    K, n = L.shape
    expected_signal(kind, h, J, state, n, s, probs)
    for k in range(K):
        order[k] = k
    direction(kind, h, L, pi, J, s, t, order, state, False, scratch, out)
    rate = 0.0
    for k in range(K):
        for a in range(n):
            rate += J[k] * score(kind, L, pi, h[P], k, a) * out[k, a]
    return abs(rate)


@njit(cache=True)
def pcgrad_order(key, r, t, order):
    """PCGrad's projection order of run ``r`` at update ``t``: a Fisher-Yates shuffle of
    ``0 .. K-1`` driven by the uniforms of slots ``1 .. K-1`` of stream ``key``."""
    K = order.shape[0]
    for k in range(K):
        order[k] = k
    for j in range(K - 1, 0, -1):
        i = int(uniform(key, r, j, K, t) * (j + 1))
        order[i], order[j] = order[j], order[i]
    return order


@njit(cache=True)
def _run_one(kind, h, L0, T, window, stop_at, thr_gap, ck_steps, keys, r, curves, initial,
             final, stop_step, flatness, flattest):
    """Run ``r`` from ``L0[r]`` to ``J >= stop_at`` or ``T`` updates (the engine's stop rule,
    flatness windows and checkpoints). Random numbers: :func:`.kernel.uniform` of ``(run,
    context, update)`` under ``keys[0]`` (reward draws, the library learners' stream),
    ``keys[1]`` (context draws) and ``keys[2]`` (PCGrad's order)."""
    _, K, n = L0.shape
    L = L0[r].copy()
    pi = np.empty((K, n))
    J = np.empty(K)
    out = np.empty((K, n))
    work = np.empty((K, n))
    scratch = (np.empty((K, n)), np.empty((K, K, n)), np.empty((K, n)))
    s = np.empty(K)
    probs = np.empty(K)
    u = np.empty(K)
    v = np.empty(K)
    order = np.arange(K)
    reward_keys = np.empty(K, np.uint64)
    context_keys = np.empty(K, np.uint64)
    for k in range(K):
        reward_keys[k] = stream_key(keys[0], r, k, K)
        context_keys[k] = stream_key(keys[1], r, k, K)
    eta = h[ETA]
    policy(kind, L, h[P], pi, J)
    state = initial_state(pi, J)
    Jt = 0.0
    for k in range(K):
        initial[r, k] = J[k]
        Jt += J[k]
    rmax = Jt
    thr = Jt + thr_gap
    flat = np.inf
    p_ck = 0
    n_ck = ck_steps.shape[0]
    while p_ck < n_ck and ck_steps[p_ck] == 0:
        for k in range(K):
            curves[r, p_ck, k] = J[k]
        p_ck += 1
    t = 0
    active = Jt < stop_at
    while active and t < T:
        t += 1
        advance_state(kind, h, J, state)
        reward_step = update_key(keys[0], t)
        for k in range(K):
            u[k] = draw_uniform(reward_keys[k], reward_step)
        if kind == REBALANCED or kind == CURRICULUM:
            context_step = update_key(keys[1], t)
            for k in range(K):
                v[k] = draw_uniform(context_keys[k], context_step)
        if kind == PCGRAD:
            pcgrad_order(keys[2], r, t, order)
        signal(kind, h, J, state, u, v, n, s, probs)
        direction(kind, h, L, pi, J, s, float(t), order, state, True, scratch, out)
        for k in range(K):
            for a in range(n):
                L[k, a] += eta * out[k, a]
        if t % RECENTER == 0 and kind != ESCORT:
            for k in range(K):
                m = L[k, 0]
                for a in range(1, n):
                    m = max(m, L[k, a])
                for a in range(n):
                    L[k, a] -= m
        policy(kind, L, h[P], pi, J)
        Jt = 0.0
        for k in range(K):
            Jt += J[k]
        stop_step[r] = t
        if t % window == 0:
            rate = expected_rate(kind, h, L, pi, J, float(t + 1), state, s, probs, order,
                                 scratch, work)
            rmax = max(rmax, Jt)
            if rmax >= thr and rate < flat and Jt < stop_at:
                flat = rate
                for k in range(K):
                    flattest[r, k] = J[k]
        active = Jt < stop_at
        while p_ck < n_ck and ck_steps[p_ck] == t:
            for k in range(K):
                curves[r, p_ck, k] = J[k]
            p_ck += 1
    while p_ck < n_ck:
        for k in range(K):
            curves[r, p_ck, k] = J[k]
        p_ck += 1
    for k in range(K):
        final[r, k] = J[k]
    flatness[r] = flat


@njit(cache=True, nogil=True)
def _run_all(kind, h, L0, T, window, stop_at, thr_gap, ck_steps, keys, curves, initial, final,
             stop_step, flatness, flattest, first, stop):
    """Runs ``first .. stop - 1`` (:func:`.kernel.in_threads` gives each thread its share)."""
    for r in range(first, stop):
        _run_one(kind, h, L0, T, window, stop_at, thr_gap, ck_steps, keys, r, curves,
                 initial, final, stop_step, flatness, flattest)

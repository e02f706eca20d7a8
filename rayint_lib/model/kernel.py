"""The compiled bandit simulator: a numba kernel over blocks of runs (App. A, issue 7).

Same semantics as :func:`rayint_lib.simulate.simulate_reference` for every learner,
policy, batch mode and optimizer, computed in logit space. With ``l_k = W[:, k] + b`` an SGD
step ``W[:, k] += eta g_k``, ``b += eta sum_j g_j`` moves the logits by
``eta (g_k + sum_j g_j)`` (shared bias), ``2 eta g_k`` for separate networks (``W_k`` and
``b_k`` both move) and ``eta g_k`` for the tabular policy, so the kernel keeps only the logits
(momentum, RMSProp and Adam keep their state per parameter, W part and shared-bias part,
and that state depends on the gradients only).

Design:

* runs are on the innermost, contiguous axis of each block's state ``[K, n, B]`` so that the
  loops over runs vectorise (float32 by default, float64 on request);
* one softmax per update (log-sum-exp shifted, a vectorisable ``exp`` for float32), whose
  result serves the stop rule, the flatness tracker, the checkpoints and the next update;
* on-policy sampling draws the rewarded arm as a Bernoulli: the reward is nonzero only when
  ``a = k``, probability ``pi_k(k)``, and then the logit direction is ``e_k - pi_k``;
* random numbers come from a counter-based hash keyed by ``(seed, run, update, context)``
  (two rounds of a 32-bit integer mixer, 24-bit uniforms),
  so a run's result does not depend on the block it lands in, the number of threads or the
  other runs: results are bit-identical for a given seed;
* logits are re-centred (per-context max subtracted) every ``RECENTER`` updates; softmax
  does not change, and no logit grows without bound in float32;
* memory is ``O(runs x (K n + checkpoints x K))``, independent of the number of updates.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic, overload

from .updates import Optimizer

LEARNER_CODES = {"on_policy": 0, "off_policy": 1, "supervised": 2, "mixture": 3}
POLICY_CODES = {"shared_bias": 0, "tabular": 1, "separate": 2}
OPTIMIZER_CODES = {"sgd": 0, "momentum": 1, "rmsprop": 2, "adam": 3}
RECENTER = 256          # updates between logit re-centrings
_M32 = 0xFFFFFFFF


@intrinsic
def _bits_to_f32(typingctx, x):
    """Reinterpret the bits of an int32 as a float32 (vectorisable bitcast)."""
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return sig, codegen


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` with one rounding (``llvm.fma``): the same bits in vector and scalar code."""
    if not (a == b == c and isinstance(a, types.Float)):
        return None

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return a(a, b, c), codegen


@njit(cache=True, inline="always")
def _exp_f32(x):
    """``exp(x)`` for float32 ``x <= 0`` (vectorisable): ``2^j exp(r)``, ``|r| <= ln2 / 2``,
    Cody-Waite reduction and the degree-5 polynomial of Cephes ``expf``; relative error below
    1e-7 (checked against float64 in the tests); inputs below -87 give ``exp(-87)``."""
    x = max(x, np.float32(-87.0))
    y = np.floor(_fma(x, np.float32(1.4426950408889634), np.float32(0.5)))
    r = _fma(y, np.float32(-0.693359375), x)
    r = _fma(y, np.float32(2.12194440e-4), r)
    z = r * r
    p = np.float32(1.9875691500e-4)
    p = _fma(p, r, np.float32(1.3981999507e-3))
    p = _fma(p, r, np.float32(8.3334519073e-3))
    p = _fma(p, r, np.float32(4.1665795894e-2))
    p = _fma(p, r, np.float32(1.6666665459e-1))
    p = _fma(p, r, np.float32(5.0000001201e-1))
    p = _fma(p, z, r) + np.float32(1.0)
    return p * _bits_to_f32((np.int32(y) + np.int32(127)) << np.int32(23))


def _exp(x):
    """``exp`` for the kernel's float type (typed by :func:`_ol_exp`)."""
    return math.exp(x)


@overload(_exp, inline="always")
def _ol_exp(x):
    if x == types.float32:
        return lambda x: _exp_f32(x)
    return lambda x: math.exp(x)


def _to_float(i, like):
    """``i`` (an int) as a float of the type of ``like``."""
    return float(i)


@overload(_to_float, inline="always")
def _ol_to_float(i, like):
    if like == types.float32:
        return lambda i, like: np.float32(i)
    return lambda i, like: np.float64(i)


@njit(cache=True, inline="always")
def _mix32(x):
    """A 32-bit integer hash (``lowbias32``, C. Wellons) on the low 32 bits of a uint64."""
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & np.uint64(_M32)
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & np.uint64(_M32)
    x ^= x >> np.uint64(16)
    return x


@njit(cache=True, parallel=True)
def _kernel(logits0, cst, learner, importance, expected_batch, policy, opt, T, window,
            curve_measure, ck_steps, ck_index, seed_key, block,
            curves, initial, final, stop_step, flatness, flattest):
    R = logits0.shape[0]
    n_blocks = (R + block - 1) // block
    for ib in prange(n_blocks):
        _run_block(logits0, ib * block, min(block, R - ib * block), cst, learner, importance,
                   expected_batch, policy, opt, T, window, curve_measure, ck_steps, ck_index,
                   seed_key, curves, initial, final, stop_step, flatness, flattest)


@njit(cache=True)
def _run_block(logits0, r0, B, cst, learner, importance, expected_batch, policy, opt, T, window,
               curve_measure, ck_steps, ck_index, seed_key,
               curves, initial, final, stop_step, flatness, flattest):
    """Runs ``r0 .. r0 + B - 1`` from start to stop; state ``[K, n, B]``, runs innermost."""
    R, K, n = logits0.shape
    eta, c_self, c_shared = cst[0], cst[1], cst[2]
    inv_n, n_f, stop_at = cst[3], cst[4], cst[5]
    start_gap, slope_norm = cst[6], cst[7]
    zero = cst[0] - cst[0]
    one = zero + cst[8]
    ftype_inf = cst[9]
    u_scale = cst[10]           # 2**-24
    h1, h2, eps = cst[11], cst[12], cst[13]     # optimizer hyper-parameters
    mix_keep, mix_floor = cst[14], cst[15]      # mixture behaviour: mix_keep pi + mix_floor
    b1t, b2t = one, one                         # Adam: beta1**t, beta2**t
    n_ck = ck_steps.shape[0]
    L = np.empty((K, n, B), logits0.dtype)
    E = np.empty((K, n, B), logits0.dtype)     # exp(L - max): unnormalised softmax
    P = np.empty((K, n, B), logits0.dtype)     # normalised softmax (flatness windows only)
    inv = np.empty((K, B), logits0.dtype)      # 1 / sum_a E[k, a]
    D = np.empty((K, B), logits0.dtype)        # pi_k(k) = J_k
    scale = np.zeros((K, B), logits0.dtype)
    so = (K, n, B) if opt else (1, 1, 1)        # optimizer state (gradient history only)
    S1 = np.zeros(so, logits0.dtype)
    S2 = np.zeros(so, logits0.dtype)
    T1 = np.zeros(so[1:], logits0.dtype)
    T2 = np.zeros(so[1:], logits0.dtype)
    w = np.empty((K, B), logits0.dtype)
    G = np.empty((n, B), logits0.dtype)
    m = np.empty(B, logits0.dtype)
    J = np.empty(B, logits0.dtype)
    rate = np.empty(B, logits0.dtype)
    act = np.empty(B, logits0.dtype)
    prev = np.empty(B, logits0.dtype)
    rmax = np.empty(B, logits0.dtype)
    thr = np.empty(B, logits0.dtype)
    flat = np.full(B, ftype_inf, logits0.dtype)
    rkey = np.empty((K, B), np.uint64)
    work = np.empty((3, B), logits0.dtype)
    last = np.zeros(B, np.int64)
    for k in range(K):
        for a in range(n):
            for i in range(B):
                L[k, a, i] = logits0[r0 + i, k, a]
        for i in range(B):
            rkey[k, i] = _mix32(np.uint64((r0 + i) * K + k) ^ seed_key)
    p_ck = 0
    t = 0
    while True:
        # softmax of the state after t updates
        _softmax(L, E, inv, D, m, J, zero, one)
        if t == 0:
            for i in range(B):
                for k in range(K):
                    initial[r0 + i, k] = D[k, i]
                prev[i] = J[i]
                rmax[i] = J[i]
                thr[i] = J[i] + start_gap
                act[i] = one if J[i] < stop_at else zero
        else:
            for i in range(B):
                if act[i] > zero:
                    last[i] = t
            if t % window == 0:
                if curve_measure:
                    for i in range(B):
                        rate[i] = abs(J[i] - prev[i]) / slope_norm
                else:
                    _expected_scales(D, act, scale, learner, importance, inv_n, one, False,
                                     mix_keep, mix_floor)
                    _normalise(E, inv, P)
                    _expected_rate(P, scale, policy, work, rate, zero, one)
                for i in range(B):
                    rmax[i] = max(rmax[i], J[i])
                    if act[i] > zero and rmax[i] >= thr[i] and rate[i] < flat[i]:
                        flat[i] = rate[i]
                        for k in range(K):
                            flattest[r0 + i, k] = D[k, i]
                    prev[i] = J[i]
            for i in range(B):
                if J[i] >= stop_at:
                    act[i] = zero
        while p_ck < n_ck and ck_steps[p_ck] == t:
            for i in range(B):
                for k in range(K):
                    curves[r0 + i, ck_index[p_ck], k] = D[k, i]
            p_ck += 1
        n_act = 0
        for i in range(B):
            n_act += act[i] > zero
        if t >= T or n_act == 0:
            break
        # one update (step t + 1) from P
        t += 1
        if learner == 2 or expected_batch:
            _expected_scales(D, act, scale, learner, importance, inv_n, one, True, mix_keep,
                             mix_floor)
        else:
            _sampled_scales(D, act, scale, learner, importance, inv_n, n_f, zero, one, u_scale,
                            rkey, _mix32(np.uint64(t) ^ seed_key), mix_keep, mix_floor)
        if opt == 0:
            _update(L, E, inv, scale, w, G, eta, c_self, c_shared, zero)
        else:
            b1t *= h1
            b2t *= h2
            _update_opt(L, E, inv, scale, w, G, S1, S2, T1, T2, act, opt, eta, c_self, c_shared,
                        h1, h2, one / (one - b1t), one / (one - b2t), eps, zero, one)
        if t % RECENTER == 0:
            _recenter(L, m)
    # checkpoints after the block stopped hold the final values
    while p_ck < n_ck:
        for i in range(B):
            for k in range(K):
                curves[r0 + i, ck_index[p_ck], k] = D[k, i]
        p_ck += 1
    for i in range(B):
        for k in range(K):
            final[r0 + i, k] = D[k, i]
        stop_step[r0 + i] = last[i]
        flatness[r0 + i] = flat[i]


@njit(cache=True)
def _softmax(L, E, inv, D, m, J, zero, one):
    """Softmax of every context, left unnormalised: ``E[k] = exp(L[k] - max_a L[k, a])``,
    ``inv[k] = 1 / sum_a E[k, a]``, ``D[k] = pi_k(k) = J_k``, ``J = sum_k J_k``; ``[K, n, B]``."""
    K, n, B = L.shape
    for i in range(B):
        J[i] = zero
    for k in range(K):
        for i in range(B):
            m[i] = L[k, 0, i]
            inv[k, i] = zero
        for a in range(1, n):
            for i in range(B):
                m[i] = max(m[i], L[k, a, i])
        for a in range(n):
            for i in range(B):
                e = _exp(L[k, a, i] - m[i])
                E[k, a, i] = e
                inv[k, i] += e
        for i in range(B):
            inv[k, i] = one / inv[k, i]
            D[k, i] = E[k, k, i] * inv[k, i]
            J[i] += D[k, i]


@njit(cache=True)
def _normalise(E, inv, P):
    """``P = E * inv``: the normalised softmax."""
    K, n, B = E.shape
    for k in range(K):
        for a in range(n):
            for i in range(B):
                P[k, a, i] = E[k, a, i] * inv[k, i]


@njit(cache=True)
def _expected_scales(D, act, scale, learner, importance, inv_n, one, masked, mix_keep,
                     mix_floor):
    """Expected reward scale of each context: ``E[r w]`` with ``w`` the update's weight.

    On-policy (and importance-weighted off-policy): ``pi_k(k)``; off-policy without
    weighting: ``1/n``; mixture: ``mu_k(k) = mix_keep pi_k(k) + mix_floor``; supervised: 1.
    ``masked``: multiply by ``act`` (stopped runs: 0).
    """
    K, B = D.shape
    for k in range(K):
        if learner == 2:
            for i in range(B):
                scale[k, i] = one
        elif learner == 3:
            for i in range(B):
                scale[k, i] = mix_keep * D[k, i] + mix_floor
        elif learner == 0 or importance:
            for i in range(B):
                scale[k, i] = D[k, i]
        else:
            for i in range(B):
                scale[k, i] = inv_n
        if masked:
            for i in range(B):
                scale[k, i] *= act[i]


@njit(cache=True)
def _sampled_scales(D, act, scale, learner, importance, inv_n, n_f, zero, one, u_scale, rkey,
                    skey, mix_keep, mix_floor):
    """One sampled reward scale per context (App. A): ``u ~ U[0, 1)`` from two rounds of the
    hash of ``(run key, update key)`` (one round, ``mix(run key ^ update key)``, leaves
    structure between the contexts of a run that biases momentum and Adam runs: caught by
    ``test_optimizers_agree_with_the_reference``); on-policy ``r = 1[u < pi_k(k)]``
    (Bernoulli draw of the rewarded arm); mixture ``1[u < mix_keep pi_k(k) + mix_floor]``
    (the behaviour ``mu_k`` picks arm k); off-policy ``1[u < 1/n]`` (uniform behaviour picks
    arm k), times ``n pi_k(k)`` with importance weighting."""
    K, B = D.shape
    sh8 = np.uint64(8)
    m32 = np.uint64(_M32)
    for k in range(K):
        if learner == 0:
            for i in range(B):
                h = _mix32((_mix32(rkey[k, i] ^ skey) + skey) & m32)
                u = _to_float(np.int32(h >> sh8), one) * u_scale
                scale[k, i] = act[i] if u < D[k, i] else zero
        elif learner == 3:
            for i in range(B):
                h = _mix32((_mix32(rkey[k, i] ^ skey) + skey) & m32)
                u = _to_float(np.int32(h >> sh8), one) * u_scale
                scale[k, i] = act[i] if u < mix_keep * D[k, i] + mix_floor else zero
        else:
            for i in range(B):
                h = _mix32((_mix32(rkey[k, i] ^ skey) + skey) & m32)
                u = _to_float(np.int32(h >> sh8), one) * u_scale
                scale[k, i] = act[i] if u < inv_n else zero
            if importance:
                for i in range(B):
                    scale[k, i] *= n_f * D[k, i]


@njit(cache=True)
def _bias_gradient(E, inv, scale, w, G, zero):
    """``w = scale inv`` and the shared-bias gradient ``G[a] = sum_k g_k[a]`` with
    ``g_k = scale_k (e_k - pi_k)``, ``pi_k = E[k] inv[k]``."""
    K, n, B = E.shape
    for k in range(K):
        for i in range(B):
            w[k, i] = scale[k, i] * inv[k, i]
    for a in range(n):
        for i in range(B):
            G[a, i] = zero
        for k in range(K):
            if a == k:
                for i in range(B):
                    G[a, i] += scale[k, i] - w[k, i] * E[k, a, i]
            else:
                for i in range(B):
                    G[a, i] -= w[k, i] * E[k, a, i]


@njit(cache=True)
def _update(L, E, inv, scale, w, G, eta, c_self, c_shared, zero):
    """SGD step in logit space: ``L[k] += eta (c_self g_k + c_shared sum_j g_j)`` with
    ``g_k = scale_k (e_k - pi_k)`` and ``pi_k = E[k] inv[k]`` (``w = scale inv``)."""
    K, n, B = L.shape
    _bias_gradient(E, inv, scale, w, G, zero)
    for a in range(n):
        for i in range(B):
            G[a, i] *= c_shared
    for k in range(K):
        for a in range(n):
            if a == k:
                for i in range(B):
                    L[k, a, i] += eta * (c_self * (scale[k, i] - w[k, i] * E[k, a, i]) + G[a, i])
            else:
                for i in range(B):
                    L[k, a, i] += eta * (G[a, i] - c_self * w[k, i] * E[k, a, i])


@njit(cache=True, inline="always")
def _opt_step(g, s1, s2, opt, h1, h2, bc1, bc2, eps, one):
    """One optimizer step on gradient ``g`` with state ``(s1, s2)`` -> ``(direction, s1, s2)``
    (as :class:`rayint_lib.updates.Optimizer`): momentum ``v = h1 v + g``; RMSProp
    ``s = h2 s + (1 - h2) g^2``, ``g / (sqrt(s) + eps)``; Adam with bias corrections
    ``bc1 = 1 / (1 - h1^t)``, ``bc2 = 1 / (1 - h2^t)``."""
    if opt == 1:
        s1 = h1 * s1 + g
        return s1, s1, s2
    if opt == 2:
        s2 = h2 * s2 + (one - h2) * g * g
        return g / (math.sqrt(s2) + eps), s1, s2
    s1 = h1 * s1 + (one - h1) * g
    s2 = h2 * s2 + (one - h2) * g * g
    return (s1 * bc1) / (math.sqrt(s2 * bc2) + eps), s1, s2


@njit(cache=True)
def _update_opt(L, E, inv, scale, w, G, S1, S2, T1, T2, act, opt, eta, c_self, c_shared, h1, h2,
                bc1, bc2, eps, zero, one):
    """Momentum / RMSProp / Adam step, in logit space: the W part (gradient ``g_k`` per
    context) and the shared-bias part (gradient ``sum_k g_k``) each keep their optimizer
    state; separate networks move ``W_k`` and ``b_k`` identically (same gradient, same
    state), hence ``c_self = 2``. Stopped runs do not move."""
    K, n, B = L.shape
    _bias_gradient(E, inv, scale, w, G, zero)
    if c_shared > zero:
        for a in range(n):
            for i in range(B):
                d, T1[a, i], T2[a, i] = _opt_step(G[a, i], T1[a, i], T2[a, i], opt, h1, h2, bc1,
                                                  bc2, eps, one)
                G[a, i] = c_shared * act[i] * d
    else:
        for a in range(n):
            for i in range(B):
                G[a, i] = zero
    for k in range(K):
        for a in range(n):
            if a == k:
                for i in range(B):
                    g = scale[k, i] - w[k, i] * E[k, a, i]
                    d, S1[k, a, i], S2[k, a, i] = _opt_step(g, S1[k, a, i], S2[k, a, i], opt, h1,
                                                            h2, bc1, bc2, eps, one)
                    L[k, a, i] += eta * (c_self * act[i] * d + G[a, i])
            else:
                for i in range(B):
                    g = -w[k, i] * E[k, a, i]
                    d, S1[k, a, i], S2[k, a, i] = _opt_step(g, S1[k, a, i], S2[k, a, i], opt, h1,
                                                            h2, bc1, bc2, eps, one)
                    L[k, a, i] += eta * (c_self * act[i] * d + G[a, i])


@njit(cache=True)
def _recenter(L, m):
    """Subtract each context's largest logit (softmax unchanged; logits stay bounded)."""
    K, n, B = L.shape
    for k in range(K):
        for i in range(B):
            m[i] = L[k, 0, i]
        for a in range(1, n):
            for i in range(B):
                m[i] = max(m[i], L[k, a, i])
        for a in range(n):
            for i in range(B):
                L[k, a, i] -= m[i]


@njit(cache=True)
def _expected_rate(P, scale, policy, work, rate, zero, one):
    """``dJ/dt`` of the expected SGD update at the softmax ``P`` ``[K, n, B]`` (into ``rate``).

    ``scale``: the expected scales ``s_k``. Per context ``<p_kk (e_k - pi_k), s_k (e_k - pi_k)>``;
    the shared bias adds ``<sum_k p_kk (e_k - pi_k), sum_k s_k (e_k - pi_k)>``; separate
    networks count the per-context term twice (as ``updates.expected_progress_rate``).
    """
    K, n, B = P.shape
    sq, gj, dd = work[0], work[1], work[2]
    for i in range(B):
        rate[i] = zero
    for k in range(K):
        for i in range(B):
            sq[i] = zero
        for a in range(n):
            if a == k:
                for i in range(B):
                    d = one - P[k, a, i]
                    sq[i] += d * d
            else:
                for i in range(B):
                    sq[i] += P[k, a, i] * P[k, a, i]
        for i in range(B):
            rate[i] += P[k, k, i] * scale[k, i] * sq[i]
    if policy == 2:
        for i in range(B):
            rate[i] += rate[i]
    elif policy == 0:
        for a in range(n):
            for i in range(B):
                gj[i] = zero
                dd[i] = zero
            for k in range(K):
                if a == k:
                    for i in range(B):
                        d = one - P[k, a, i]
                        gj[i] += P[k, k, i] * d
                        dd[i] += scale[k, i] * d
                else:
                    for i in range(B):
                        d = -P[k, a, i]
                        gj[i] += P[k, k, i] * d
                        dd[i] += scale[k, i] * d
            for i in range(B):
                rate[i] += gj[i] * dd[i]


def block_size(K, n, n_runs, n_threads=None):
    """Runs per block: the state ``[K, n, B]`` stays cache-sized, and every thread gets work.

    Results do not depend on it (each run's arithmetic is independent of its block).
    """
    n_threads = n_threads or numba.get_num_threads()
    cap = max(8, min(512, (16384 // (K * n)) // 8 * 8))
    share = -(-n_runs // n_threads)
    return int(max(1, min(cap, -(-share // 8) * 8)))


def seed_key(seed):
    """32-bit key of the sampling hash, derived from the config seed."""
    return np.uint64(np.random.SeedSequence([int(seed), 7]).generate_state(1, np.uint32)[0])


def run_kernel(config, logits0, steps, dtype=np.float32, block=None):
    """Run the compiled kernel from ``logits0`` ``[runs, K, n]``; returns the raw arrays.

    ``steps``: checkpoints (non-negative ints). Returns ``(curves, initial, final,
    stop_step, flatness, flattest)`` with flatness ``inf`` where no window qualified.
    """
    cfg = config
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}")
    R, K, n = logits0.shape
    c_self, c_shared = {"shared_bias": (1.0, 1.0), "tabular": (1.0, 0.0),
                        "separate": (2.0, 0.0)}[cfg.policy]
    ref = Optimizer(cfg.optimizer, cfg.eta)           # the reference's hyper-parameters
    h1, h2 = {"sgd": (0.0, 0.0), "momentum": (ref.momentum, 0.0), "rmsprop": (0.0, ref.decay),
              "adam": ref.betas}[cfg.optimizer]
    cst = np.array([cfg.eta, c_self, c_shared, 1.0 / n, n, K - cfg.solved_margin,
                    cfg.start_margin * K, cfg.eta * cfg.window, 1.0, np.inf, 2.0 ** -24,
                    h1, h2, ref.eps, 1.0 - cfg.mix_fraction, cfg.mix_fraction / n], dtype)
    steps = np.asarray(steps, dtype=np.int64)
    order = np.argsort(steps, kind="stable")
    curves = np.empty((R, steps.size, K))
    initial = np.empty((R, K))
    final = np.empty((R, K))
    stop_step = np.zeros(R, np.int64)
    flatness = np.empty(R)
    flattest = np.full((R, K), np.nan)
    _kernel(np.ascontiguousarray(logits0, dtype=dtype), cst, LEARNER_CODES[cfg.learner],
           cfg.off_policy_weighting == "importance", cfg.batch == "expected",
           POLICY_CODES[cfg.policy], OPTIMIZER_CODES[cfg.optimizer], cfg.max_updates, cfg.window,
           cfg.flatness_measure == "curve", steps[order], order.astype(np.int64),
           seed_key(cfg.seed), block or block_size(K, n, R), curves, initial, final, stop_step,
           flatness, flattest)
    return curves, initial, final, stop_step, flatness, flattest

"""The compiled bandit simulator: a numba kernel over blocks of runs (App. A, issue 7).

Same semantics as :func:`rayint_lib.model.simulate.simulate_reference` for every learner,
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
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numba
import numpy as np
from llvmlite import ir
from numba import njit, types
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


@njit(cache=True, inline="always")
def _draw(run_key, update_key):
    """24 random bits for one ``(run key, update key)`` pair: two rounds of :func:`_mix32`
    (the engine's one random-number scheme; uniforms are ``bits * 2**-24``)."""
    h = _mix32((_mix32(run_key ^ update_key) + update_key) & np.uint64(_M32))
    return np.int32(h >> np.uint64(8))


@njit(cache=True, inline="always")
def stream_key(key, run, slot, n_slots):
    """The hash key of slot ``slot`` (of ``n_slots``) of run ``run`` under the 32-bit ``key``."""
    return _mix32(np.uint64(run * n_slots + slot) ^ key)


@njit(cache=True, inline="always")
def update_key(key, t):
    """The hash key of update ``t`` under the 32-bit ``key``."""
    return _mix32(np.uint64(t) ^ key)


@njit(cache=True, inline="always")
def draw_uniform(slot_key, step_key):
    """The uniform in ``[0, 1)`` (24 bits, float64) of a slot key and an update key."""
    return float(_draw(slot_key, step_key)) * 2.0 ** -24


@njit(cache=True)
def uniform(key, run, slot, n_slots, t):
    """The uniform in ``[0, 1)`` (24 bits) that run ``run`` draws in slot ``slot`` (of
    ``n_slots``) at update ``t`` under the 32-bit ``key``: the sampled learners' draw of
    context ``slot`` (``n_slots = K``, ``key = seed_keys(seed)[0]``), for any other stream."""
    return draw_uniform(stream_key(key, run, slot, n_slots), update_key(key, t))


class Settings(NamedTuple):
    """The real-valued constants of one kernel call, all in the state's float type."""

    eta: float              # step size
    self_coef: float        # weight of a context's own gradient: 1, or 2 for separate networks
    shared_coef: float      # weight of the shared-bias gradient sum_k g_k: 1 or 0
    inv_n: float            # 1 / n: uniform behaviour's probability of the rewarded arm
    n_actions: float        # n (importance weight pi / mu = n pi)
    stop_at: float          # stop a run once J >= K - solved_margin
    start_gap: float        # flatness counts once max J >= J(theta0) + start_margin K
    slope_norm: float       # eta x window: normalises the slope of the curve
    zero: float
    one: float
    infinity: float
    uniform_scale: float    # 2**-24: turns a 24-bit integer into a uniform in [0, 1)
    beta1: float            # momentum / Adam first-moment decay
    beta2: float            # RMSProp / Adam second-moment decay
    eps: float              # RMSProp / Adam denominator guard
    mix_keep: float         # mixture behaviour mu = mix_keep pi + mix_floor
    mix_floor: float


class Codes(NamedTuple):
    """The discrete choices and sizes of one kernel call."""

    learner: int            # LEARNER_CODES
    importance: bool        # off-policy importance weights pi / mu
    expected_batch: bool    # expected (infinite-batch) instead of sampled updates
    policy: int             # POLICY_CODES
    optimizer: int          # OPTIMIZER_CODES
    max_updates: int
    window: int             # updates between flatness measurements
    curve_measure: bool     # flatness from the slope of J(t) instead of the expected rate
    seed_key: np.uint64     # key of the counter-based hash
    record_logits: bool     # keep the logits at the checkpoints


class Outputs(NamedTuple):
    """Arrays the kernel fills, one row per run."""

    curves: np.ndarray      # J_k at the checkpoints [runs, checkpoints, K]
    initial: np.ndarray     # J_k(theta0) [runs, K]
    final: np.ndarray       # J_k at the stop [runs, K]
    stop_step: np.ndarray   # updates done [runs]
    flatness: np.ndarray    # slowest progress rate (inf where no window qualified) [runs]
    flattest: np.ndarray    # J_k where it was measured [runs, K]
    logits: np.ndarray      # logits at the checkpoints [runs, checkpoints, K, n] (or a dummy)


@njit(cache=True, nogil=True)
def _kernel(logits0, settings, codes, checkpoint_steps, checkpoint_index, block, out, first,
            stop):
    """Blocks ``first .. stop - 1`` (:func:`in_threads` gives each thread its share)."""
    n_runs = logits0.shape[0]
    for ib in range(first, stop):
        _run_block(logits0, ib * block, min(block, n_runs - ib * block), settings, codes,
                   checkpoint_steps, checkpoint_index, out)


def in_threads(f, n_items, *args):
    """``f(*args, first, stop)`` over ``0 .. n_items - 1`` in ``numba.get_num_threads()``
    contiguous shares, one thread each (``f`` compiled with ``nogil``). Numba's ``prange``
    would do the same, at several seconds more compilation per kernel when the cache is
    empty; each item's result does not depend on its share."""
    n = max(1, min(numba.get_num_threads(), n_items))
    edges = np.linspace(0, n_items, n + 1).astype(np.int64)
    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(lambda i: f(*args, edges[i], edges[i + 1]), range(n)))


@njit(cache=True)
def _record(out, record_logits, run0, column, right, logits):
    """Write the block's ``J_k`` (and logits) into checkpoint ``column``."""
    K, n, B = logits.shape
    for i in range(B):
        for k in range(K):
            out.curves[run0 + i, column, k] = right[k, i]
    if record_logits:
        for i in range(B):
            for k in range(K):
                for a in range(n):
                    out.logits[run0 + i, column, k, a] = logits[k, a, i]


@njit(cache=True)
def _run_block(logits0, run0, B, s, c, checkpoint_steps, checkpoint_index, out):
    """Runs ``run0 .. run0 + B - 1`` from start to stop; state ``[K, n, B]``, runs innermost.

    ``s``: :class:`Settings`, ``c``: :class:`Codes`; results go into ``out``
    (:class:`Outputs`)."""
    n_runs, K, n = logits0.shape
    ftype = logits0.dtype
    zero, one = s.zero, s.one
    beta1_t, beta2_t = one, one                 # Adam: beta1**t, beta2**t
    n_checkpoints = checkpoint_steps.shape[0]
    logits = np.empty((K, n, B), ftype)
    exp_shifted = np.empty((K, n, B), ftype)    # exp(logits - max): unnormalised softmax
    probs = np.empty((K, n, B), ftype)          # normalised softmax (flatness windows only)
    inv_sum = np.empty((K, B), ftype)           # 1 / sum_a exp_shifted[k, a]
    right = np.empty((K, B), ftype)             # pi_k(k) = J_k
    scale = np.zeros((K, B), ftype)             # reward scale of each context's update
    shape = (K, n, B) if c.optimizer else (1, 1, 1)     # optimizer state (gradients only)
    moment1 = np.zeros(shape, ftype)            # W part: first moment / velocity
    moment2 = np.zeros(shape, ftype)            # W part: second moment
    bias_moment1 = np.zeros(shape[1:], ftype)   # shared-bias part
    bias_moment2 = np.zeros(shape[1:], ftype)
    weight = np.empty((K, B), ftype)            # scale / sum_a exp_shifted
    bias_grad = np.empty((n, B), ftype)         # sum_k g_k
    row_max = np.empty(B, ftype)
    total = np.empty(B, ftype)                  # J = sum_k J_k
    rate = np.empty(B, ftype)
    active = np.empty(B, ftype)                 # 1 while the run learns, else 0
    previous = np.empty(B, ftype)               # J at the last flatness window
    running_max = np.empty(B, ftype)
    threshold = np.empty(B, ftype)              # J(theta0) + start gap
    slowest = np.full(B, s.infinity, ftype)     # flattest progress rate so far
    run_key = np.empty((K, B), np.uint64)
    work = np.empty((3, B), ftype)
    last = np.zeros(B, np.int64)
    for k in range(K):
        for a in range(n):
            for i in range(B):
                logits[k, a, i] = logits0[run0 + i, k, a]
        for i in range(B):
            run_key[k, i] = _mix32(np.uint64((run0 + i) * K + k) ^ c.seed_key)
    next_checkpoint = 0
    t = 0
    while True:
        # softmax of the state after t updates
        _softmax(logits, exp_shifted, inv_sum, right, row_max, total, zero, one)
        if t == 0:
            for i in range(B):
                for k in range(K):
                    out.initial[run0 + i, k] = right[k, i]
                previous[i] = total[i]
                running_max[i] = total[i]
                threshold[i] = total[i] + s.start_gap
                active[i] = one if total[i] < s.stop_at else zero
        else:
            for i in range(B):
                if active[i] > zero:
                    last[i] = t
            if t % c.window == 0:
                if c.curve_measure:
                    for i in range(B):
                        rate[i] = abs(total[i] - previous[i]) / s.slope_norm
                else:
                    _expected_scales(right, active, scale, s, c, False)
                    _normalise(exp_shifted, inv_sum, probs)
                    _expected_rate(probs, scale, c.policy, work, rate, zero, one)
                for i in range(B):
                    running_max[i] = max(running_max[i], total[i])
                    if active[i] > zero and running_max[i] >= threshold[i] and rate[i] < slowest[i]:
                        slowest[i] = rate[i]
                        for k in range(K):
                            out.flattest[run0 + i, k] = right[k, i]
                    previous[i] = total[i]
            for i in range(B):
                if total[i] >= s.stop_at:
                    active[i] = zero
        while next_checkpoint < n_checkpoints and checkpoint_steps[next_checkpoint] == t:
            _record(out, c.record_logits, run0, checkpoint_index[next_checkpoint], right, logits)
            next_checkpoint += 1
        n_active = 0
        for i in range(B):
            n_active += active[i] > zero
        if t >= c.max_updates or n_active == 0:
            break
        # one update (step t + 1)
        t += 1
        if c.learner == 2 or c.expected_batch:
            _expected_scales(right, active, scale, s, c, True)
        else:
            _sampled_scales(right, active, scale, s, c, run_key, _mix32(np.uint64(t) ^ c.seed_key))
            if c.learner == 3 and c.importance:
                _mixture_weights(right, scale, s)
        if c.optimizer == 0:
            _update(logits, exp_shifted, inv_sum, scale, weight, bias_grad, s.eta, s.self_coef,
                    s.shared_coef, zero)
        else:
            beta1_t *= s.beta1
            beta2_t *= s.beta2
            _update_opt(logits, exp_shifted, inv_sum, scale, weight, bias_grad, moment1, moment2,
                        bias_moment1, bias_moment2, active, c.optimizer, s,
                        one / (one - beta1_t), one / (one - beta2_t))
        if t % RECENTER == 0:
            _recenter(logits, row_max)
    # checkpoints after the block stopped hold the final values
    while next_checkpoint < n_checkpoints:
        _record(out, c.record_logits, run0, checkpoint_index[next_checkpoint], right, logits)
        next_checkpoint += 1
    for i in range(B):
        for k in range(K):
            out.final[run0 + i, k] = right[k, i]
        out.stop_step[run0 + i] = last[i]
        out.flatness[run0 + i] = slowest[i]


@njit(cache=True)
def _softmax(logits, exp_shifted, inv_sum, right, row_max, total, zero, one):
    """Softmax of every context, left unnormalised: ``exp_shifted[k] = exp(logits[k] - max_a
    logits[k, a])``, ``inv_sum[k] = 1 / sum_a exp_shifted[k, a]``, ``right[k] = pi_k(k) =
    J_k``, ``total = sum_k J_k``; state ``[K, n, B]``."""
    K, n, B = logits.shape
    for i in range(B):
        total[i] = zero
    for k in range(K):
        for i in range(B):
            row_max[i] = logits[k, 0, i]
            inv_sum[k, i] = zero
        for a in range(1, n):
            for i in range(B):
                row_max[i] = max(row_max[i], logits[k, a, i])
        for a in range(n):
            for i in range(B):
                e = _exp(logits[k, a, i] - row_max[i])
                exp_shifted[k, a, i] = e
                inv_sum[k, i] += e
        for i in range(B):
            inv_sum[k, i] = one / inv_sum[k, i]
            right[k, i] = exp_shifted[k, k, i] * inv_sum[k, i]
            total[i] += right[k, i]


@njit(cache=True)
def _normalise(exp_shifted, inv_sum, probs):
    """``probs = exp_shifted * inv_sum``: the normalised softmax."""
    K, n, B = exp_shifted.shape
    for k in range(K):
        for a in range(n):
            for i in range(B):
                probs[k, a, i] = exp_shifted[k, a, i] * inv_sum[k, i]


@njit(cache=True)
def _expected_scales(right, active, scale, s, c, masked):
    """Expected reward scale of each context: ``E[r w]`` with ``w`` the update's weight.

    On-policy (and importance-weighted off-policy or mixture): ``pi_k(k)``; off-policy
    without weighting: ``1/n``; mixture: ``mu_k(k) = mix_keep pi_k(k) + mix_floor``;
    supervised: 1.
    ``masked``: multiply by ``active`` (stopped runs: 0).
    """
    K, B = right.shape
    for k in range(K):
        if c.learner == 2:
            for i in range(B):
                scale[k, i] = s.one
        elif c.learner == 3 and not c.importance:
            for i in range(B):
                scale[k, i] = s.mix_keep * right[k, i] + s.mix_floor
        elif c.learner == 0 or c.importance:
            for i in range(B):
                scale[k, i] = right[k, i]
        else:
            for i in range(B):
                scale[k, i] = s.inv_n
        if masked:
            for i in range(B):
                scale[k, i] *= active[i]


@njit(cache=True)
def _sampled_scales(right, active, scale, s, c, run_key, update_key):
    """One sampled reward scale per context (App. A): ``u ~ U[0, 1)`` from two rounds of the
    hash of ``(run key, update key)`` (one round, ``mix(run key ^ update key)``, leaves
    structure between the contexts of a run that biases momentum and Adam runs: caught by
    ``test_optimizers_agree_with_the_reference``); on-policy ``r = 1[u < pi_k(k)]``
    (Bernoulli draw of the rewarded arm); mixture ``1[u < mix_keep pi_k(k) + mix_floor]``
    (the behaviour ``mu_k`` picks arm k; importance weights: :func:`_mixture_weights`);
    off-policy ``1[u < 1/n]`` (uniform behaviour picks arm k), times ``n pi_k(k)``
    with importance weighting."""
    K, B = right.shape
    zero, one = s.zero, s.one
    for k in range(K):
        if c.learner == 0:
            for i in range(B):
                u = _to_float(_draw(run_key[k, i], update_key), one) * s.uniform_scale
                scale[k, i] = active[i] if u < right[k, i] else zero
        elif c.learner == 3:
            for i in range(B):
                u = _to_float(_draw(run_key[k, i], update_key), one) * s.uniform_scale
                scale[k, i] = active[i] if u < s.mix_keep * right[k, i] + s.mix_floor else zero
        else:
            for i in range(B):
                u = _to_float(_draw(run_key[k, i], update_key), one) * s.uniform_scale
                scale[k, i] = active[i] if u < s.inv_n else zero
            if c.importance:
                for i in range(B):
                    scale[k, i] *= s.n_actions * right[k, i]


@njit(cache=True)
def _mixture_weights(right, scale, s):
    """Importance weights of the mixture learner's samples: ``scale *= pi_k(k) / mu_k(k)``
    (a separate loop, so that the other learners' sampling code is unchanged)."""
    K, B = right.shape
    for k in range(K):
        for i in range(B):
            scale[k, i] *= right[k, i] / (s.mix_keep * right[k, i] + s.mix_floor)


@njit(cache=True)
def _bias_gradient(exp_shifted, inv_sum, scale, weight, bias_grad, zero):
    """``weight = scale inv_sum`` and the shared-bias gradient ``bias_grad[a] = sum_k
    g_k[a]`` with ``g_k = scale_k (e_k - pi_k)``, ``pi_k = exp_shifted[k] inv_sum[k]``."""
    K, n, B = exp_shifted.shape
    for k in range(K):
        for i in range(B):
            weight[k, i] = scale[k, i] * inv_sum[k, i]
    for a in range(n):
        for i in range(B):
            bias_grad[a, i] = zero
        for k in range(K):
            if a == k:
                for i in range(B):
                    bias_grad[a, i] += scale[k, i] - weight[k, i] * exp_shifted[k, a, i]
            else:
                for i in range(B):
                    bias_grad[a, i] -= weight[k, i] * exp_shifted[k, a, i]


@njit(cache=True)
def _update(logits, exp_shifted, inv_sum, scale, weight, bias_grad, eta, self_coef, shared_coef,
            zero):
    """SGD step in logit space: ``logits[k] += eta (self_coef g_k + shared_coef sum_j g_j)``
    with ``g_k = scale_k (e_k - pi_k)`` and ``pi_k = exp_shifted[k] inv_sum[k]``."""
    K, n, B = logits.shape
    _bias_gradient(exp_shifted, inv_sum, scale, weight, bias_grad, zero)
    for a in range(n):
        for i in range(B):
            bias_grad[a, i] *= shared_coef
    for k in range(K):
        for a in range(n):
            if a == k:
                for i in range(B):
                    logits[k, a, i] += eta * (self_coef * (scale[k, i] - weight[k, i]
                                                           * exp_shifted[k, a, i])
                                              + bias_grad[a, i])
            else:
                for i in range(B):
                    logits[k, a, i] += eta * (bias_grad[a, i]
                                              - self_coef * weight[k, i] * exp_shifted[k, a, i])


@njit(cache=True, inline="always")
def _opt_step(g, m1, m2, optimizer, beta1, beta2, corr1, corr2, eps, one):
    """One optimizer step on gradient ``g`` with state ``(m1, m2)`` -> ``(direction, m1, m2)``
    (as :class:`rayint_lib.model.updates.Optimizer`): momentum ``v = beta1 v + g``; RMSProp
    ``s = beta2 s + (1 - beta2) g^2``, ``g / (sqrt(s) + eps)``; Adam with bias corrections
    ``corr1 = 1 / (1 - beta1^t)``, ``corr2 = 1 / (1 - beta2^t)``."""
    if optimizer == 1:
        m1 = beta1 * m1 + g
        return m1, m1, m2
    if optimizer == 2:
        m2 = beta2 * m2 + (one - beta2) * g * g
        return g / (math.sqrt(m2) + eps), m1, m2
    m1 = beta1 * m1 + (one - beta1) * g
    m2 = beta2 * m2 + (one - beta2) * g * g
    return (m1 * corr1) / (math.sqrt(m2 * corr2) + eps), m1, m2


@njit(cache=True)
def _update_opt(logits, exp_shifted, inv_sum, scale, weight, bias_grad, moment1, moment2,
                bias_moment1, bias_moment2, active, optimizer, s, corr1, corr2):
    """Momentum / RMSProp / Adam step, in logit space: the W part (gradient ``g_k`` per
    context) and the shared-bias part (gradient ``sum_k g_k``) each keep their optimizer
    state; separate networks move ``W_k`` and ``b_k`` identically (same gradient, same
    state), hence ``self_coef = 2``. Stopped runs do not move."""
    K, n, B = logits.shape
    zero, one = s.zero, s.one
    _bias_gradient(exp_shifted, inv_sum, scale, weight, bias_grad, zero)
    if s.shared_coef > zero:
        for a in range(n):
            for i in range(B):
                d, bias_moment1[a, i], bias_moment2[a, i] = _opt_step(
                    bias_grad[a, i], bias_moment1[a, i], bias_moment2[a, i], optimizer, s.beta1,
                    s.beta2, corr1, corr2, s.eps, one)
                bias_grad[a, i] = s.shared_coef * active[i] * d
    else:
        for a in range(n):
            for i in range(B):
                bias_grad[a, i] = zero
    for k in range(K):
        for a in range(n):
            if a == k:
                for i in range(B):
                    g = scale[k, i] - weight[k, i] * exp_shifted[k, a, i]
                    d, moment1[k, a, i], moment2[k, a, i] = _opt_step(
                        g, moment1[k, a, i], moment2[k, a, i], optimizer, s.beta1, s.beta2,
                        corr1, corr2, s.eps, one)
                    logits[k, a, i] += s.eta * (s.self_coef * active[i] * d + bias_grad[a, i])
            else:
                for i in range(B):
                    g = -weight[k, i] * exp_shifted[k, a, i]
                    d, moment1[k, a, i], moment2[k, a, i] = _opt_step(
                        g, moment1[k, a, i], moment2[k, a, i], optimizer, s.beta1, s.beta2,
                        corr1, corr2, s.eps, one)
                    logits[k, a, i] += s.eta * (s.self_coef * active[i] * d + bias_grad[a, i])


@njit(cache=True)
def _recenter(logits, row_max):
    """Subtract each context's largest logit (softmax unchanged; logits stay bounded)."""
    K, n, B = logits.shape
    for k in range(K):
        for i in range(B):
            row_max[i] = logits[k, 0, i]
        for a in range(1, n):
            for i in range(B):
                row_max[i] = max(row_max[i], logits[k, a, i])
        for a in range(n):
            for i in range(B):
                logits[k, a, i] -= row_max[i]


@njit(cache=True)
def _expected_rate(probs, scale, policy, work, rate, zero, one):
    """``dJ/dt`` of the expected SGD update at the softmax ``probs`` ``[K, n, B]`` (into
    ``rate``).

    ``scale``: the expected scales ``s_k``. Per context ``<p_kk (e_k - pi_k), s_k (e_k -
    pi_k)>``; the shared bias adds ``<sum_k p_kk (e_k - pi_k), sum_k s_k (e_k - pi_k)>``;
    separate networks count the per-context term twice (as
    ``updates.expected_progress_rate``).
    """
    K, n, B = probs.shape
    sq, own_sum, scaled_sum = work[0], work[1], work[2]
    for i in range(B):
        rate[i] = zero
    for k in range(K):
        for i in range(B):
            sq[i] = zero
        for a in range(n):
            if a == k:
                for i in range(B):
                    d = one - probs[k, a, i]
                    sq[i] += d * d
            else:
                for i in range(B):
                    sq[i] += probs[k, a, i] * probs[k, a, i]
        for i in range(B):
            rate[i] += probs[k, k, i] * scale[k, i] * sq[i]
    if policy == 2:
        for i in range(B):
            rate[i] += rate[i]
    elif policy == 0:
        for a in range(n):
            for i in range(B):
                own_sum[i] = zero
                scaled_sum[i] = zero
            for k in range(K):
                if a == k:
                    for i in range(B):
                        d = one - probs[k, a, i]
                        own_sum[i] += probs[k, k, i] * d
                        scaled_sum[i] += scale[k, i] * d
                else:
                    for i in range(B):
                        d = -probs[k, a, i]
                        own_sum[i] += probs[k, k, i] * d
                        scaled_sum[i] += scale[k, i] * d
            for i in range(B):
                rate[i] += own_sum[i] * scaled_sum[i]


def block_size(K, n, n_runs, n_threads=None):
    """Runs per block: the state ``[K, n, B]`` stays cache-sized, and every thread gets work.

    Results do not depend on it (each run's arithmetic is independent of its block).
    """
    n_threads = n_threads or numba.get_num_threads()
    cap = max(8, min(512, (16384 // (K * n)) // 8 * 8))
    share = -(-n_runs // n_threads)
    return int(max(1, min(cap, -(-share // 8) * 8)))


def seed_keys(seed, count=1):
    """``count`` 32-bit keys of the sampling hash from the config seed (:func:`uniform`):
    the first keys the learners' reward draws, the others further streams (the remedies'
    context draws and PCGrad's order)."""
    state = np.random.SeedSequence([int(seed), 7]).generate_state(count, np.uint32)
    return state.astype(np.uint64)


def run_kernel(config, logits0, steps, dtype=np.float32, block=None,
               record_logits=False) -> Outputs:
    """Run the compiled kernel from ``logits0`` ``[runs, K, n]``; returns the raw
    :class:`Outputs` (flatness ``inf`` where no window qualified).

    ``steps``: checkpoints (non-negative ints). ``record_logits``: also keep the logits at
    the checkpoints (``Outputs.logits``, ``[runs, checkpoints, K, n]``, re-centred: each
    context's logits are defined up to a constant); otherwise ``Outputs.logits`` is empty.
    """
    cfg = config
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}")
    n_runs, K, n = logits0.shape
    self_coef, shared_coef = {"shared_bias": (1.0, 1.0), "tabular": (1.0, 0.0),
                              "separate": (2.0, 0.0)}[cfg.policy]
    ref = Optimizer(cfg.optimizer, cfg.eta)           # the reference's hyper-parameters
    beta1, beta2 = {"sgd": (0.0, 0.0), "momentum": (ref.momentum, 0.0),
                    "rmsprop": (0.0, ref.decay), "adam": ref.betas}[cfg.optimizer]
    f = dtype.type
    settings = Settings(
        eta=f(cfg.eta), self_coef=f(self_coef), shared_coef=f(shared_coef), inv_n=f(1.0 / n),
        n_actions=f(n), stop_at=f(K - cfg.solved_margin), start_gap=f(cfg.start_margin * K),
        slope_norm=f(cfg.eta * cfg.window), zero=f(0.0), one=f(1.0), infinity=f(np.inf),
        uniform_scale=f(2.0 ** -24), beta1=f(beta1), beta2=f(beta2), eps=f(ref.eps),
        mix_keep=f(1.0 - cfg.mix_fraction), mix_floor=f(cfg.mix_fraction / n))
    codes = Codes(
        learner=LEARNER_CODES[cfg.learner], importance=cfg.off_policy_weighting == "importance",
        expected_batch=cfg.batch == "expected", policy=POLICY_CODES[cfg.policy],
        optimizer=OPTIMIZER_CODES[cfg.optimizer], max_updates=cfg.max_updates,
        window=cfg.window, curve_measure=cfg.flatness_measure == "curve",
        seed_key=seed_keys(cfg.seed)[0], record_logits=bool(record_logits))
    steps = np.asarray(steps, dtype=np.int64)
    order = np.argsort(steps, kind="stable")
    out = Outputs(
        curves=np.empty((n_runs, steps.size, K)), initial=np.empty((n_runs, K)),
        final=np.empty((n_runs, K)), stop_step=np.zeros(n_runs, np.int64),
        flatness=np.empty(n_runs), flattest=np.full((n_runs, K), np.nan),
        logits=np.empty((n_runs, steps.size, K, n) if record_logits else (0, 0, 0, 0)))
    block = block or block_size(K, n, n_runs)
    in_threads(_kernel, -(-n_runs // block), np.ascontiguousarray(logits0, dtype=dtype),
               settings, codes, steps[order], order.astype(np.int64), block, out)
    return out

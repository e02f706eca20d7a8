"""The remedies' update rules in plain numpy, all runs at once: the specification that the
compiled rules of :mod:`.remedies` are tested against (Sec. 4, App. A).

Same starts, same random streams (the counter-based hash of :func:`.kernel.uniform`,
computed here with numpy integer arithmetic), same stop rule, flatness windows and
checkpoints; float64 throughout, so a run here and the same run in the compiled loop agree
up to rounding (the compiled loop re-centres the logits every few hundred updates, this
path does not). Adam and RMSProp use the library's reference optimizer
(:class:`.updates.Optimizer`) on the shared-bias parameters ``(W, b)``.
"""
from __future__ import annotations

import copy

import numpy as np

from .bandit import softmax
from .record import BanditRuns, FlatnessTracker, checkpoint_steps
from .remedies import Method, initial_logits_for, stream_keys
from .updates import Optimizer

_M32 = np.uint64(0xFFFFFFFF)


def _mix32(x):
    """:func:`.kernel._mix32` on uint64 arrays."""
    x = x ^ (x >> np.uint64(16))
    x = (x * np.uint64(0x7FEB352D)) & _M32
    x = x ^ (x >> np.uint64(15))
    x = (x * np.uint64(0x846CA68B)) & _M32
    return x ^ (x >> np.uint64(16))


class Streams:
    """The uniforms of :func:`.kernel.uniform` for every run and context, ``[runs, K]``."""

    def __init__(self, seed, n_runs, K):
        self.keys = stream_keys(seed)
        slots = (np.arange(n_runs, dtype=np.uint64)[:, None] * np.uint64(K)
                 + np.arange(K, dtype=np.uint64))
        self.run_keys = [_mix32(slots ^ key) for key in self.keys]

    def uniforms(self, stream, t):
        key = self.keys[stream]
        update_key = _mix32(np.array([t], np.uint64) ^ key)
        h = _mix32((_mix32(self.run_keys[stream] ^ update_key) + update_key) & _M32)
        return (h >> np.uint64(8)).astype(np.float64) * 2.0 ** -24


def policy(m: Method, L):
    """``(pi, J)``: softmax, or the escort transform ``|l|^p / sum_a |l_a|^p``."""
    if m.kind == "escort":
        top = np.abs(L).max(axis=-1, keepdims=True)
        e = np.where(top > 0, (np.abs(L) / np.where(top > 0, top, 1.0)) ** m.p, 1.0)
        pi = e / e.sum(axis=-1, keepdims=True)
    else:
        pi = softmax(L)
    K = L.shape[1]
    return pi, pi[:, np.arange(K), np.arange(K)]


def score(m: Method, L, pi):
    """``d log pi_k(k) / d l_k`` per context ``[runs, K, n]``."""
    residual = np.eye(L.shape[1], L.shape[2]) - pi
    if m.kind == "escort":
        return m.p * residual * L / (L * L + 1e-300)
    return residual


def context_probs(m: Method, J, fast, slow):
    """Context sampling probabilities ``[runs, K]`` (rebalanced, curriculum)."""
    w = 1.0 - J if m.kind == "rebalanced" else np.abs(fast - slow)
    tot = w.sum(axis=1, keepdims=True)
    base = np.where(tot > 0, w / np.where(tot > 0, tot, 1.0), 1.0 / J.shape[1])
    return (1.0 - m.mix) * base + m.mix / J.shape[1]


def behaviour_right(m: Method, J, n):
    if m.kind in ("mixture", "importance"):
        return (1.0 - m.mix) * J + m.mix / n
    return J


def signals(m: Method, J, fast, slow, u, v, n):
    """Sampled signals ``s_k`` ``[runs, K]`` from the reward uniforms ``u`` and the context
    uniforms ``v``."""
    R, K = J.shape
    if m.kind in ("rebalanced", "curriculum"):
        cum = np.cumsum(context_probs(m, J, fast, slow), axis=1)
        context = np.minimum((v[:, :, None] >= cum[:, None, :K - 1]).sum(-1), K - 1)
        rows = np.arange(R)[:, None]
        s = np.zeros((R, K))
        np.add.at(s, (np.broadcast_to(rows, context.shape), context),
                  (u < J[rows, context]).astype(float))
        return s
    q = behaviour_right(m, J, n)
    s = (u < q).astype(float)
    return s * J / q if m.kind == "importance" else s


def expected_signals(m: Method, J, fast, slow, n):
    if m.kind in ("rebalanced", "curriculum"):
        return J.shape[1] * context_probs(m, J, fast, slow) * J
    return J if m.kind == "importance" else behaviour_right(m, J, n)


class Rule:
    """A method's direction with its state (GradNorm's norm averages, optimizer moments)."""

    def __init__(self, m: Method, pi, J):
        self.m = m
        self.a_norm = np.sqrt(2.0 * ((np.eye(*pi.shape[1:]) - pi) ** 2).sum(-1)) * J
        self.opt = Optimizer(m.kind, m.eta, decay=m.b2, betas=(m.b1, m.b2), eps=m.eps)

    def direction(self, L, pi, J, s, order, commit=True):
        """Logit direction per unit step size ``[runs, K, n]`` for the signals ``s``."""
        m = self.m
        K, n = L.shape[1:]
        d = s[:, :, None] * score(m, L, pi)
        if m.kind == "entropy":
            logp = np.log(np.where(pi > 0, pi, 1.0))
            H = -(pi * logp).sum(-1, keepdims=True)
            d = d + m.tau * (-pi * (np.where(pi > 0, logp, -700.0) + H))
        if m.kind in ("separate", "tabular"):
            return (2.0 if m.kind == "separate" else 1.0) * d
        if m.kind == "natural":
            w = s / np.maximum(J, m.floor)
            return w[:, :, None] * (np.eye(K, n) - 1.0 / n)
        if m.kind == "gradnorm":
            d = d * self._gradnorm_weights(d, commit)[:, :, None]
        if m.kind == "cosgate":
            d = d * cosine_weights(d)[:, :, None]
        if m.kind == "pcgrad":
            return pcgrad(d, order)
        if m.kind in ("adam", "rmsprop"):
            opt = self.opt if commit else copy.deepcopy(self.opt)
            step = opt.directions({"W": d, "b": d.sum(axis=1)})
            return step["W"] + step["b"][:, None, :]
        return d + d.sum(axis=1, keepdims=True)

    def _gradnorm_weights(self, d, commit):
        a_new = self.m.beta * self.a_norm + (1.0 - self.m.beta) * np.sqrt(2.0 * (d * d).sum(-1))
        a = a_new if commit else self.a_norm
        if commit:
            self.a_norm = a_new
        inv = 1.0 / (a + 1e-12)
        return d.shape[1] * inv / inv.sum(axis=1, keepdims=True)


def cosine_weights(d):
    """Cosine gating (Du et al. 2018): context k's weight ``(1 + sum_{i != k} max(0,
    cos(g_i, g_k))) / K`` with ``g_k`` its (W, b) gradient, ``<g_i, g_k> = <d_i, d_k>``
    for ``i != k`` and ``|g_k|^2 = 2 |d_k|^2``."""
    K = d.shape[1]
    norms = np.sqrt(2.0 * (d * d).sum(-1))
    dots = np.einsum("rin,rkn->rik", d, d)
    denom = norms[:, :, None] * norms[:, None, :]
    valid = ~np.eye(K, dtype=bool) & (denom > 0)
    cos = np.where(valid, dots / np.where(valid, denom, 1.0), 0.0)
    return (1.0 + np.maximum(cos, 0.0).sum(axis=1)) / K


def pcgrad(d, order):
    """PCGrad (Yu et al. 2020) on the (W, b) gradients ``g_i``: each ``g_i`` is projected
    off every ``g_j`` (original, in the run's ``order``) it conflicts with; returns the
    logit direction of ``sum_i g_i``."""
    R, K, n = d.shape
    rows = np.arange(R)
    GW = np.zeros((R, K, K, n))
    for i in range(K):
        GW[:, i, i] = d[:, i]
    Gb = d.copy()
    for i in range(K):
        for step in range(K):
            j = order[:, step]
            dj = d[rows, j]
            sq = 2.0 * (dj * dj).sum(-1)
            dot = ((GW[rows, i, j] + Gb[:, i]) * dj).sum(-1)
            use = (j != i) & (dot < 0) & (sq > 0)
            c = np.where(use, dot / np.where(use, sq, 1.0), 0.0)[:, None]
            GW[rows, i, j] -= c * dj
            Gb[:, i] -= c * dj
    return GW.sum(axis=1) + Gb.sum(axis=1)[:, None, :]


def pcgrad_orders(streams, t, R, K):
    """Each run's projection order: the Fisher-Yates shuffle of :func:`.remedies.pcgrad_order`."""
    u = streams.uniforms(2, t)
    order = np.tile(np.arange(K), (R, 1))
    rows = np.arange(R)
    for j in range(K - 1, 0, -1):
        i = (u[:, j] * (j + 1)).astype(np.int64)
        a, b = order[rows, i].copy(), order[:, j].copy()
        order[rows, i], order[:, j] = b, a
    return order


def run_rule_reference(config) -> BanditRuns:
    """``config.n_runs`` runs of the rule ``config.rule`` as :func:`.remedies.run_rule`, in
    numpy."""
    cfg, m = config, config.rule
    R, K, n = cfg.n_runs, cfg.K, cfg.n
    stop_at = K - cfg.solved_margin
    steps = checkpoint_steps(cfg.max_updates, cfg.n_checkpoints)
    L = initial_logits_for(m, cfg)
    pi, J = policy(m, L)
    rule = Rule(m, pi, J)
    streams = Streams(cfg.seed, R, K)
    fast, slow = J.copy(), J.copy()
    initial, held = J.copy(), J.copy()
    curves = np.empty((R, steps.size, K))
    curves[:, steps == 0] = J[:, None]
    tracker = FlatnessTracker(cfg, J.sum(1))
    stop_step = np.zeros(R, np.int64)
    active = J.sum(1) < stop_at
    identity = np.tile(np.arange(K), (R, 1))
    t = 0
    while active.any() and t < cfg.max_updates:
        t += 1
        if m.kind == "curriculum":
            fast = m.fast * fast + (1.0 - m.fast) * J
            slow = m.slow * slow + (1.0 - m.slow) * J
        s = signals(m, J, fast, slow, streams.uniforms(0, t), streams.uniforms(1, t), n)
        order = pcgrad_orders(streams, t, R, K) if m.kind == "pcgrad" else identity
        step = rule.direction(L, pi, J, s, order)
        L = np.where(active[:, None, None], L + m.eta * step, L)
        pi, J = policy(m, L)
        held = np.where(active[:, None], J, held)
        stop_step[active] = t
        if t % cfg.window == 0:
            out = rule.direction(L, pi, J, expected_signals(m, J, fast, slow, n), identity,
                                 commit=False)
            rate = np.abs((J[:, :, None] * score(m, L, pi) * out).sum((1, 2)))
            tracker.update(held, active & (J.sum(1) < stop_at), rate)
        active = active & (J.sum(1) < stop_at)
        curves[:, steps == t] = held[:, None]
    curves[:, steps > t] = held[:, None]
    return BanditRuns.collect(cfg, steps, curves, initial, stop_step, held, *tracker.result(),
                              method=m)

"""Remedies for ray interference, as update rules on the shared-bias bandit (Sec. 4).

The paper's discussion lists what could make learning better (reduce interference, reduce
coupling, or tackle ray interference head-on) and what could make it worse (a curriculum by
learning progress), and tests none of them. This module makes each one an update rule of the
(K x n) shared-bias bandit of Sec. 2 (logits ``l_k = W[:, k] + b``, reward ``1[a = k]``, one
sample per context per update, App. A), so that they can be ranked on one benchmark with the
same starts, seeds and budget.

Every method is written in two stages, per context k and run:

1. a **signal** ``s_k >= 0``: the sampled reward times its weight (on-policy REINFORCE:
   ``s_k = 1[a_k = k]`` with ``a_k ~ pi_k``, so ``E[s_k] = J_k``, the coupling ``f(J) = J``);
2. a **direction** in logit space built from the per-context score ``d_k = s_k grad_l log
   pi_k(k)``: for the shared bias ``dl_k = d_k + sum_j d_j`` (``dW[:, k] = d_k``,
   ``db = sum_j d_j``), and a method-specific rule otherwise (projections, weights,
   preconditioning, optimiser state).

The step is ``eta * direction``. Only the logits are simulated (as the library's kernel
does): any ``(W, b)`` step acts on the logits through ``dl_k = dW[:, k] + db``.

**Flatness** is measured as the library measures it (:mod:`.simulate`, :mod:`.kernel`):
every ``window`` updates, the expected progress ``dJ/dt = sum_k <dJ_k/dl_k, E[dl_k]> / eta``
at the visited parameters (its own step size factored out), once the run has left the start
zone (running max of ``J`` at least ``J0 + start_margin K``) and while it has not stopped,
at states short of the stop rule (``J < K - 0.1``: "not near the optimum", App. A; the
library's tracker also counts the window at which a run stops, which matters only for methods
that jump past the stop rule in one update, such as the natural gradient).
The expectation is exact for every method whose direction is linear in the signals
(REINFORCE, mixtures, importance weighting, separate heads, tabular, natural gradient, escort,
entropy, rebalanced sampling, curriculum, and GradNorm with its weights at their current
value); for the nonlinear ones (PCGrad, cosine gating, Adam, RMSProp) it is the method's
update applied to the expected per-context gradients at the current optimiser state (the
mean-gradient surrogate; for SGD the two coincide).

They are update rules of the one linear-bandit engine: :func:`.simulate.simulate` (or
:func:`run_method`) takes a :class:`~.config.BanditConfig` whose ``rule`` is a
:class:`Method` and whose learner, policy and optimizer name the method's in the engine's
vocabulary (:data:`TERMS`, checked), and returns the engine's record
(:class:`.record.BanditRuns`). Random numbers are the engine's one scheme
(:func:`.kernel.uniform`, a counter-based hash of ``(seed, run, context, update)``, no
global seeding): the reward draws are the library learners' stream, so REINFORCE here and
the kernel's on-policy learner see the same draws. Runs are simulated by a numba loop, one
run per iteration in parallel over runs (the per-update work is a few dozen numbers; one
compilation serves every method and shape, cached on disk); :mod:`.remedies_reference` is
the plain numpy specification of every rule that the tests compare it with, run by run.
Adding a remedy: its branch in :func:`direction` (and :func:`signal` if it changes the
sampling), its rule in :mod:`.remedies_reference`, and its hand-computed update in the tests.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
from numba import njit

from .bandit import initial_logits
from .config import BanditConfig, check_choice, check_float
from .kernel import draw_uniform, in_threads, seed_keys, stream_key, uniform, update_key
from .record import BanditRuns, checkpoint_steps

# method kinds, in the order of the compiled rules' integer codes
KINDS = ("reinforce", "mixture", "importance", "separate", "tabular", "pcgrad", "gradnorm",
         "natural", "escort", "entropy", "adam", "rmsprop", "rebalanced", "curriculum",
         "cosgate")

DESCRIPTIONS = {
    "reinforce": "on-policy REINFORCE, shared bias (the baseline)",
    "mixture": "behaviour mixes a fraction of uniform actions into the policy, no correction",
    "importance": "behaviour = mixture, updates importance-weighted by pi/mu",
    "separate": "separate heads: one (W_k, b_k) per context, no shared parameter",
    "tabular": "tabular policy (no bias): the capacity control",
    "pcgrad": "per-context gradient surgery (PCGrad): conflicting components projected away",
    "gradnorm": "per-context gradients rescaled to equal norms (GradNorm-style, alpha = 0)",
    "natural": "natural gradient, exact Fisher of the softmax (pseudo-inverse)",
    "escort": "escort transform pi ~ |l|^p (p = 2)",
    "entropy": "entropy regularisation tau * grad H(pi_k)",
    "adam": "Adam on (W, b), tuned step size",
    "rmsprop": "RMSProp on (W, b), tuned step size",
    "rebalanced": "contexts sampled more where performance is low, p_k ~ 1 - J_k",
    "curriculum": "contexts sampled by recent learning progress |dJ_k| (makes it worse?)",
    "cosgate": "cosine-gated gradients (Du et al. 2018): with each context as the main task "
               "in turn, another's gradient is added weighted by max(0, cosine)",
}

# each method in the engine's vocabulary (fields of :class:`.config.BanditConfig`): a learner
# (the behaviour, and importance weights), a policy parameterisation and an optimizer; the
# other fields keep their defaults (on-policy SGD, shared bias, sampled updates), and the
# kinds not listed change only the update rule
TERMS = {
    "mixture": {"learner": "mixture"},
    "importance": {"learner": "mixture", "off_policy_weighting": "importance"},
    "separate": {"policy": "separate"},
    "tabular": {"policy": "tabular"},
    "adam": {"optimizer": "adam"},
    "rmsprop": {"optimizer": "rmsprop"},
}
_DEFAULT_TERMS = {"learner": "on_policy", "off_policy_weighting": "none",
                  "policy": "shared_bias", "optimizer": "sgd", "batch": "sampled",
                  "flatness_measure": "expected"}

# hyper-parameter vector layout (one float vector per method, traced)
_H = {"eta": 0, "mix": 1, "tau": 2, "p": 3, "beta": 4, "fast": 5, "slow": 6, "floor": 7,
      "b1": 8, "b2": 9, "eps": 10}
N_HYPER = len(_H)


@dataclass(frozen=True)
class Method:
    """One update rule and its settings.

    ``kind``: one of :data:`KINDS`; ``eta``: step size; ``mix``: fraction of uniform actions
    (mixture, importance) or of uniform context sampling (rebalanced, curriculum); ``tau``:
    entropy weight; ``p``: escort exponent; ``beta``: GradNorm's norm average decay;
    ``fast``/``slow``: the curriculum's two averages of ``J_k``; ``b1``/``b2``/``eps``:
    Adam/RMSProp (RMSProp uses ``b2`` as its decay, as :class:`.updates.Optimizer`).
    """

    kind: str
    eta: float = 0.1
    mix: float = 0.1
    tau: float = 0.01
    p: float = 2.0
    beta: float = 0.99
    fast: float = 0.9
    slow: float = 0.99
    floor: float = 1e-7
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    label: str = field(default="", compare=False)

    def __post_init__(self):
        check_choice("kind", self.kind, KINDS)
        check_float("eta", self.eta, 0, None, low_open=True)
        check_float("mix", self.mix, 0, 1)
        check_float("tau", self.tau, 0, None)
        check_float("p", self.p, 0, None, low_open=True)
        for name in ("beta", "fast", "slow", "b1", "b2"):
            check_float(name, getattr(self, name), 0, 1, high_open=True)
        if self.kind == "rmsprop" and self.b2 == 0.999:      # the library's RMSProp decay
            object.__setattr__(self, "b2", 0.9)
        if not self.label:
            object.__setattr__(self, "label", default_label(self))

    def hyper(self) -> np.ndarray:
        out = np.zeros(N_HYPER)
        for name, i in _H.items():
            out[i] = getattr(self, name)
        return out

    def with_(self, **changes) -> "Method":
        return replace(self, label="", **changes)

    def check_config(self, config):
        """Raise ``ValueError`` unless ``config`` names this rule's learner, policy, optimizer
        and step size (:func:`terms`)."""
        for name, value in terms(self).items():
            if getattr(config, name) != value:
                raise ValueError(f"{name} must be {value!r} for the rule {self.kind!r} (the "
                                 f"method's {name}); got {getattr(config, name)!r}")


def default_label(m: Method) -> str:
    if m.kind == "mixture":
        return "fixed uniform data" if m.mix == 1.0 else f"mixture {m.mix:g}"
    if m.kind == "importance":
        return f"importance-weighted (mixture {m.mix:g})"
    if m.kind == "entropy":
        return f"entropy tau={m.tau:g}"
    if m.kind in ("adam", "rmsprop"):
        return f"{'Adam' if m.kind == 'adam' else 'RMSProp'} eta={m.eta:g}"
    if m.kind == "escort":
        return f"escort p={m.p:g}"
    return {"reinforce": "REINFORCE (baseline)", "separate": "separate heads",
            "tabular": "tabular (no shared bias)", "pcgrad": "PCGrad",
            "gradnorm": "GradNorm-style equal norms", "natural": "natural gradient",
            "rebalanced": "rebalanced contexts",
            "curriculum": "learning-progress curriculum",
            "cosgate": "cosine-gated (Du et al.)"}[m.kind]


# --------------------------------------------------------------------------------------
# the update rules (numba; one run at a time, logits [K, n])
# --------------------------------------------------------------------------------------

CODES = {k: i for i, k in enumerate(KINDS)}
(REINFORCE, MIXTURE, IMPORTANCE, SEPARATE, TABULAR, PCGRAD, GRADNORM, NATURAL, ESCORT, ENTROPY,
 ADAM, RMSPROP, REBALANCED, CURRICULUM, COSGATE) = range(len(KINDS))
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
def signal(kind, h, J, fast, slow, u, v, n, s, probs):
    """Sampled signals ``s_k`` [K] from the uniforms ``u`` [K] (reward draws) and ``v`` [K]
    (context of each of the K samples; rebalanced and curriculum only).

    On-policy and mixtures: ``s_k = 1[u_k < mu_k(k)]``; importance weighting multiplies by
    ``pi_k(k) / mu_k(k)``; rebalanced / curriculum: ``s_k`` counts the rewarded samples
    drawn in context k.
    """
    K = J.shape[0]
    if kind == REBALANCED or kind == CURRICULUM:
        context_probs(kind, J, fast, slow, h[1], probs)
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
        q = behaviour_right(kind, J[k], n, h[1])
        s[k] = 1.0 if u[k] < q else 0.0
        if kind == IMPORTANCE:
            s[k] *= J[k] / q
    return s


@njit(cache=True)
def expected_signal(kind, h, J, fast, slow, n, s, probs):
    """``E[s_k]`` at the current state."""
    K = J.shape[0]
    if kind == REBALANCED or kind == CURRICULUM:
        context_probs(kind, J, fast, slow, h[1], probs)
        for k in range(K):
            s[k] = K * probs[k] * J[k]
        return s
    for k in range(K):
        s[k] = J[k] if kind == IMPORTANCE else behaviour_right(kind, J[k], n, h[1])
    return s


@njit(cache=True)
def direction(kind, h, L, pi, J, s, t, order, a_norm, mW, vW, mb, vb, commit, d, GW, Gb, out):
    """Logit direction per unit step size, ``out`` [K, n], for the signals ``s`` [K].

    ``d[k] = s_k grad log pi_k(k)``; shared bias: ``out_k = d_k + sum_j d_j``. ``commit``:
    update the method's state (GradNorm's norm averages ``a_norm``, Adam/RMSProp moments);
    ``False`` evaluates the rule at the current state (for the flatness). ``order`` [K]:
    PCGrad's projection order. ``GW`` [K, K, n], ``Gb`` [K, n]: PCGrad scratch.
    """
    K, n = L.shape
    for k in range(K):
        for a in range(n):
            d[k, a] = s[k] * score(kind, L, pi, h[3], k, a)
    if kind == ENTROPY:
        for k in range(K):
            H = 0.0
            for a in range(n):
                if pi[k, a] > 0:
                    H -= pi[k, a] * math.log(pi[k, a])
            for a in range(n):
                lp = math.log(pi[k, a]) if pi[k, a] > 0 else -700.0
                d[k, a] += h[2] * (-pi[k, a] * (lp + H))
    if kind == SEPARATE or kind == TABULAR:
        c = 2.0 if kind == SEPARATE else 1.0
        for k in range(K):
            for a in range(n):
                out[k, a] = c * d[k, a]
        return out
    if kind == NATURAL:
        for k in range(K):
            w = s[k] / max(J[k], h[7])
            for a in range(n):
                out[k, a] = w * ((1.0 if a == k else 0.0) - 1.0 / n)
        return out
    if kind == GRADNORM:
        tot = 0.0
        for k in range(K):
            nn = 0.0
            for a in range(n):
                nn += d[k, a] * d[k, a]
            a_new = h[4] * a_norm[k] + (1.0 - h[4]) * math.sqrt(2.0 * nn)
            w = a_new if commit else a_norm[k]
            if commit:
                a_norm[k] = a_new
            tot += 1.0 / (w + 1e-12)
        for k in range(K):
            wk = K * (1.0 / (a_norm[k] + 1e-12)) / tot
            for a in range(n):
                d[k, a] *= wk
    if kind == COSGATE:
        # per-context gradients g_k = (d_k in W[:, k], d_k in b): <g_i, g_k> = <d_i, d_k>
        # (only b is shared), |g_k|^2 = 2 |d_k|^2. Main task i keeps g_i and adds
        # max(0, cos(g_i, g_k)) g_k; averaged over the K main tasks, context k's gradient
        # gets the weight (1 + sum_{i != k} max(0, cos_ik)) / K.
        for k in range(K):
            nk = 0.0
            for a in range(n):
                nk += d[k, a] * d[k, a]
            Gb[0, k] = math.sqrt(2.0 * nk)            # scratch: |g_k|; GW[0, 0, k]: weights
        for k in range(K):
            GW[0, 0, k] = 1.0
            for i in range(K):
                if i == k or Gb[0, i] == 0.0 or Gb[0, k] == 0.0:
                    continue
                dot = 0.0
                for a in range(n):
                    dot += d[i, a] * d[k, a]
                GW[0, 0, k] += max(0.0, dot / (Gb[0, i] * Gb[0, k]))
        for k in range(K):
            for a in range(n):
                d[k, a] *= GW[0, 0, k] / K
    if kind == PCGRAD:
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
    if kind == ADAM or kind == RMSPROP:
        b1, b2, eps = h[8], h[9], h[10]
        c1 = 1.0 / (1.0 - b1 ** t)
        c2 = 1.0 / (1.0 - b2 ** t)
        for a in range(n):
            g = 0.0
            for k in range(K):
                g += d[k, a]
            v = b2 * vb[a] + (1.0 - b2) * g * g
            if kind == ADAM:
                m = b1 * mb[a] + (1.0 - b1) * g
                db = m * c1 / (math.sqrt(v * c2) + eps)
            else:
                m = mb[a]
                db = g / (math.sqrt(v) + eps)
            if commit:
                vb[a] = v
                mb[a] = m
            for k in range(K):
                out[k, a] = db
        for k in range(K):
            for a in range(n):
                g = d[k, a]
                v = b2 * vW[k, a] + (1.0 - b2) * g * g
                if kind == ADAM:
                    m = b1 * mW[k, a] + (1.0 - b1) * g
                    dw = m * c1 / (math.sqrt(v * c2) + eps)
                else:
                    m = mW[k, a]
                    dw = g / (math.sqrt(v) + eps)
                if commit:
                    vW[k, a] = v
                    mW[k, a] = m
                out[k, a] += dw
        return out
    # shared bias: reinforce, mixture, importance, escort, entropy, gradnorm, rebalanced,
    # curriculum, cosgate
    for a in range(n):
        g = 0.0
        for k in range(K):
            g += d[k, a]
        for k in range(K):
            out[k, a] = d[k, a] + g
    return out


@njit(cache=True)
def expected_rate(kind, h, L, pi, J, t, fast, slow, a_norm, mW, vW, mb, vb, s, probs, order, d,
                  GW, Gb, out):
    """Flatness at the visited parameters, ``|sum_k <dJ_k/dl_k, E[direction_k]>|``: the
    method's rule at the expected signals and the current state (exact for the rules that
    are linear in the signals; the mean-gradient surrogate for PCGrad, Adam, RMSProp)."""
    K, n = L.shape
    expected_signal(kind, h, J, fast, slow, n, s, probs)
    for k in range(K):
        order[k] = k
    direction(kind, h, L, pi, J, s, t, order, a_norm, mW, vW, mb, vb, False, d, GW, Gb, out)
    rate = 0.0
    for k in range(K):
        for a in range(n):
            rate += J[k] * score(kind, L, pi, h[3], k, a) * out[k, a]
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
    d = np.empty((K, n))
    out = np.empty((K, n))
    work = np.empty((K, n))
    GW = np.empty((K, K, n))
    Gb = np.empty((K, n))
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
    mW = np.zeros((K, n))
    vW = np.zeros((K, n))
    mb = np.zeros(n)
    vb = np.zeros(n)
    eta = h[0]
    policy(kind, L, h[3], pi, J)
    a_norm = np.empty(K)
    fast = J.copy()
    slow = J.copy()
    Jt = 0.0
    for k in range(K):
        initial[r, k] = J[k]
        Jt += J[k]
        nn = 0.0
        for a in range(n):
            x = (1.0 if a == k else 0.0) - pi[k, a]
            nn += x * x
        a_norm[k] = math.sqrt(2.0 * nn) * J[k]
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
        if kind == CURRICULUM:
            for k in range(K):
                fast[k] = h[5] * fast[k] + (1.0 - h[5]) * J[k]
                slow[k] = h[6] * slow[k] + (1.0 - h[6]) * J[k]
        reward_step = update_key(keys[0], t)
        for k in range(K):
            u[k] = draw_uniform(reward_keys[k], reward_step)
        if kind == REBALANCED or kind == CURRICULUM:
            context_step = update_key(keys[1], t)
            for k in range(K):
                v[k] = draw_uniform(context_keys[k], context_step)
        if kind == PCGRAD:
            pcgrad_order(keys[2], r, t, order)
        signal(kind, h, J, fast, slow, u, v, n, s, probs)
        direction(kind, h, L, pi, J, s, float(t), order, a_norm, mW, vW, mb, vb, True, d,
                  GW, Gb, out)
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
        policy(kind, L, h[3], pi, J)
        Jt = 0.0
        for k in range(K):
            Jt += J[k]
        stop_step[r] = t
        if t % window == 0:
            rate = expected_rate(kind, h, L, pi, J, float(t + 1), fast, slow, a_norm, mW, vW,
                                 mb, vb, s, probs, order, d, GW, Gb, work)
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


# --------------------------------------------------------------------------------------
# whole runs
# --------------------------------------------------------------------------------------

RemedyRuns = BanditRuns     # the engine's one record (the chapters' name for it)


def stream_keys(seed):
    """The three keys of a run's random streams (:func:`.kernel.uniform`): reward draws (the
    library learners' key), context draws, PCGrad's order. Same seed: same streams for every
    method (common random numbers)."""
    return seed_keys(seed, 3)


def initial_logits_for(method: Method, config: BanditConfig):
    """``theta0`` as the library draws it (same seed, same starts as :mod:`.simulate`); for
    the escort transform the same initial policy ``pi0`` as escort logits
    ``l = pi0^(1/p)``."""
    rng = np.random.default_rng(config.seed)
    L0 = initial_logits(config.K, config.n, config.J0, config.n_runs, rng, config.init,
                        config.logit_scale)
    if method.kind == "escort":
        z = L0 - L0.max(axis=-1, keepdims=True)
        pi = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
        return pi ** (1.0 / method.p)
    return L0.astype(np.float64)


def terms(method: Method) -> dict:
    """The config fields that ``method`` fixes (:data:`TERMS`): step size, learner,
    weighting, policy, optimizer, batch, flatness measure, and the behaviour's uniform share
    for mixtures."""
    out = {"eta": method.eta, **_DEFAULT_TERMS, **TERMS.get(method.kind, {})}
    if out["learner"] == "mixture":
        out["mix_fraction"] = method.mix
    return out


def method_config(method: Method, K=2, n=2, J0=None, n_runs=100, max_samples=100_000, seed=0,
                  init="angular", window=10, start_margin=0.05, solved_margin=0.1,
                  n_checkpoints=200) -> BanditConfig:
    """The engine's config of ``method``'s runs on the (K x n) bandit (validated as every
    :class:`~.config.BanditConfig`; ``J0`` defaults to ``K/10``), in the engine's
    vocabulary (:func:`terms`)."""
    return BanditConfig(K=K, n=n, J0=J0, n_runs=n_runs, max_samples=max_samples, seed=seed,
                        init=init, window=window, start_margin=start_margin,
                        solved_margin=solved_margin, n_checkpoints=n_checkpoints,
                        rule=method, **terms(method))


def run_rule(config: BanditConfig) -> BanditRuns:
    """``config.n_runs`` runs of the update rule ``config.rule`` with ``config``'s bandit,
    start, budget, stop rule, flatness windows and checkpoints (compiled, float64)."""
    cfg, method = config, config.rule
    T = cfg.max_updates
    steps = checkpoint_steps(T, cfg.n_checkpoints)
    L0 = initial_logits_for(method, cfg)
    R, K = cfg.n_runs, cfg.K
    curves = np.empty((R, steps.size, K))
    initial = np.empty((R, K))
    final = np.empty((R, K))
    stop_step = np.zeros(R, np.int64)
    flatness = np.empty(R)
    flattest = np.full((R, K), np.nan)
    t0 = time.perf_counter()
    in_threads(_run_all, R, CODES[method.kind], method.hyper(), L0, T, cfg.window,
               K - cfg.solved_margin, cfg.start_margin * K, steps, stream_keys(cfg.seed), curves,
               initial, final, stop_step, flatness, flattest)
    seconds = time.perf_counter() - t0
    flatness = np.where(np.isinf(flatness), np.nan, flatness)
    solved = final.sum(-1) >= K - cfg.solved_margin
    return BanditRuns(cfg, steps, curves, initial, stop_step, solved, flatness, flattest,
                      final=final, method=method, seconds=seconds)


def run_method(method: Method, **settings) -> BanditRuns:
    """``n_runs`` runs of ``method`` on the (K x n) shared-bias bandit from ``J(theta0) = J0``
    (default ``K/10``), stopped at ``J >= K - solved_margin`` or after ``max_samples``
    samples (K per update), App. A (``settings``: as :func:`method_config`). Same seed: same
    starts and same random streams for every method (common random numbers)."""
    return run_rule(method_config(method, **settings))

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

Adding a remedy: its row in the table of rules (:data:`.remedy_rules.RULES`: name,
description, label, the config fields it fixes), its step (a small compiled function in
:mod:`.remedy_kernel`, dispatched by one line of :func:`.remedy_kernel.direction`; a rule that
changes the sampling also has its branch in :func:`.remedy_kernel.signal`), its rule in
:mod:`.remedies_reference`, and its hand-computed update in the tests. (numba's on-disk cache
of the compiled loop is renewed when :mod:`.remedy_kernel` changes, not when
:mod:`.remedy_rules` does: the codes are frozen into it, so a new row goes at the end of the
table, with its dispatch line.)
"""
from __future__ import annotations

import time

import numpy as np

from .bandit import initial_logits
from .config import BanditConfig
from .kernel import in_threads, seed_keys
from .record import BanditRuns, checkpoint_steps
from .remedy_kernel import _run_all
from .remedy_rules import (  # noqa: F401  (the rules' table, part of this module's interface)
    CODES,
    DESCRIPTIONS,
    KINDS,
    RULES,
    TERMS,
    Method,
    default_label,
    terms,
)

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
    return BanditRuns.collect(cfg, steps, curves, initial, stop_step, final, flatness,
                              flattest, method=method, seconds=seconds)


def run_method(method: Method, **settings) -> BanditRuns:
    """``n_runs`` runs of ``method`` on the (K x n) shared-bias bandit from ``J(theta0) = J0``
    (default ``K/10``), stopped at ``J >= K - solved_margin`` or after ``max_samples``
    samples (K per update), App. A (``settings``: as :func:`method_config`). Same seed: same
    starts and same random streams for every method (common random numbers)."""
    return run_rule(method_config(method, **settings))

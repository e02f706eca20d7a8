"""The one linear-bandit engine: many learning runs at once (App. A), with online plateau
measures.

:func:`simulate` takes a :class:`~.config.BanditConfig` that names the learner, policy,
optimizer and, for a remedy (Sec. 4), the update rule (``config.rule``), and returns the
engine's record (:class:`.record.BanditRuns`). Learners run on the compiled kernel
(:mod:`.kernel`) whose numpy specification is :func:`simulate_reference`; rules run on the
compiled rules of :mod:`.remedies`, specified by :mod:`.remedies_reference`. Memory does not
grow with the number of updates: the curves ``J_k(t)`` are kept on a log-spaced grid of
checkpoints and the flatness of the flattest plateau is computed online.
"""
from __future__ import annotations

import numpy as np

from .bandit import initial_logits, right_arm_probs, split_logits
from .config import BanditConfig, check_memory
from .kernel import run_kernel
from .record import BanditRuns, FlatnessTracker, checkpoint_steps
from .remedies import run_rule
from .updates import (
    Optimizer,
    expected_progress_rate,
    logit_directions,
    logits_from_parameters,
    parameter_gradients_from_logits,
)


def _checked_steps(config, steps):
    """The checkpoint grid: log-spaced by default, else the caller's non-negative ints."""
    if config.rule is not None:
        raise ValueError(f"rule must be None here (a rule's runs: simulate); got {config.rule!r}")
    if steps is None:
        return checkpoint_steps(config.max_updates, config.n_checkpoints)
    steps = np.asarray(steps)
    integral = np.issubdtype(steps.dtype, np.integer)
    if steps.ndim != 1 or steps.size == 0 or not integral or (steps < 0).any():
        raise ValueError("steps must be a non-empty 1-d array of non-negative integers; "
                         f"got {steps!r}")
    return steps.astype(np.int64)


def _check_logit_memory(cfg, steps, record_logits):
    if record_logits:
        check_memory(f"n_runs={cfg.n_runs}, K={cfg.K}, n={cfg.n}, checkpoints={len(steps)}",
                     cfg.memory_bytes() + logit_memory_bytes(cfg, len(steps)),
                     "runs x checkpoints x K x n x 8 bytes of recorded logits, plus the curves")


def logit_memory_bytes(config: BanditConfig, n_steps=None) -> int:
    """Bytes of the logits kept at ``n_steps`` checkpoints (default ``n_checkpoints``) by
    ``simulate(config, record_logits=True)``: runs x checkpoints x K x n x 8."""
    n_steps = config.n_checkpoints if n_steps is None else n_steps
    return 8 * config.n_runs * n_steps * config.K * config.n


def simulate_reference(config: BanditConfig, steps=None, record_logits=False) -> BanditRuns:
    """Plain numpy simulation in parameter space (any learner, policy, optimizer).

    One update = one sample per context (``batch="sampled"``) or the expected update
    (``batch="expected"``), summed over contexts. Stops at ``J >= K - solved_margin`` or after
    ``max_samples`` samples (App. A). Deterministic for a given ``config.seed``.
    ``record_logits``: keep the logits at the checkpoints (``BanditRuns.logits``).
    """
    cfg = config
    rng = np.random.default_rng(cfg.seed)
    T = cfg.max_updates
    steps = _checked_steps(cfg, steps)
    _check_logit_memory(cfg, steps, record_logits)
    logits0 = initial_logits(cfg.K, cfg.n, cfg.J0, cfg.n_runs, rng, cfg.init, cfg.logit_scale)
    W, b = split_logits(logits0, cfg.policy, rng)
    params = {"W": W} if b is None else {"W": W, "b": b}
    opt = Optimizer(cfg.optimizer, cfg.eta)

    J_k = right_arm_probs(logits0)
    initial = J_k.copy()
    curves = np.empty((cfg.n_runs, len(steps), cfg.K))
    logits_at = np.empty((cfg.n_runs, len(steps), cfg.K, cfg.n)) if record_logits else None
    record = {}
    for i, s in enumerate(steps):
        record.setdefault(int(s), []).append(i)

    held = logits0.copy()       # logits of each run, frozen when it stops (as J_k)

    def keep(columns, J_k):
        curves[:, columns] = J_k[:, None]
        if record_logits:
            logits_at[:, columns] = held[:, None]

    if 0 in record:
        keep(record[0], J_k)
    active = J_k.sum(axis=1) < cfg.K - cfg.solved_margin
    stop_step = np.zeros(cfg.n_runs, dtype=np.int64)
    tracker = FlatnessTracker(cfg, J_k.sum(axis=1))

    for t in range(1, T + 1):
        logits = logits_from_parameters(params, cfg.policy)
        g = logit_directions(logits, cfg.learner, cfg.batch, rng, cfg.off_policy_weighting,
                             cfg.mix_fraction)
        g *= active[:, None, None]
        opt.step(params, parameter_gradients_from_logits(g, cfg.policy))
        logits_new = logits_from_parameters(params, cfg.policy)
        J_k = np.where(active[:, None], right_arm_probs(logits_new), J_k)
        if record_logits:
            held = np.where(active[:, None, None], logits_new, held)
        stop_step[active] = t
        if t % cfg.window == 0:
            rate = None
            if cfg.flatness_measure == "expected":
                rate = expected_progress_rate(logits_from_parameters(params, cfg.policy),
                                              cfg.learner, cfg.policy, cfg.off_policy_weighting,
                                              cfg.mix_fraction)
            tracker.update(J_k, active, rate)
        active = active & (J_k.sum(axis=1) < cfg.K - cfg.solved_margin)
        if t in record:
            keep(record[t], J_k)
        if not active.any():
            for s, columns in record.items():
                if s > t:
                    keep(columns, J_k)
            break

    return BanditRuns.collect(cfg, steps, curves, initial, stop_step, J_k, *tracker.result(),
                              logits=logits_at)


def simulate_fast(config: BanditConfig, steps=None, dtype=np.float32,
                  record_logits=False) -> BanditRuns:
    """Compiled simulation (:mod:`rayint_lib.model.kernel`): any learner, policy, batch and
    optimizer.

    Same initial logits as :func:`simulate_reference` (same seed, same ``theta0``); the
    sampled actions come from a counter-based hash of ``(seed, run, update, context)``, so
    the two agree in distribution, not run by run. Bit-identical for a given seed whatever
    the number of threads. ``dtype``: float32 (fast) or float64 state. ``record_logits``:
    keep the logits at the checkpoints (``BanditRuns.logits``; the other results do not
    change).
    """
    cfg = config
    steps = _checked_steps(cfg, steps)
    _check_logit_memory(cfg, steps, record_logits)
    rng = np.random.default_rng(cfg.seed)
    logits0 = initial_logits(cfg.K, cfg.n, cfg.J0, cfg.n_runs, rng, cfg.init, cfg.logit_scale)
    out = run_kernel(cfg, logits0, steps, dtype, record_logits=record_logits)
    initial = right_arm_probs(logits0)          # exact theta0 performance, as the reference
    return BanditRuns.collect(cfg, steps, out.curves, initial, out.stop_step, out.final,
                              out.flatness, out.flattest,
                              logits=out.logits if record_logits else None)


def simulate(config: BanditConfig, steps=None, record_logits=False) -> BanditRuns:
    """Simulate ``config.n_runs`` learning runs; the library's entry point.

    Runs on the compiled kernel (:func:`simulate_fast`, float32 state); the pure-numpy
    :func:`simulate_reference` is the specification the tests compare it with.
    ``record_logits=True`` also keeps the logits at the checkpoints (``BanditRuns.logits``,
    ``[runs, checkpoints, K, n]``) for analyses of the parameters along the runs (Sec. 3.2).
    With ``config.rule`` (a remedy's :class:`~.remedies.Method`, Sec. 4) the runs use that
    update rule (:func:`~.remedies.run_rule`, float64; its numpy specification is
    :mod:`.remedies_reference`) on the default checkpoint grid.
    """
    if config.rule is not None:
        if steps is not None or record_logits:
            raise ValueError("steps and record_logits must be left out with a rule; got "
                             f"steps={steps!r}, record_logits={record_logits!r}")
        return run_rule(config)
    return simulate_fast(config, steps, record_logits=record_logits)

"""Stages of learning with many components (Sec. 3.2, Fig. 4).

With K > 2 interfering components the learning curve ``J(t)`` becomes a staircase: one
component (or a few) is learned at a time, with a plateau before each stage. This module
finds the stages of each run and measures the two explanations Sec. 3.2 offers for why the
later plateaus are longer:

1. *low start*: a component starts its stage at a performance ``J_k`` far below its initial
   one, having been suppressed during the earlier stages;
2. *null space*: its gradient can only make lasting progress in the part of parameter space
   not spanned by the gradients of the components already learned.

The flattest-plateau and learning-curve results come from :func:`rayint_lib.simulate.simulate`.
The null-space measure needs the parameters (logits) along the runs, which the simulator
does not record, so :func:`simulate_logits` is a small analysis-specific simulator of the
paper's default learner (on-policy REINFORCE, one sample per context, plain SGD, shared bias,
App. A) that records the logits at the checkpoints.
"""
from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd

from ..model.bandit import initial_logits, parameter_gradients, right_arm_probs
from ..model.config import BanditConfig, check_float
from ..model.simulate import checkpoint_steps


@dataclass
class LogitRuns:
    """Runs with their logits recorded: ``steps`` ``[T]``, ``curves`` ``J_k`` ``[runs, T, K]``,
    ``logits`` ``[runs, T, K, n]`` (both held at the final value after a run stops),
    ``stop_step`` ``[runs]`` and ``solved`` ``[runs]``."""

    config: BanditConfig
    steps: np.ndarray
    curves: np.ndarray
    logits: np.ndarray
    stop_step: np.ndarray
    solved: np.ndarray

    @property
    def samples_to_solve(self):
        """Samples (K per update) used by each run to reach the optimum; NaN if unsolved."""
        return np.where(self.solved, self.stop_step * self.config.K, np.nan)


@numba.njit(cache=True)
def _seed(seed):
    np.random.seed(seed)


@numba.njit(cache=True)
def _run_on_policy(logits0, eta, max_updates, target, record_at, curves, logits_out, stop_step):
    """On-policy REINFORCE with shared bias, one sample per context, SGD (App. A).

    In logit space the shared-bias update is ``l_k += eta (g_k + sum_j g_j)`` with
    ``g_k = r_k (e_k - pi_k)`` and ``r_k ~ Bernoulli(pi_k(k))``: the same update as
    :func:`rayint_lib.updates.logit_directions` mapped through ``l = W s + b``.
    """
    R, K, n = logits0.shape
    T = record_at.shape[0]
    pi = np.empty((K, n))
    g = np.empty((K, n))
    gsum = np.empty(n)
    for r in range(R):
        lg = logits0[r].copy()
        c = 0
        t = 0
        while True:
            # softmax and J_k at the current logits
            J = 0.0
            for k in range(K):
                m = lg[k, 0]
                for a in range(1, n):
                    if lg[k, a] > m:
                        m = lg[k, a]
                s = 0.0
                for a in range(n):
                    pi[k, a] = np.exp(lg[k, a] - m)
                    s += pi[k, a]
                for a in range(n):
                    pi[k, a] /= s
                J += pi[k, k]
            while c < T and record_at[c] == t:
                for k in range(K):
                    curves[r, c, k] = pi[k, k]
                    for a in range(n):
                        logits_out[r, c, k, a] = lg[k, a]
                c += 1
            if J >= target or t >= max_updates:
                break
            t += 1
            for a in range(n):
                gsum[a] = 0.0
            for k in range(K):
                hit = 1.0 if np.random.random() < pi[k, k] else 0.0
                for a in range(n):
                    g[k, a] = hit * ((1.0 if a == k else 0.0) - pi[k, a])
                    gsum[a] += g[k, a]
            for k in range(K):
                for a in range(n):
                    lg[k, a] += eta * (g[k, a] + gsum[a])
        stop_step[r] = t
        while c < T:  # hold the final state after the run stopped
            for k in range(K):
                curves[r, c, k] = pi[k, k]
                for a in range(n):
                    logits_out[r, c, k, a] = lg[k, a]
            c += 1


def simulate_logits(config: BanditConfig, steps=None) -> LogitRuns:
    """Simulate ``config`` recording ``J_k`` and the logits at ``steps`` (log-spaced by default).

    Only the paper's default learner is supported (on-policy, sampled, shared bias, SGD);
    ``theta0`` is drawn as in :func:`rayint_lib.simulate.simulate` (``bandit.initial_logits``).
    Same seed, same result.
    """
    cfg = config
    unsupported = {k: v for k, v in dict(learner=cfg.learner, batch=cfg.batch, policy=cfg.policy,
                                         optimizer=cfg.optimizer).items()
                   if v != {"learner": "on_policy", "batch": "sampled", "policy": "shared_bias",
                            "optimizer": "sgd"}[k]}
    if unsupported:
        raise ValueError(f"simulate_logits supports on_policy/sampled/shared_bias/sgd only; got {unsupported}")
    rng = np.random.default_rng(cfg.seed)
    logits0 = initial_logits(cfg.K, cfg.n, cfg.J0, cfg.n_runs, rng, cfg.init, cfg.logit_scale)
    T = cfg.max_updates
    steps = checkpoint_steps(T, cfg.n_checkpoints) if steps is None else np.asarray(steps, dtype=np.int64)
    curves = np.empty((cfg.n_runs, steps.size, cfg.K))
    logits = np.empty((cfg.n_runs, steps.size, cfg.K, cfg.n))
    stop = np.zeros(cfg.n_runs, dtype=np.int64)
    _seed(int(rng.integers(2**31 - 1)))
    _run_on_policy(np.ascontiguousarray(logits0, dtype=np.float64), float(cfg.eta), int(T),
                   float(cfg.K - cfg.solved_margin), steps, curves, logits, stop)
    J_end = right_arm_probs(logits[:, -1]).sum(axis=1)
    return LogitRuns(cfg, steps, curves, logits, stop, J_end >= cfg.K - cfg.solved_margin)


def learn_times(curves, level=0.5):
    """Index of the first checkpoint where ``J_k >= level``, per run and component ``[runs, K]``
    (``-1`` if never). A component is "learned" at that checkpoint."""
    reached = curves >= level                                  # [runs, T, K]
    first = reached.argmax(axis=1)
    return np.where(reached.any(axis=1), first, -1)


def null_space_fraction(G, k, learned):
    """Fraction of ``||grad J_k||^2`` outside the span of ``{grad J_j : j in learned}`` (Sec. 3.2).

    ``G``: parameter gradients ``[K, P]`` of one run (``bandit.parameter_gradients``). 1 when
    nothing is learned yet; 0 when ``grad J_k`` lies in that span.
    """
    g = G[k]
    norm2 = float(g @ g)
    if norm2 == 0.0:
        return np.nan
    if len(learned) == 0:
        return 1.0
    A = G[list(learned)].T                                     # [P, m]
    coef, *_ = np.linalg.lstsq(A, g, rcond=None)
    resid = g - A @ coef
    return float(resid @ resid) / norm2


def progress_ratio(G, k):
    """``<grad J_k, grad J> / ||grad J_k||^2``: how much of component ``k``'s own rate of
    progress survives the interference of all the others under the expected update (1
    without interference, Eqs. (1)-(2) for K = 2)."""
    g = G[k]
    norm2 = float(g @ g)
    return float(g @ G.sum(axis=0)) / norm2 if norm2 > 0 else np.nan


def plateau_table(steps, curves, samples_per_update=1, tolerance=0.25, min_ratio=2.0, start=0.5,
                  solved_margin=0.1):
    """Plateaus of each run's total curve ``J(t) = sum_k J_k`` (Fig. 4), one row per plateau.

    ``J`` is normalised to ``y = (J - J(0)) / (K - solved_margin - J(0))`` and passed to
    :func:`rayint_lib.plateaus.find_plateaus`; ``tolerance`` (the band J stays in) and
    ``start`` (plateaus count once ``J >= J(0) + start``) are in units of ``J``, i.e. of one
    component. Columns: ``run, index`` (1, 2, ... in time order), ``t_a, t_b`` (samples),
    ``length = t_b - t_a``, ``ratio = t_b / t_a``, ``J_level``.
    """
    from ..model.plateaus import find_plateaus

    K = curves.shape[-1]
    J = curves.sum(axis=-1)
    t = np.asarray(steps, dtype=float) * samples_per_update
    rows = []
    for r in range(J.shape[0]):
        scale = K - solved_margin - J[r, 0]
        y = (J[r] - J[r, 0]) / scale
        found = find_plateaus(t, y, tolerance=min(tolerance / scale, 0.49), min_ratio=min_ratio,
                              min_level=start / scale)
        for i, (a, b, level) in enumerate(found):
            rows.append(dict(run=r, index=i + 1, t_a=a, t_b=b, length=b - a, ratio=b / a,
                             J_level=J[r, 0] + level * scale))
    return pd.DataFrame(rows, columns=["run", "index", "t_a", "t_b", "length", "ratio", "J_level"])


def stage_table(steps, curves, logits=None, samples_per_update=1, level=0.5, policy="shared_bias"):
    """One row per (run, stage): the components of each run in the order they are learned.

    Components are ordered by the checkpoint at which ``J_k`` first reaches ``level``.
    Stage ``i`` of a run is the learning of its ``i``-th component: it starts when the
    previous component was learned (at step 0 for the first) and ends when this one is.
    Columns: ``run, stage, component, t_start, t_end, duration`` (in samples: updates times
    ``samples_per_update``), ``J_initial`` (``J_k(theta0)``), ``J_start`` (``J_k`` at the
    stage start), ``start_ratio = J_start / J_initial`` (explanation 1), and with ``logits``
    ``null_fraction`` (explanation 2: :func:`null_space_fraction` at the stage start, the
    learned set being the components learned before) and ``progress_ratio``
    (:func:`progress_ratio` at the stage start). Components never learned are left out.
    """
    steps = np.asarray(steps)
    times = learn_times(curves, level)
    rows = []
    for r in range(curves.shape[0]):
        done = [k for k in np.argsort(times[r], kind="stable") if times[r, k] >= 0]
        prev_idx = 0
        G = None
        for i, k in enumerate(done):
            if logits is not None:
                G = parameter_gradients(logits[r, prev_idx][None], policy)[0]
            row = dict(run=r, stage=i + 1, component=int(k),
                       t_start=int(steps[prev_idx]) * samples_per_update,
                       t_end=int(steps[times[r, k]]) * samples_per_update,
                       J_initial=float(curves[r, 0, k]), J_start=float(curves[r, prev_idx, k]))
            row["duration"] = row["t_end"] - row["t_start"]
            row["start_ratio"] = row["J_start"] / row["J_initial"]
            if G is not None:
                row["null_fraction"] = null_space_fraction(G, k, done[:i])
                row["progress_ratio"] = progress_ratio(G, k)
            rows.append(row)
            prev_idx = times[r, k]
    return pd.DataFrame(rows)


def growth_factor(df, index="stage", length="duration", group="run"):
    """Factor by which ``length`` grows per unit of ``index``: ``exp`` of the slope of
    ``log(length)`` on ``index`` with one intercept per ``group`` (a within-run fit, so runs
    that are slow overall do not bias it). Rows with ``length <= 0`` are dropped.
    Returns ``(factor, n_rows)``; NaN if there is nothing to fit."""
    d = df[df[length] > 0]
    if d.empty:
        return np.nan, 0
    x = d[index].astype(float)
    y = np.log(d[length].astype(float))
    xc = x - x.groupby(d[group]).transform("mean")
    yc = y - y.groupby(d[group]).transform("mean")
    denom = float((xc * xc).sum())
    if denom == 0.0:
        return np.nan, len(d)
    return float(np.exp((xc * yc).sum() / denom)), len(d)


def within_stage_correlation(df, x, y="duration", by="stage"):
    """Spearman correlation of ``x`` with ``y`` within each value of ``by`` (ranks taken
    within each stage, then pooled), so a common trend over stages does not create it."""
    d = df[[x, y, by]].dropna()
    if len(d) < 3:
        return np.nan
    rx = d.groupby(by)[x].rank(pct=True) - 0.5
    ry = d.groupby(by)[y].rank(pct=True) - 0.5
    denom = np.sqrt(float((rx * rx).sum() * (ry * ry).sum()))
    return float((rx * ry).sum() / denom) if denom > 0 else np.nan


def check_level(level):
    """Validate a "learned" level ``J_k`` in (0, 1)."""
    return check_float("level", level, 0, 1, low_open=True, high_open=True)


NOTEBOOK = "03_many_components"


def validate(K, n, eta, J0, n_runs, max_samples, max_samples_fig4, seed,
                             plateau_tolerance=0.25, plateau_min_ratio=2.0, plateau_start=0.5,
                             learned_level=0.5, eps=1e-4, n_curves=8):
    """Parameters of ``03_many_components`` (Sec. 3.2) -> ``{"fig4": {K: cfg}, "fig7": {(K, n): cfg}}``.

    ``K``, ``n``: lists of sizes; Fig. 4 uses ``K = n`` for every ``K``, Fig. 7 every pair with
    ``K <= n``. ``J0``: ``None`` for ``K/10`` (App. A) or one number below ``min(K)``.
    """
    from ..model.config import check_int

    for name, values in (("K", K), ("n", n)):
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f"{name} must be a non-empty list of integers; got {values!r}")
        for v in values:
            check_int(name, v, 2, 64)
    if not any(k <= m for k in K for m in n):
        raise ValueError(f"n must contain a value >= some K (pairs with K <= n); got K={K}, n={n}")
    if J0 is not None:
        check_float("J0", J0, 0, min(K), low_open=True, high_open=True)
    check_int("max_samples_fig4", max_samples_fig4, max(K))
    check_float("plateau_tolerance", plateau_tolerance, 0, 1, low_open=True, high_open=True)
    check_float("plateau_min_ratio", plateau_min_ratio, 1, None, low_open=True)
    check_float("plateau_start", plateau_start, 0, None)
    check_level(learned_level)
    check_float("eps", eps, 0, None, low_open=True)
    check_int("n_curves", n_curves, 0)
    common = dict(eta=eta, n_runs=n_runs, seed=seed)
    fig4 = {k: BanditConfig(K=k, n=k, J0=J0, max_samples=max_samples_fig4, n_checkpoints=300, **common)
            for k in sorted(set(K))}
    fig7 = {(k, m): BanditConfig(K=k, n=m, J0=J0, max_samples=max_samples, **common)
            for k in sorted(set(K)) for m in sorted(set(n)) if k <= m}
    return {"fig4": fig4, "fig7": fig7}

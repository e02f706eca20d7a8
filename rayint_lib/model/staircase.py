"""Staircases of many components (Sec. 3.2, Figs. 1, 4): plateaus and stages of runs' curves.

With K > 2 interfering components a learning curve ``J(t) = sum_k J_k(t)`` becomes a
staircase: one component (or a few) is learned at a time, with a plateau before each stage.
Measured on the runs of :func:`rayint_lib.model.simulate.simulate` (``curves [runs, T, K]`` at
the checkpoints ``steps``, optionally the logits):

* the plateaus of each run's total curve (:func:`plateau_table`, the one plateau finder
  :func:`rayint_lib.model.plateaus.plateaus`);
* its stages, without any plateau detector (:func:`stage_table`): the time between
  successive components crossing a performance level, with two candidate explanations of
  their growth at each stage start (a low start, :func:`progress_ratio`; a gradient confined
  to the null space of the learned components, :func:`null_space_fraction`);
* the growth of stage lengths (:func:`growth_estimate`), within-stage rank correlations, and
  whether curves are step-like (:func:`step_like`);
* for Fig. 1 (K = 2), a run's mean height on the log axis (:func:`performance`) and the time
  it sits on the step ``J = 1`` (:func:`stall_at_one`).

Every number from random runs carries a 95% interval (:mod:`rayint_lib.model.stats`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import stats
from .bandit import parameter_gradients
from .plateaus import log_rate_plateaus, plateaus


def learn_times(curves, level=0.5):
    """Index of the first checkpoint where ``J_k >= level``, per run and component ``[runs, K]``
    (``-1`` if never). A component is "learned" at that checkpoint."""
    reached = curves >= level                                  # [runs, T, K]
    first = reached.argmax(axis=1)
    return np.where(reached.any(axis=1), first, -1)


def null_space_fraction(G, k, learned):
    """Fraction of ``||grad J_k||^2`` outside the span of ``{grad J_j : j in learned}``.

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

    :func:`rayint_lib.model.plateaus.plateaus` on ``J`` normalised from ``J(0)`` (0) to ``K -
    solved_margin`` (1); ``tolerance`` (the band J stays in) and
    ``start`` (plateaus count once ``J >= J(0) + start``) are in units of ``J``, i.e. of one
    component. Columns: ``run, index`` (1, 2, ... in time order), ``t_a, t_b`` (samples),
    ``length = t_b - t_a``, ``ratio = t_b / t_a``, ``J_level``.
    """
    K = curves.shape[-1]
    J = curves.sum(axis=-1)
    t = np.asarray(steps, dtype=float) * samples_per_update
    found = plateaus(t, J, normalise="start-to-top", top=K - solved_margin, tolerance=tolerance,
                     min_ratio=min_ratio, min_level=start, curve_units=True)
    rows = [dict(run=r, index=i + 1, t_a=a, t_b=b, length=b - a, ratio=b / a, J_level=level)
            for r, run in enumerate(found) for i, (a, b, level) in enumerate(run)]
    return pd.DataFrame(rows, columns=["run", "index", "t_a", "t_b", "length", "ratio", "J_level"])


def log_rate_table(steps, curves, samples_per_update=1, start=0.5, solved_margin=0.1,
                   rate="sample") -> np.ndarray:
    """Plateaus per run of the total curve ``J(t)`` by the log-rate detector
    (:func:`rayint_lib.model.plateaus.log_rate_plateaus`, a decade of prominence), counted
    once ``J >= J(0) + start`` and before ``J >= K - solved_margin``."""
    K = curves.shape[-1]
    J = curves.sum(axis=-1)
    t = steps * samples_per_update
    top = K - solved_margin
    return np.array([len(log_rate_plateaus(t, J[i], rate=rate, min_level=J[i, 0] + start,
                                           max_level=top)) for i in range(len(J))])


def first_plateaus(table, steps, curves, samples_per_update=1, level=0.5):
    """The first plateau of each run in a :func:`plateau_table` -> ``(components, J_level,
    index)``: components learned (``J_k >= level``) when it starts, its level of ``J``, and
    its checkpoint index (``-1``/NaN for runs without a plateau)."""
    n_runs = curves.shape[0]
    first = table[table["index"] == 1].set_index("run")
    index = np.full(n_runs, -1)
    J_level = np.full(n_runs, np.nan)
    comps = np.full(n_runs, np.nan)
    t = steps * samples_per_update
    for run, row in first.iterrows():
        i = int(np.searchsorted(t, row.t_a))
        index[run] = i
        J_level[run] = row.J_level
        comps[run] = float((curves[run, i] >= level).sum())
    return comps, J_level, index


def long_stages(stages, n_runs, min_ratio=2.0) -> np.ndarray:
    """The steps of each run's staircase read without any plateau detector: stages of a
    :func:`stage_table` after the first that last at least a factor ``min_ratio`` in time
    (``t_end / t_start``), counted per run."""
    st = stages[(stages.stage > 1) & (stages.t_end >= min_ratio * stages.t_start)]
    return st.groupby("run").size().reindex(range(n_runs), fill_value=0).to_numpy()


def plateau_counts(table, n_runs):
    """Detected plateaus per run, ``[n_runs]`` (0 for runs without any)."""
    return table.groupby("run").size().reindex(range(n_runs), fill_value=0).to_numpy()


def stage_table(steps, curves, logits=None, samples_per_update=1, level=0.5, policy="shared_bias"):
    """One row per (run, stage): the components of each run in the order they are learned.

    Components are ordered by the checkpoint at which ``J_k`` first reaches ``level``.
    Stage ``i`` of a run is the learning of its ``i``-th component: it starts when the
    previous component was learned (at step 0 for the first) and ends when this one is.
    Columns: ``run, stage, component, t_start, t_end, duration`` (in samples: updates times
    ``samples_per_update``), ``J_initial`` (``J_k(theta0)``), ``J_start`` (``J_k`` at the
    stage start), ``start_ratio = J_start / J_initial`` (low start), and with ``logits``
    ``null_fraction`` (:func:`null_space_fraction` at the stage start, the learned set being
    the components learned before) and ``progress_ratio`` (:func:`progress_ratio` at the
    stage start). Components never learned are left out.
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


def _within_group_sums(df, index, length, group):
    """Per group: ``(sum xc^2, sum xc yc)`` with ``x = index``, ``y = log(length)`` centred
    within the group (rows with ``length <= 0`` dropped)."""
    d = df[df[length] > 0]
    if d.empty:
        return np.zeros(0), np.zeros(0)
    x = d[index].astype(float)
    y = np.log(d[length].astype(float))
    xc = x - x.groupby(d[group]).transform("mean")
    yc = y - y.groupby(d[group]).transform("mean")
    sums = pd.DataFrame({"g": d[group], "xx": xc * xc, "xy": xc * yc}).groupby("g").sum()
    return sums["xx"].to_numpy(), sums["xy"].to_numpy()


def _growth(xx, xy):
    den = xx.sum()
    return float(np.exp(xy.sum() / den)) if den > 0 else np.nan


def growth_factor(df, index="stage", length="duration", group="run"):
    """Factor by which ``length`` grows per unit of ``index``: ``exp`` of the slope of
    ``log(length)`` on ``index`` with one intercept per ``group`` (a within-run fit, so runs
    that are slow overall do not bias it). Rows with ``length <= 0`` are dropped.
    Returns ``(factor, n_rows)``; NaN if there is nothing to fit."""
    xx, xy = _within_group_sums(df, index, length, group)
    return _growth(xx, xy), int((df[length] > 0).sum()) if len(df) else 0


def growth_estimate(df, index="stage", length="duration", group="run") -> stats.Estimate:
    """:func:`growth_factor` with a bootstrap interval over runs (groups)."""
    xx, xy = _within_group_sums(df, index, length, group)
    if xx.size == 0:
        return stats.Estimate(np.nan, np.nan, np.nan, 0, "bootstrap")
    return stats.bootstrap(_growth, xx, xy)


def _per_run(df, column, n_runs, n_stages):
    """``df[column]`` as a ``[runs, stages]`` array (NaN where a run has no such stage)."""
    out = np.full((n_runs, n_stages), np.nan)
    out[df.run.to_numpy(), df.stage.to_numpy() - 1] = df[column].to_numpy(dtype=float)
    return out


def _average_ranks(v):
    """Ranks ``1..m`` of ``v``, ties given their average rank (as ``scipy.stats.rankdata``)."""
    ordered = np.sort(v)
    return (np.searchsorted(ordered, v, "left") + np.searchsorted(ordered, v, "right") + 1) / 2


def _within_stage_rank_corr(x, y):
    """Spearman correlation of ``x`` with ``y`` (``[runs, stages]``), ranks taken within each
    stage, then pooled, so a common trend over stages does not create it."""
    num = sx = sy = 0.0
    for s in range(x.shape[1]):
        ok = np.isfinite(x[:, s]) & np.isfinite(y[:, s])
        m = int(ok.sum())
        if m == 0:
            continue
        rx = _average_ranks(x[ok, s]) / m - 0.5
        ry = _average_ranks(y[ok, s]) / m - 0.5
        num += rx @ ry
        sx += rx @ rx
        sy += ry @ ry
    return float(num / np.sqrt(sx * sy)) if sx * sy > 0 else np.nan


def within_stage_correlation(df, x, y="duration", n_runs=None, n_stages=None):
    """:func:`_within_stage_rank_corr` of two stage-table columns, with a bootstrap
    interval over runs (500 resamples: enough for a 95% interval of a correlation)."""
    n_runs = n_runs or int(df.run.max()) + 1
    n_stages = n_stages or int(df.stage.max())
    return stats.bootstrap(_within_stage_rank_corr, _per_run(df, x, n_runs, n_stages),
                           _per_run(df, y, n_runs, n_stages), n_boot=500)


def explanation_measures(stages, n_runs, n_stages):
    """Measures of two explanations of growing stages (Sec. 3.2) in a :func:`stage_table`
    with the logits' measures -> ``(table, values)``: medians of each stage-start measure in
    the first and the last stage, and its within-stage rank correlation with the stage
    length, all with bootstrap intervals. ``values``: the correlations by column, and the
    medians the findings quote."""
    st = stages
    last = st[st.stage == st.stage.max()]
    measures = [("J_k / J_k(theta0)", "start_ratio"), ("J_k", "J_start"),
                ("gradient fraction outside span", "null_fraction"),
                ("surviving share of own rate", "progress_ratio")]
    rows, values = [], {}
    for label, col in measures:
        corr = within_stage_correlation(st, col, n_runs=n_runs, n_stages=n_stages)
        rows.append({"measure at stage start": label,
                     "median, first stage": stats.bootstrap(np.median, st.loc[st.stage == 1,
                                                                              col].to_numpy()),
                     "median, last stage": stats.bootstrap(np.median, last[col].to_numpy()),
                     "rank corr. with stage length (within stage)": corr})
        values[col] = corr
    values["last_start_ratio"] = rows[0]["median, last stage"]
    values["null_first"] = stats.bootstrap(np.median, st.loc[st.stage == 2,
                                                            "null_fraction"].to_numpy())
    values["null_last"] = rows[2]["median, last stage"]
    return pd.DataFrame(rows).set_index("measure at stage start"), values


def transitions(curves, low=0.2, high=0.8):
    """Each component's final rise, as checkpoint indices ``(start, end)`` ``[runs, K]``:
    ``end`` the first checkpoint with ``J_k >= high`` (the last checkpoint if never), ``start``
    the first checkpoint of the rise from below ``low`` that ends there."""
    runs, T, K = curves.shape
    high_hit = curves >= high
    end = np.where(high_hit.any(axis=1), high_hit.argmax(axis=1), T - 1)
    idx = np.arange(T)[None, :, None]
    below = (curves < low) & (idx < end[:, None, :])
    last_below = np.where(below.any(axis=1), T - 1 - below[:, ::-1].argmax(axis=1), -1)
    return last_below + 1, end


def step_like(curves, first_plateau_index, low=0.2, high=0.8, level=0.5):
    """Whether each run learns the components left after its first plateau one at a time:
    their transitions (:func:`transitions`, from ``low`` to ``high``) do not overlap.

    ``first_plateau_index``: checkpoint where each run's first plateau starts (``-1``: no
    plateau, then every component counts). Components with ``J_k >= level`` there are
    learned already and left out.
    """
    start, end = transitions(curves, low, high)
    flags = np.zeros(curves.shape[0], dtype=bool)
    for r in range(curves.shape[0]):
        i = max(int(first_plateau_index[r]), 0)
        left = np.flatnonzero(curves[r, i] < level)
        order = left[np.argsort(end[r, left], kind="stable")]
        flags[r] = bool(np.all(end[r, order[:-1]] <= start[r, order[1:]]))
    return flags


def first_long_stage(stages, n_runs, min_ratio=2.0):
    """Per run, the components learned before its first stage that lasts at least a factor
    ``min_ratio`` in time (``t_end / t_start``; stages after the first), NaN if none: the
    level of the first plateau read from the stages alone."""
    st = stages[(stages.stage > 1) & (stages.t_end >= min_ratio * stages.t_start)]
    out = np.full(n_runs, np.nan)
    first = st.groupby("run").stage.min()
    out[first.index.to_numpy()] = first.to_numpy() - 1
    return out


def performance(runs) -> np.ndarray:
    """Mean performance of each run over its horizon on the log-sample axis of Figure 1 (the
    average height of its learning curve as plotted, from 1 to ``max_samples`` samples; ``J``
    is held at its final value after a run stops): what Figure 1 colours by (low = warm, as
    the paper's slow runs). A log axis weighs early and late learning alike."""
    x = np.log(np.maximum(runs.steps * runs.config.K, 1).astype(float))
    J = runs.curves.sum(axis=2)
    return np.trapezoid(J, x, axis=1) / (x[-1] - x[0])


def stall_at_one(runs, low=0.9, high=1.1) -> np.ndarray:
    """Samples each run spends between first reaching ``J >= low`` and first ``J >= high``:
    the time it sits on the level ``J = 1`` (one context learned, the other not); NaN if it
    never reaches ``low``, ``max_samples`` if it never leaves."""
    J = runs.curves.sum(axis=2)
    samples = runs.steps * runs.config.K

    def first(mask):
        return np.where(mask.any(axis=1), samples[mask.argmax(axis=1)], np.nan)

    start, end = first(J >= low), first(J >= high)
    end = np.where(np.isnan(end), runs.config.max_samples, end)
    return end - start

"""Sec. 3.2 and Figs. 4, 7: many components, stages and growing plateaus.

With K > 2 interfering components the learning curve ``J(t)`` becomes a staircase: one
component (or a few) is learned at a time, with a plateau before each stage. This module
runs Figure 4's configurations once, with the logits recorded at the checkpoints
(``simulate(cfg, record_logits=True)``), and measures on those same runs

* the plateaus of each curve (the detector :func:`rayint_lib.model.plateaus.find_plateaus`)
  and their counts per run, over a range of detector settings;
* the stages of each run, independently of the detector: the time between successive
  components crossing a performance level, and the factor by which stages grow;
* the first plateau of the K = 8 runs ("I ~ 3") and the share of step-like curves;
* two candidate explanations of the growth: a component starts its stage far below its
  initial performance (the paper's "performance of C after stage one"), or its gradient is
  confined to the null space of the learned components' gradients (ours);

and Figure 7's flatness of the flattest plateau on a grid of K and n (App. A).
Every number from random runs carries a 95% interval (:mod:`rayint_lib.model.stats`).
"""
from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..book import plotting
from ..book.page import show  # noqa: F401  (the notebook calls ch.show)
from ..model import stats
from ..model.bandit import parameter_gradients
from ..model.config import BanditConfig, check_float, check_int, check_memory
from ..model.params import Param, declare
from ..model.plateaus import RATES, log_rate_plateaus, plateaus
from ..model.simulate import BanditRuns, logit_memory_bytes, simulate
from . import claims_of

NOTEBOOK = "03_many_components"
FIG4_CHECKPOINTS = 300              # checkpoints of Figure 4's curves (log-spaced)
TOLERANCES = (0.1, 0.25, 0.5)       # detector settings of the sensitivity table
MIN_RATIOS = (1.5, 2.0, 3.0)
STEP_BANDS = ((0.2, 0.8), (0.1, 0.9), (0.3, 0.7))   # "mid-transition" bands, first = headline
EPS_READINGS = (1e-5, 1e-4, 1e-3)
BAND = "band detector"                      # find_plateaus at the page's settings
LOG_RATE = "log-rate detector, rate per {}"  # log_rate_plateaus, one per normalisation

CLAIMS, FINDINGS = claims_of(NOTEBOOK)


# ----------------------------------------------------------------------------- parameters

PARAMS = declare(
    Param("K", [2, 4, 8],
          "numbers of contexts: Fig. 4 runs K = n for each, Fig. 7 crosses them with n",
          low=2, high=64),
    Param("n", [2, 4, 8], "numbers of actions for Fig. 7 (every pair with K <= n)", low=2,
          high=64),
    Param("eta", 0.1, "step size (App. A)", low=0, low_open=True),
    Param("J0", None, "initial performance J(theta0); None means K/10 for every K (App. A)",
          float, low=0, low_open=True),
    Param("n_runs", 100, "independent runs per setting", low=1),
    Param("max_samples", 100_000, "sample budget per run for Fig. 7 (App. A: 1e5 samples)",
          low=1),
    Param("max_samples_fig4", 1_000_000,
          "budget for Fig. 4 and its stages, so K = 8 runs finish (deviation)", low=1),
    Param("seed", 0, "seed of the random number generator", low=0),
    Param("plateau_tolerance", 0.25,
          "a plateau: J stays in a band this wide (units of one component)", low=0, high=1,
          low_open=True, high_open=True),
    Param("plateau_min_ratio", 2.0, "a plateau lasts at least this factor in time "
          "(t_end / t_start)", low=1, low_open=True),
    Param("plateau_start", 0.5,
          "plateaus count only once J >= J(theta0) + this (not the slow start)", low=0),
    Param("learned_level", 0.5, "a component is learned when J_k first reaches this level",
          low=0, high=1, low_open=True, high_open=True),
    Param("eps", 1e-4, "flatness threshold for the fraction of runs with a flat plateau "
          "(Fig. 7)", low=0, low_open=True),
    Param("n_curves", 8, "individual learning curves drawn per K in Fig. 4", low=0),
)


def validate(**values) -> dict:
    """Parameters of ``03_many_components`` (:data:`PARAMS`) -> ``{"fig4": {K: cfg}, "fig7":
    {(K, n): cfg}, "analysis": {...}}``.

    ``K``, ``n``: lists of sizes (2 to 64); Fig. 4 uses ``K = n`` for every ``K``, Fig. 7
    every pair with ``K <= n``. ``J0``: ``None`` for ``K/10`` (App. A) or one number below
    ``min(K)``. The memory of the logits recorded for Fig. 4 (runs x checkpoints x K x n x 8
    bytes, summed over K) is checked before any run starts.
    """
    v = PARAMS.check(values)
    K, n, J0, n_runs = v["K"], v["n"], v["J0"], v["n_runs"]
    for name in ("K", "n"):
        if len(set(v[name])) != len(v[name]):
            raise ValueError(f"{name} lists a value twice (each size runs once); got {v[name]}")
    if not any(k <= m for k in K for m in n):
        raise ValueError(f"n must contain a value >= some K (pairs with K <= n); got K={K}, n={n}")
    if J0 is not None:
        check_float("J0", J0, 0, min(K), low_open=True, high_open=True)
    check_int("max_samples_fig4", v["max_samples_fig4"], max(K))
    eta, seed, max_samples, max_samples_fig4 = (v["eta"], v["seed"], v["max_samples"],
                                                v["max_samples_fig4"])
    common = dict(eta=eta, n_runs=n_runs, seed=seed)
    fig4 = {k: BanditConfig(K=k, n=k, J0=J0, max_samples=max_samples_fig4,
                            n_checkpoints=FIG4_CHECKPOINTS, **common) for k in sorted(set(K))}
    fig7 = {(k, m): BanditConfig(K=k, n=m, J0=J0, max_samples=max_samples, **common)
            for k in sorted(set(K)) for m in sorted(set(n)) if k <= m}
    logit_bytes = sum(logit_memory_bytes(c) + c.memory_bytes() for c in fig4.values())
    check_memory(f"n_runs={n_runs}, K={K}", logit_bytes,
                 f"runs x {FIG4_CHECKPOINTS} checkpoints x K x n x 8 bytes of logits recorded "
                 "for Fig. 4, summed over K")
    analysis = dict(tolerance=v["plateau_tolerance"], min_ratio=v["plateau_min_ratio"],
                    start=v["plateau_start"], level=v["learned_level"], eps=v["eps"],
                    n_curves=v["n_curves"], max_samples_fig4=max_samples_fig4)
    return {"fig4": fig4, "fig7": fig7, "analysis": analysis}


# ----------------------------------------------------------------------------- measures

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


# ----------------------------------------------------------------------------- Figure 4

@dataclass
class Fig4:
    """Figure 4's runs (logits recorded) and everything measured on the same runs."""

    runs: dict                  # K -> BanditRuns
    plateaus: dict              # K -> plateau_table at the chosen detector settings
    stages: dict                # K -> stage_table with the null-space measures
    settings: dict              # the "analysis" entry of validate()

    @property
    def K_max(self) -> int:
        return max(self.runs)

    @property
    def n_runs(self) -> int:
        return next(iter(self.runs.values())).config.n_runs

    def plateau_table(self, K, tolerance=None, min_ratio=None) -> pd.DataFrame:
        s = self.settings
        if tolerance is None and min_ratio is None:
            return self.plateaus[K]
        r = self.runs[K]
        return plateau_table(r.steps, r.curves, K, tolerance or s["tolerance"],
                             min_ratio or s["min_ratio"], s["start"])


def figure4_runs(cfg) -> Fig4:
    """Simulate Figure 4's configurations once, logits recorded, and measure plateaus and
    stages on those runs."""
    s = cfg["analysis"]
    runs: dict[int, BanditRuns] = {k: simulate(c, record_logits=True)
                                   for k, c in cfg["fig4"].items()}
    plateaus = {k: plateau_table(r.steps, r.curves, k, s["tolerance"], s["min_ratio"], s["start"])
                for k, r in runs.items()}
    stage = {k: stage_table(r.steps, r.curves, r.logits, k, s["level"]) for k, r in runs.items()}
    return Fig4(runs, plateaus, stage, s)


def mean_count(counts) -> stats.Estimate:
    """Mean of per-run counts with a bootstrap interval."""
    return stats.bootstrap(np.mean, np.asarray(counts, dtype=float))


def plateau_summary(fig4: Fig4) -> pd.DataFrame:
    """Per K: detected plateaus per run, runs with >= 2 plateaus, samples to solve and the
    solved fractions, each with its 95% interval."""
    rows = []
    for k, r in fig4.runs.items():
        counts = plateau_counts(fig4.plateaus[k], fig4.n_runs)
        within = np.nan_to_num(r.samples_to_solve, nan=np.inf) <= 1e5
        rows.append({"K = n": k, "plateaus per run": mean_count(counts),
                     "runs with >= 2 plateaus": stats.fraction(counts >= 2),
                     "median samples to solve": stats.median(r.samples_to_solve),
                     "solved within 1e5 samples": stats.fraction(within),
                     "solved within budget": stats.fraction(r.solved)})
    return pd.DataFrame(rows).set_index("K = n")


def _difference(counts: dict) -> stats.Estimate:
    """Mean of ``counts[K_max]`` minus mean of ``counts[K]`` for the next K (bootstrap over
    runs; the two sets of runs are independent)."""
    Ks = sorted(counts)
    return stats.bootstrap(lambda x, y: y.mean() - x.mean(),
                           *(np.asarray(counts[k], dtype=float) for k in Ks[-2:]))


def count_difference(fig4: Fig4) -> stats.Estimate:
    """Mean detected plateaus per run at the largest K minus at the second-largest K."""
    return _difference({k: plateau_counts(t, fig4.n_runs) for k, t in fig4.plateaus.items()})


def sensitivity(fig4: Fig4):
    """Mean detected plateaus per run for every detector setting (``TOLERANCES`` x
    ``MIN_RATIOS``) -> ``(table, {setting: difference estimate}, share)``; ``share``: the
    fraction of settings in which the largest K has the most plateaus per run."""
    rows, diffs = [], {}
    for tol in TOLERANCES:
        for ratio in MIN_RATIOS:
            row = {"tolerance": tol, "min ratio": ratio}
            counts = {k: plateau_counts(fig4.plateau_table(k, tol, ratio), fig4.n_runs)
                      for k in fig4.runs}
            row.update({f"K = {k}": mean_count(c) for k, c in counts.items()})
            rows.append(row)
            if len(fig4.runs) > 1:
                diffs[f"tol {tol}, ratio {ratio}"] = _difference(counts)
    table = pd.DataFrame(rows)
    Kcols = [f"K = {k}" for k in fig4.runs]
    share = float(np.mean([float(row[Kcols[-1]]) >= max(float(row[c]) for c in Kcols)
                           for row in rows]))
    return table, diffs, share


def log_rate_counts(fig4: Fig4, K, rate="sample") -> np.ndarray:
    """Plateaus per run of the total curve ``J(t)`` at ``K`` by
    :func:`rayint_lib.model.plateaus.log_rate_plateaus` (a decade of prominence), counted
    once ``J >= J(0) + start`` and before ``J >= K - solved_margin``."""
    r = fig4.runs[K]
    J = r.curves.sum(axis=-1)
    t = r.steps * K
    top = K - r.config.solved_margin
    return np.array([len(log_rate_plateaus(t, J[i], rate=rate,
                                           min_level=J[i, 0] + fig4.settings["start"],
                                           max_level=top)) for i in range(len(J))])


def long_stage_counts(fig4: Fig4, K) -> np.ndarray:
    """The steps of each run's staircase read without any plateau detector: stages after the
    first that last at least a factor ``min_ratio`` in time (``t_end / t_start``)."""
    st = fig4.stages[K]
    st = st[(st.stage > 1) & (st.t_end >= fig4.settings["min_ratio"] * st.t_start)]
    return st.groupby("run").size().reindex(range(fig4.n_runs), fill_value=0).to_numpy()


def detector_counts(fig4: Fig4) -> dict:
    """``{detector: {K: plateaus per run}}`` for the band detector at the page's settings and
    the log-rate detector under both normalisations of the rate."""
    out = {BAND: {k: plateau_counts(t, fig4.n_runs) for k, t in fig4.plateaus.items()}}
    for rate in RATES:
        out[LOG_RATE.format(rate.replace("_", " "))] = {
            k: log_rate_counts(fig4, k, rate) for k in fig4.runs}
    return out


def detector_comparison(fig4: Fig4, counts: dict) -> tuple[pd.DataFrame, str]:
    """Which detector sees the steps? Per detector: plateaus per run at every K, the increase
    from the second-largest to the largest K, and the mean absolute difference at the largest
    K between its count and the staircase steps read from the stages
    (:func:`long_stage_counts`). Returns the table and the detector with the smallest
    difference (the headline of ``3.2-more-plateaus``)."""
    steps = long_stage_counts(fig4, fig4.K_max)
    rows, miss = [], {}
    for name, c in counts.items():
        row = {"detector": name, **{f"K = {k}": mean_count(v) for k, v in c.items()}}
        if len(c) > 1:
            row["increase at the largest K"] = _difference(c)
        miss[name] = stats.bootstrap(lambda a, b: np.mean(np.abs(a - b)),
                                     np.asarray(c[fig4.K_max], float), steps.astype(float))
        row["|count - staircase steps|, largest K"] = miss[name]
        rows.append(row)
    return pd.DataFrame(rows).set_index("detector"), min(miss, key=lambda n: float(miss[n]))


def stage_growth(fig4: Fig4, K=None, first_stage=1) -> stats.Estimate:
    """Growth factor per stage of the stage durations at ``K`` (default the largest), over
    stages ``>= first_stage``, with a bootstrap interval over runs."""
    st = fig4.stages[K or fig4.K_max]
    return growth_estimate(st[st.stage >= first_stage], "stage", "duration")


def stage_growth_readings(fig4: Fig4) -> dict:
    """The stage growth factor under other readings: late stages only, every K, and other
    learned levels (0.3, 0.7)."""
    Km = fig4.K_max
    out = {f"K = {Km}, stages > {Km // 2}": stage_growth(fig4, Km, Km // 2 + 1)}
    for k in fig4.runs:
        if k != Km and k > 2:
            out[f"K = {k}"] = stage_growth(fig4, k)
    r = fig4.runs[Km]
    for level in (0.3, 0.7):
        out[f"learned at J_k >= {level}"] = growth_estimate(
            stage_table(r.steps, r.curves, None, Km, level))
    return out


def plateau_growth(fig4: Fig4) -> tuple[stats.Estimate, int]:
    """Growth factor per detected plateau (runs with >= 2 plateaus, every K pooled) and the
    number of plateaus behind it: by construction of the detector (each plateau lasts a
    factor ``min_ratio`` on a log axis and plateaus do not overlap) this is above 1 whatever
    the dynamics; shown for comparison."""
    multi = pd.concat([t.assign(run=t.run + 10_000 * k) for k, t in fig4.plateaus.items()])
    multi = multi[multi.groupby("run").run.transform("size") >= 2]
    return growth_estimate(multi, index="index", length="length"), growth_factor(
        multi, index="index", length="length")[1]


def first_plateau(fig4: Fig4, K=None, tolerance=None):
    """The first detected plateau of each run at ``K`` (default the largest) -> ``(components,
    J_level, index)``: components learned (``J_k >= level``) when it starts, its level of
    ``J``, and its checkpoint index (``-1``/NaN for runs without a plateau)."""
    K = K or fig4.K_max
    r = fig4.runs[K]
    tab = fig4.plateau_table(K, tolerance)
    first = tab[tab["index"] == 1].set_index("run")
    index = np.full(fig4.n_runs, -1)
    level = np.full(fig4.n_runs, np.nan)
    comps = np.full(fig4.n_runs, np.nan)
    t = r.steps * K
    for run, row in first.iterrows():
        i = int(np.searchsorted(t, row.t_a))
        index[run] = i
        level[run] = row.J_level
        comps[run] = float((r.curves[run, i] >= fig4.settings["level"]).sum())
    return comps, level, index


def first_plateau_estimates(fig4: Fig4):
    """Mean components learned at the first plateau of the largest K (bootstrap over the runs
    that have one), with readings: its J level and other detector tolerances."""
    comps, level, _ = first_plateau(fig4)
    has = np.isfinite(comps)
    headline = stats.bootstrap(np.mean, comps[has])
    readings = {"level of J on the plateau": stats.bootstrap(np.mean, level[has])}
    for tol in TOLERANCES:
        if tol != fig4.settings["tolerance"]:
            c, _, _ = first_plateau(fig4, tolerance=tol)
            readings[f"detector tolerance {tol}"] = stats.bootstrap(np.mean, c[np.isfinite(c)])
    c = first_long_stage(fig4.stages[fig4.K_max], fig4.n_runs, fig4.settings["min_ratio"])
    readings["first stage lasting a factor min_ratio (no detector)"] = stats.bootstrap(
        np.mean, c[np.isfinite(c)])
    return headline, stats.fraction(has), readings


def first_long_stage(stages, n_runs, min_ratio=2.0):
    """Per run, the components learned before its first stage that lasts at least a factor
    ``min_ratio`` in time (``t_end / t_start``; stages after the first), NaN if none: the
    level of the first plateau read from the stages alone."""
    st = stages[(stages.stage > 1) & (stages.t_end >= min_ratio * stages.t_start)]
    out = np.full(n_runs, np.nan)
    first = st.groupby("run").stage.min()
    out[first.index.to_numpy()] = first.to_numpy() - 1
    return out


def step_like_estimates(fig4: Fig4):
    """Fraction of the largest K's runs that are step-like (:func:`step_like`) after their
    first plateau, for each band of ``STEP_BANDS`` (the first is the headline)."""
    K = fig4.K_max
    _, _, index = first_plateau(fig4)
    curves = fig4.runs[K].curves
    out = {f"transition {lo}-{hi}": stats.fraction(step_like(curves, index, lo, hi,
                                                            fig4.settings["level"]))
           for lo, hi in STEP_BANDS}
    return out


def explanations(fig4: Fig4):
    """Measures of the two explanations at the largest K -> ``(table, values)``: medians of
    each stage-start measure in the first and the last stage, and its within-stage rank
    correlation with the stage length, all with bootstrap intervals."""
    Km = fig4.K_max
    st = fig4.stages[Km]
    last = st[st.stage == st.stage.max()]
    measures = [("J_k / J_k(theta0)", "start_ratio"), ("J_k", "J_start"),
                ("gradient fraction outside span", "null_fraction"),
                ("surviving share of own rate", "progress_ratio")]
    rows, values = [], {}
    for label, col in measures:
        corr = within_stage_correlation(st, col, n_runs=fig4.n_runs, n_stages=Km)
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


def plot_figure4(fig4: Fig4, n_curves=8):
    """Figure 4: individual learning curves J(t) per K = n (log time), detected plateaus as
    thick translucent bars."""
    fig, axes = plotting.new_figure(ncols=len(fig4.runs), width=4.2, height=3.6)
    colors = plt.cm.viridis(np.linspace(0, 0.9, max(n_curves, 1)))
    for ax, (k, r) in zip(axes[0], fig4.runs.items()):
        t = np.maximum(r.steps, 1) * k
        J = r.curves.sum(axis=-1)
        tab = fig4.plateaus[k]
        for i in range(min(n_curves, r.curves.shape[0])):
            stop = np.searchsorted(r.steps, r.stop_step[i], side="right")
            ax.plot(t[:stop], J[i, :stop], color=colors[i], lw=1.2)
            for _, p in tab[tab.run == i].iterrows():
                ax.hlines(p.J_level, p.t_a, p.t_b, color=colors[i], lw=7, alpha=0.35)
        ax.set_xscale("log")
        ax.set_title(f"K = n = {k}")
        ax.set_xlabel("samples")
        ax.set_ylim(0, k)
    axes[0, 0].set_ylabel("performance J")
    plt.close(fig)
    return fig


def plot_stages(fig4: Fig4):
    """Stages of the largest K's runs (box plots over runs): stage length, J_k at the stage
    start relative to J_k(theta0), gradient fraction outside the learned span, surviving
    share of the component's own rate."""
    st = fig4.stages[fig4.K_max]
    fig, axes = plotting.new_figure(ncols=4, width=3.4, height=3.3)
    cols = [("duration", "stage length (samples)", True),
            ("start_ratio", "J_k at stage start / J_k(theta0)", True),
            ("null_fraction", "gradient fraction outside span", False),
            ("progress_ratio", "surviving share of own rate", False)]
    stages_ = sorted(st.stage.unique())
    for ax, (col, label, logy) in zip(axes[0], cols):
        data = [st.loc[st.stage == s, col].dropna().values for s in stages_]
        ax.boxplot(data, positions=stages_, widths=0.6, showfliers=False)
        ax.set_xlabel("stage")
        ax.set_ylabel(label)
        if logy:
            ax.set_yscale("log")
    axes[0, 1].axhline(1, color="grey", ls="--", lw=1)
    plt.close(fig)
    return fig


# ----------------------------------------------------------------------------- Figure 7

def figure7_runs(cfg) -> dict:
    """Figure 7's runs, ``{(K, n): BanditRuns}`` (the paper's budget of 1e5 samples)."""
    return {kn: simulate(c) for kn, c in cfg["fig7"].items()}


def flat_fraction(runs: BanditRuns, eps) -> stats.Estimate:
    """Fraction of runs whose flattest plateau has flatness ``<= eps`` (Wilson interval)."""
    return stats.fraction(np.nan_to_num(runs.flatness, nan=np.inf) <= eps)


def flatness_table(runs7: dict, eps) -> pd.DataFrame:
    return pd.DataFrame([{"K": k, "n": m, f"fraction with eps <= {eps:g}": flat_fraction(r, eps),
                          "median eps": stats.bootstrap(np.nanmedian, r.flatness),
                          "solved": stats.fraction(r.solved)} for (k, m), r in runs7.items()])


def _flags(runs7, eps):
    return {kn: (np.nan_to_num(r.flatness, nan=np.inf) <= eps).astype(float)
            for kn, r in runs7.items()}


def more_n_effect(runs7: dict, eps) -> tuple[stats.Estimate, list]:
    """Mean over pairs ``(K, n1 < n2)`` of ``frac(K, n1) - frac(K, n2)`` (positive: more
    actions make flat plateaus rarer), bootstrap over runs; and the pairs."""
    flags = _flags(runs7, eps)
    pairs = [((k, m1), (k, m2)) for (k, m1) in flags for (k2, m2) in flags
             if k == k2 and m1 < m2]
    if not pairs:
        return stats.Estimate(np.nan, np.nan, np.nan), pairs
    a = np.stack([flags[p] for p, _ in pairs], axis=1)
    b = np.stack([flags[q] for _, q in pairs], axis=1)
    return stats.bootstrap(lambda x, y: float((x.mean(0) - y.mean(0)).mean()), a, b), pairs


def more_K_effect(runs7: dict, eps) -> stats.Estimate:
    """``frac(K_max, K_max) - frac(K_min, K_min)`` along the diagonal K = n (bootstrap)."""
    diag = sorted(k for k, m in runs7 if k == m)
    if len(diag) < 2:
        return stats.Estimate(np.nan, np.nan, np.nan)
    flags = _flags(runs7, eps)
    return stats.bootstrap(lambda x, y: y.mean() - x.mean(), flags[(diag[0], diag[0])],
                           flags[(diag[-1], diag[-1])])


def plot_figure7(runs7: dict, eps):
    """Figure 7: empirical CDF of the flatness of each run's flattest plateau (blue, solid:
    K = n; warm, dashed: K < n)."""
    fig, axes = plotting.new_figure()
    ax = axes[0, 0]
    Ks = sorted({k for k, _ in runs7})
    cool = plt.cm.Blues(np.linspace(0.45, 0.95, len(Ks)))
    warm = plt.cm.autumn(np.linspace(0.0, 0.75, max(1, sum(k < m for k, m in runs7))))
    iw = 0
    for (k, m), r in runs7.items():
        if k == m:
            color, ls = cool[Ks.index(k)], "-"
        else:
            color, ls = warm[iw], "--"
            iw += 1
        plotting.ecdf(ax, r.flatness, label=f"K={k}, n={m}", color=color, ls=ls)
    ax.axvline(eps, color="grey", lw=1, ls=":")
    ax.set_xlabel("flatness eps of the flattest plateau")
    ax.set_ylabel("fraction of runs")
    ax.legend(ncol=2)
    plt.close(fig)
    return fig


# ----------------------------------------------------------------------------- glued values

def figure4_values(fig4: Fig4, summary: pd.DataFrame) -> dict:
    """The glued numbers of Figure 4's summary (names kept from earlier versions of the
    page; every Monte Carlo number an Estimate, glued with its interval)."""
    s = fig4.settings
    per_run = summary["plateaus per run"]
    med = summary["median samples to solve"]
    out = {"plateaus_per_run": {int(k): round(float(v), 3) for k, v in per_run.items()},
           "median_samples_to_solve": {int(k): float(v) for k, v in med.items()},
           "K_max": int(fig4.K_max),
           "solved_1e5_K_max": summary.loc[fig4.K_max, "solved within 1e5 samples"],
           "max_samples_fig4": s["max_samples_fig4"], "plateau_min_ratio": s["min_ratio"],
           "plateau_tolerance": s["tolerance"], "plateau_start": s["start"],
           "learned_level": s["level"]}
    for k in fig4.runs:
        out[f"plateaus_per_run_K{k}"] = per_run[k]
        out[f"median_samples_to_solve_K{k}"] = med[k]
    return out


def growth_readings_table(readings: dict) -> pd.DataFrame:
    """The stage growth factor under each reading, as a table."""
    return pd.DataFrame({"growth factor per stage": list(readings.values())},
                        index=pd.Index(list(readings), name="reading"))


def figure7_values(runs7: dict, eps) -> dict:
    """Glued numbers of Figure 7: the fraction of flat runs per (K, n) with its interval,
    the diagonal as text, and the number of pairs in which more actions help."""
    frac = {kn: flat_fraction(r, eps) for kn, r in runs7.items()}
    diag = [frac[(k, k)] for k in sorted({k for k, _ in frac}) if (k, k) in frac]
    _, pairs = more_n_effect(runs7, eps)
    easier = sum(float(frac[q]) <= float(frac[p]) for p, q in pairs)
    out = {"eps": eps, "frac_flat_diag": ", ".join(f"{float(v):.2f}" for v in diag),
           "more_n_easier_pairs": f"{easier} of {len(pairs)}"}
    out.update({f"frac_flat_K{k}_n{m}": v for (k, m), v in frac.items()})
    return out


def explanation_answers(values: dict) -> dict:
    """The findings' answers, worded from the measured values of :func:`explanations`:
    ``{finding id: (answer, value)}``."""
    low, corr, null = values["last_start_ratio"], values["J_start"], values["null_fraction"]
    low_text = ("Yes" if low.high < 1 else "Not clearly") + (
        f": the component learned last starts its stage at a median {low:.2f} of its initial "
        "J_k")
    start_ok, null_ok = corr.high < 0, null.high < 0
    verdict = {(True, False): "Low start", (False, True): "Null space",
               (True, True): "Both", (False, False): "Neither"}[(start_ok, null_ok)]
    expl_text = (f"{verdict}: within a stage, J_k at the stage start vs. stage length has rank "
                 f"corr. {corr:.2f} (low start predicts < 0); the null-space fraction moves "
                 f"from {values['null_first']:.2f} (stage 2) to {values['null_last']:.2f} "
                 f"(last stage) and its rank corr. with stage length is {null:.2f} (null space "
                 "predicts < 0)")
    return {"3.2-low-start": (low_text, low), "3.2-explanations": (expl_text, corr)}

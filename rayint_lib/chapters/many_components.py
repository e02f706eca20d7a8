"""Sec. 3.2 and Figs. 4, 7: many components, stages and growing plateaus.

Figure 4's configurations run once, logits recorded at the checkpoints; on those same runs:
the plateaus of each curve and their counts over detector settings (two detectors), the
stages of each run without any detector and the factor by which they grow, the first
plateau of the K = 8 runs ("I ~ 3"), the share of step-like curves, and two explanations of
the growth (a low start; a gradient confined to the learned components' span). Figure 7:
flat plateaus on a grid of K and n (App. A). The measures are :mod:`rayint_lib.model.staircase`
and :mod:`rayint_lib.model.transfer`, the figures :mod:`.many_components_figures`; every
number from random runs carries a 95% interval (:mod:`rayint_lib.model.stats`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..book.page import show  # noqa: F401  (the notebook calls ch.show)
from ..model import stats
from ..model.config import BanditConfig, check_float, check_int, check_memory
from ..model.params import Param, declare
from ..model.plateaus import RATES
from ..model.simulate import BanditRuns, logit_memory_bytes, simulate
from ..model.staircase import (
    explanation_measures,
    first_long_stage,
    first_plateaus,
    growth_estimate,
    growth_factor,
    log_rate_table,
    long_stages,
    plateau_counts,
    plateau_table,
    stage_table,
    step_like,
)
from ..model.transfer import mean_gain, more_K_effect, more_n_effect  # noqa: F401 (notebook)
from . import claims_of

NOTEBOOK = "03_many_components"
FIG4_CHECKPOINTS = 300              # checkpoints of Figure 4's curves (log-spaced)
TOLERANCES = (0.1, 0.25, 0.5)       # detector settings of the sensitivity table
MIN_RATIOS = (1.5, 2.0, 3.0)
STEP_BANDS = ((0.2, 0.8), (0.1, 0.9), (0.3, 0.7))   # "mid-transition" bands, first = headline
EPS_READINGS = (1e-5, 1e-4, 1e-3)
BAND = "band detector"                      # plateau_table at the page's settings
LOG_RATE = "log-rate detector, rate per {}"  # log_rate_table, one per rate (RATES)

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
    return mean_gain(*(np.asarray(counts[k], dtype=float) for k in Ks[-2:]))


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


def detector_counts(fig4: Fig4) -> dict:
    """``{detector: {K: plateaus per run}}`` for the band detector at the page's settings and
    the log-rate detector under both normalisations of the rate."""
    out = {BAND: {k: plateau_counts(t, fig4.n_runs) for k, t in fig4.plateaus.items()}}
    for rate in RATES:
        out[LOG_RATE.format(rate.replace("_", " "))] = {
            k: log_rate_table(r.steps, r.curves, k, fig4.settings["start"],
                              r.config.solved_margin, rate) for k, r in fig4.runs.items()}
    return out


def detector_comparison(fig4: Fig4, counts: dict) -> tuple[pd.DataFrame, str]:
    """Which detector sees the steps? Per detector: plateaus per run at every K, the increase
    from the second-largest to the largest K, and the mean absolute difference at the largest
    K between its count and the staircase steps read from the stages
    (:func:`long_stages`). Returns the table and the detector with the smallest difference
    (the headline of ``3.2-more-plateaus``)."""
    steps = long_stages(fig4.stages[fig4.K_max], fig4.n_runs, fig4.settings["min_ratio"])
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
    """:func:`first_plateaus` of the runs at ``K`` (default the largest) at the detector's
    ``tolerance`` (default the page's) -> ``(components, J_level, index)``."""
    K = K or fig4.K_max
    r = fig4.runs[K]
    return first_plateaus(fig4.plateau_table(K, tolerance), r.steps, r.curves, K,
                          fig4.settings["level"])


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
    """:func:`explanation_measures` of the largest K's stages -> ``(table, values)``."""
    return explanation_measures(fig4.stages[fig4.K_max], fig4.n_runs, fig4.K_max)


# ----------------------------------------------------------------------------- Figure 7

def figure7_runs(cfg) -> dict:
    """Figure 7's runs, ``{(K, n): BanditRuns}`` (the paper's budget of 1e5 samples)."""
    return {kn: simulate(c) for kn, c in cfg["fig7"].items()}


def flatness_table(runs7: dict, eps) -> pd.DataFrame:
    return pd.DataFrame([{"K": k, "n": m,
                          f"fraction with eps <= {eps:g}": stats.fraction(r.flat(eps)),
                          "median eps": stats.bootstrap(np.nanmedian, r.flatness),
                          "solved": stats.fraction(r.solved)} for (k, m), r in runs7.items()])


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
    frac = {kn: stats.fraction(r.flat(eps)) for kn, r in runs7.items()}
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

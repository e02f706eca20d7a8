"""Chapter 08_detect_and_remedy, the bandit benchmark: the remedies of Sec. 4 ("What makes it
better?") and a learning-progress curriculum ("What makes it worse?") tuned, run and ranked
on the shared-bias bandit of Sec. 2 (:mod:`rayint_lib.model.remedies`).

Every method runs from the same starts and sampler seeds; its step size (and the mixture's
fraction) is tuned on seeds disjoint from the reported ones by the ranking's own criterion
(failed runs: a flat plateau or unsolved). A method's effect against the baseline, its shared
rank and the paired tests are the fair-ranking statistics of
:mod:`rayint_lib.model.ranking`. ``s`` is the chapter's
:class:`~rayint_lib.chapters.detect_and_remedy.Settings`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..model import ranking as rk
from ..model import remedies as rm
from ..model import stats
from ..model.config import BanditConfig

if TYPE_CHECKING:
    from .detect_and_remedy import Settings

BASELINE = "REINFORCE (baseline)"
MIXTURE_LABEL = "uniform-action mixture"
CONTROLS = (("separate heads, baseline's step", "separate", 0.1),      # the protocol's
            ("fixed uniform data, baseline's step", "mixture", 1.0))   # controls: one change
ETA_STEPS = (1 / 3, 1.0, 3.0)   # the tuning grid: factors around each method's start
MAX_WIDEN = 3                   # grid points added beyond an edge, at most, per side
TUNE_SEED_OFFSET = 1000         # tuning runs use seed + 1000, disjoint from the reported
REMOVED = 0.05                  # "removes plateaus": flat fraction's upper 95% end at most

EFFECTS = ("removes plateaus", "fewer plateaus", "only shortens", "no clear effect", "worse")
CURRICULUM = rm.default_label(rm.Method("curriculum"))
TABULAR = rm.default_label(rm.Method("tabular"))


def planned_methods(s: Settings) -> list:
    """The :class:`~rayint_lib.model.remedies.Method` objects of the benchmark, at the start
    of their tuning (step size ``eta``; Adam and RMSProp at the middle of ``adaptive_etas``;
    the mixture's fraction is tuned over ``mix_fractions`` below 1, fraction 1 is the fixed
    uniform data control)."""
    out = []
    for name in s.methods + tuple(x for x in s.extra if x not in s.methods):
        if name == "mixture":
            fractions = [f for f in s.mix_fractions if f < 1]
            if fractions:
                out.append(rm.Method("mixture", eta=s.eta, mix=fractions[0],
                                     label=MIXTURE_LABEL))
            if 1.0 in s.mix_fractions:
                out.append(rm.Method("mixture", eta=s.eta, mix=1.0))
        elif name == "importance":
            out.append(rm.Method("importance", eta=s.eta, mix=s.iw_fraction))
        elif name == "entropy":
            out.append(rm.Method("entropy", eta=s.eta, tau=s.entropy_tau))
        elif name in ("adam", "rmsprop"):
            etas = s.adaptive_etas
            out.append(rm.Method(name, eta=etas[len(etas) // 2],
                                 label="Adam (tuned)" if name == "adam" else "RMSProp (tuned)"))
        else:
            out.append(rm.Method(name, eta=s.eta))
    return out


def _run(s: Settings, method, K, n, n_runs=None, seed=None):
    return rm.run_method(method, K=K, n=n, J0=s.J0_for(K), n_runs=n_runs or s.n_runs,
                         max_samples=s.max_samples, seed=s.seed if seed is None else seed)


def flat(s: Settings, r: rm.RemedyRuns) -> np.ndarray:
    """Per run: a plateau flatter than ``eps`` on the one scale of every method, ``|J-dot|``
    per sample in J units (:meth:`~rayint_lib.model.remedies.RemedyRuns.flat_per_sample`),
    the threshold being ``eps`` at the paper's step size ``eta``, per sample."""
    return r.flat_per_sample(s.eps_per_sample(r.K))


def failed(s: Settings, r: rm.RemedyRuns) -> np.ndarray:
    """Per run: a flat plateau, or not solved within the budget (a step size so small that
    runs never reach their plateau must not count as removing it)."""
    return flat(s, r) | ~r.solved


def criterion(s: Settings, r: rm.RemedyRuns) -> tuple:
    """The ranking's key at one K, smaller is better, also the tuning criterion: the fraction
    of failed runs (:func:`failed`, to 3 decimals), then log10 of the median samples to solve
    (unsolved counted as twice the budget)."""
    med = float(np.median(np.where(r.solved, r.samples_to_solve, np.inf)))
    return (round(float(failed(s, r).mean()), 3),
            float(np.log10(med if np.isfinite(med) else 2 * s.max_samples)))


def _tune_row(s, m, K, r, what, label):
    return {"method": label, "K": K, "tuned": what, "eta": m.eta, "mix": m.mix,
            "flat": float(flat(s, r).mean()), "failed": float(failed(s, r).mean()),
            "median samples": float(np.median(
                np.where(r.solved, r.samples_to_solve, np.inf))),
            "solved": float(r.solved.mean()), "key": criterion(s, r)}


def tune(s: Settings, method: rm.Method, K, n) -> tuple[rm.Method, list]:
    """Tune ``method`` at ``K`` on ``tune_runs`` runs of the tuning seed (``seed +``
    :data:`TUNE_SEED_OFFSET`, disjoint from the reported runs) by :func:`criterion`.

    The mixture's fraction first, over ``mix_fractions`` below 1 at the start step size;
    then the step size, on a grid of factors :data:`ETA_STEPS` around the start, widened by
    a factor 3 beyond an edge while the best value sits on it (at most :data:`MAX_WIDEN`
    points per side, :func:`rayint_lib.model.ranking.widened_search`). Returns the tuned
    method and one row per evaluated setting (the chosen one marked; ``interior`` says whether
    it has a grid point on each side)."""
    rows, done = [], {}
    seed = s.seed + TUNE_SEED_OFFSET

    def evaluate(m, what):
        if (m.eta, m.mix) not in done:     # the mixture's start step size: run once
            done[(m.eta, m.mix)] = _run(s, m, K, n, n_runs=s.tune_runs, seed=seed)
        r = done[(m.eta, m.mix)]
        rows.append(_tune_row(s, m, K, r, what, method.label))
        return criterion(s, r)

    if method.kind == "mixture" and method.mix < 1:
        fractions = [f for f in s.mix_fractions if f < 1]
        scores = {f: evaluate(method.with_(mix=f), "mix") for f in fractions}
        method = replace(method, mix=min(fractions, key=lambda f: scores[f]))
    grid = sorted(method.eta * f for f in ETA_STEPS)
    if method.kind in ("adam", "rmsprop"):
        grid = sorted(s.adaptive_etas)
    best, scores = rk.widened_search(lambda eta: evaluate(method.with_(eta=eta), "eta"), grid,
                                     MAX_WIDEN)
    for row in rows:
        if row["tuned"] == "eta":
            row["chosen"] = row["eta"] == best
            row["interior"] = min(scores) < best < max(scores)
        else:
            row["chosen"] = row["mix"] == method.mix
            row["interior"] = True
    return replace(method, eta=best), rows


@dataclass
class Benchmark:
    """Every method's runs per K, the tuning table and the timing."""

    settings: Settings
    runs: dict            # (K, label) -> RemedyRuns
    labels: list          # method labels in the order they were run (per K may differ)
    tuning: pd.DataFrame
    seconds: float


def benchmark(s: Settings) -> Benchmark:
    """Tune every planned method at every ``(K, n)`` (:func:`tune`; the curriculum and the
    tabular capacity control run at the baseline's tuned step size: they are the baseline
    with one thing changed), then run it on the reported seed, the same starts for all. The
    protocol's two controls (:data:`CONTROLS`) also run at the baseline's step size."""
    t0 = time.perf_counter()
    runs, tuning, labels = {}, [], []
    for K, n in zip(s.K_list, s.n_list):
        base_eta = s.eta
        for m in planned_methods(s):
            if m.kind in ("curriculum", "tabular"):
                m = replace(m, eta=base_eta)
            else:
                m, rows = tune(s, m, K, n)
                tuning += rows
                if m.label == BASELINE:
                    base_eta = m.eta
            runs[(K, m.label)] = _run(s, m, K, n)
            if m.label not in labels:
                labels.append(m.label)
        for label, kind, mix in CONTROLS:
            if (K, label.split(",")[0]) in runs:
                runs[(K, label)] = _run(s, rm.Method(kind, eta=base_eta, mix=mix, label=label),
                                        K, n)
    return Benchmark(s, runs, labels, pd.DataFrame(tuning), time.perf_counter() - t0)


def summarize(s: Settings, r: rm.RemedyRuns) -> dict:
    """One method at one K: each number with its 95% interval."""
    return {"flat": stats.fraction(flat(s, r)),
            "median_samples": stats.median(r.samples_to_solve),
            "solved": stats.fraction(r.solved),
            "final_J": stats.bootstrap(np.mean, r.final.sum(1))}


def effect(row: dict, base: dict) -> str:
    """How a method compares with the baseline at one K. *removes plateaus*: fewer flat
    runs (``fewer``, the Holm-corrected paired test of :func:`summaries`) and the upper end
    of the flat fraction's interval at most :data:`REMOVED` (the 5% that "eliminate" means in
    chapter 01); *fewer plateaus*: fewer, not removed; *only shortens*: not fewer, median
    samples lower (intervals disjoint); *worse*: flat fraction or median samples higher
    (intervals disjoint); *no clear effect* otherwise."""
    f, b = row["flat"], base["flat"]
    if row.get("fewer", False):
        return "removes plateaus" if f.high <= REMOVED else "fewer plateaus"
    m, bm = row["median_samples"], base["median_samples"]
    if rk.disjoint_below(m, bm):
        return "only shortens"
    if rk.disjoint_below(b, f) or rk.disjoint_below(bm, m):
        return "worse"
    return "no clear effect"


def summaries(bench: Benchmark) -> dict:
    """``{(K, label): summary dict}`` with the effect against the baseline; ``p`` and
    ``fewer``: the paired test of fewer flat runs, Holm-corrected across every method and K
    (``n_tests`` tests)."""
    s = bench.settings
    out = {key: summarize(s, r) for key, r in bench.runs.items()}
    ranked = set(_ranked_labels(bench)) - {BASELINE}
    tests = {(K, label): rk.fewer_p_value(flat(s, bench.runs[(K, BASELINE)]), flat(s, r))
             for (K, label), r in bench.runs.items()
             if label in ranked and (K, BASELINE) in bench.runs}
    rejected = rk.holm(tests)
    for key, row in out.items():
        row["p"] = tests.get(key, float("nan"))
        row["fewer"] = rejected.get(key, False)
        row["n_tests"] = len(tests)
    for (K, label), row in out.items():
        base = out.get((K, BASELINE))
        row["effect"] = "baseline" if label == BASELINE or base is None else effect(row, base)
    return out


def _ranked_labels(bench: Benchmark) -> list:
    return [lab for lab in bench.labels if lab not in (CURRICULUM, TABULAR)]


def mean_failed(bench: Benchmark, label) -> stats.Estimate:
    """The fraction of failed runs (:func:`failed`) averaged over K, with a bootstrap interval
    over runs."""
    s = bench.settings
    flags = [failed(s, bench.runs[(K, label)]).astype(float) for K in s.K_list
             if (K, label) in bench.runs]
    return stats.bootstrap(lambda *f: np.mean([x.mean() for x in f]), *flags)


def ranking(bench: Benchmark) -> list:
    """Method labels, best first, by :func:`criterion` averaged over K (the mean fraction of
    failed runs, then the mean log median samples)."""
    s = bench.settings

    def key(label):
        keys = [criterion(s, bench.runs[(K, label)]) for K in s.K_list
                if (K, label) in bench.runs]
        return (round(float(np.mean([k[0] for k in keys])), 3),
                float(np.mean([k[1] for k in keys])))

    return sorted(_ranked_labels(bench), key=key)


def ranks(bench: Benchmark) -> dict:
    """``{label: rank}`` supported by the intervals of the mean fraction of failed runs
    (:func:`mean_failed`): methods with overlapping intervals share a rank
    (:func:`rayint_lib.model.ranking.shared_ranks`)."""
    return rk.shared_ranks({lab: mean_failed(bench, lab) for lab in ranking(bench)})


def library_check(bench: Benchmark, K, n):
    """The baseline against the library's on-policy simulator (same config and step size,
    same starts, different sampler): both flat fractions with Wilson intervals and the
    two-proportion z."""
    s = bench.settings
    base = bench.runs[(K, BASELINE)]
    cfg = BanditConfig(K=K, n=n, J0=s.J0_for(K), n_runs=s.n_runs, max_samples=s.max_samples,
                       seed=s.seed, eta=base.method.eta)
    from ..model.simulate import simulate

    lib = simulate(cfg)
    ours = flat(s, base)
    theirs = np.nan_to_num(lib.flatness * cfg.eta / K, nan=np.inf) <= s.eps_per_sample(K)
    z = rk.two_proportion_z(ours, theirs)
    return {"ours": stats.fraction(ours), "theirs": stats.fraction(theirs), "z": z,
            "agree": abs(z) < 1.96}


def reduction(bench: Benchmark, label, K) -> stats.Estimate:
    """Baseline flat fraction minus the method's (paired by start): > 0 means fewer plateaus."""
    s = bench.settings
    return rk.paired_difference(flat(s, bench.runs[(K, BASELINE)]),
                                flat(s, bench.runs[(K, label)]))


def best_mixture(bench: Benchmark) -> float:
    """The best-ranked uniform-action fraction below 1 of the bandit benchmark (0.1, the
    paper's Fig. 6 fraction, when the sweep was not run)."""
    K = max(bench.settings.K_list)
    for label in ranking(bench):
        r = bench.runs.get((K, label))
        if r is not None and r.method.kind == "mixture" and r.method.mix < 1:
            return float(r.method.mix)
    return 0.1

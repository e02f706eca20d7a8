"""Chapter 08_detect_and_remedy, the bandit benchmark in words and tables: the ranked tables
with every number's 95% interval, the tuning tables, the glued values and the prose answers of
the book's findings (Sec. 4)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import stats
from .detect_and_remedy import DISSIPATE
from .detect_and_remedy_bandit import (
    BASELINE,
    EFFECTS,
    REMOVED,
    TUNE_SEED_OFFSET,
    Benchmark,
    ranking,
    ranks,
)


def fmt(e: stats.Estimate, spec=".2f") -> str:
    """An estimate as ``value [low, high]`` (``not reached`` for an infinite median)."""
    if not np.isfinite(e.value):
        return "not reached" if e.value == np.inf else "n/a"
    hi = "inf" if not np.isfinite(e.high) else format(e.high, spec)
    return f"{e.value:{spec}} [{e.low:{spec}}, {hi}]"


def remedy_table(bench: Benchmark, summ: dict, K) -> pd.DataFrame:
    """The ranked table at one K (glued as ``remedy_table_K{K}``): the shared rank, the tuned
    step size, the fraction of runs with a plateau flatter than eps, the median samples to
    solve and the fraction solved (each with its 95% interval), and the effect."""
    rank = ranks(bench)
    rows = []
    for label in ranking(bench):
        r = summ.get((K, label))
        if r is None:
            continue
        m = bench.runs[(K, label)].method
        step = f"{m.eta:.3g}" + (f", mix {m.mix:g}" if m.kind == "mixture" else "")
        rows.append({"rank": rank[label], "method": label, "step size": step,
                     "flat": fmt(r["flat"]), "median samples": fmt(r["median_samples"], ".3g"),
                     "solved": fmt(r["solved"]), "effect": r["effect"]})
    return pd.DataFrame(rows)


def tuning_table(bench: Benchmark, K) -> pd.DataFrame:
    """The tuning at one K: per method, the grid evaluated, the chosen value and whether it
    is interior (a grid point on each side)."""
    t = bench.tuning
    if t.empty:
        return t
    rows = []
    for (label, what), g in t[t["K"] == K].groupby(["method", "tuned"], sort=False):
        col = "eta" if what == "eta" else "mix"
        g = g.sort_values(col)
        chosen = g[g["chosen"]].iloc[0]
        rows.append({"method": label, "tuned": "step size" if what == "eta" else "fraction",
                     "grid": ", ".join(f"{v:.3g}" for v in g[col]),
                     "failed on the grid": ", ".join(f"{v:.2f}" for v in g["failed"]),
                     "chosen": f"{chosen[col]:.3g}",
                     "interior": "yes" if chosen["interior"] else "no (edge)"})
    return pd.DataFrame(rows)


def tuning_summary(bench: Benchmark) -> dict:
    """Glued numbers of the tuning: settings tuned, how many ended inside their grid."""
    t = bench.tuning
    if t.empty:
        return {"remedy_n_tuned": 0, "remedy_n_interior": 0, "remedy_tune_evals": 0}
    chosen = t[t["chosen"] & (t["tuned"] == "eta")]
    return {"remedy_n_tuned": len(chosen), "remedy_n_interior": int(chosen["interior"].sum()),
            "remedy_tune_evals": len(t)}


def slug(label: str) -> str:
    """A glue-name part for a method label: ``"mixture 0.1"`` -> ``"mixture_0.1"``."""
    out = "".join(c if c.isalnum() or c == "." else "_" for c in label.lower())
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_")


def glue_values(bench: Benchmark, summ: dict) -> dict:
    """Every number of the table as glue names ``remedy_{flat,median,solved,finalJ}_K{K}_{slug}``
    (Estimates: with ``_ci_low`` / ``_ci_high``), plus the settings and the timing."""
    s = bench.settings
    out = {"remedy_n_runs": s.n_runs, "remedy_max_samples": s.max_samples,
           "remedy_eps": s.eps, "remedy_eta": s.eta, "remedy_seconds": bench.seconds,
           "remedy_n_methods": len(bench.labels) - 1, "remedy_tau": s.entropy_tau,
           "remedy_iw_fraction": s.iw_fraction, "remedy_tune_runs": s.tune_runs,
           "remedy_tune_seed": s.seed + TUNE_SEED_OFFSET, "remedy_n_tests": next(
               (row["n_tests"] for row in summ.values()), 0), "remedy_removed": REMOVED,
           "remedy_dissipate": DISSIPATE, **tuning_summary(bench),
           **{f"remedy_eps_sample_K{K}": s.eps_per_sample(K) for K in s.K_list}}
    for (K, label), row in summ.items():
        tag = f"K{K}_{slug(label)}"
        out[f"remedy_flat_{tag}"] = row["flat"]
        out[f"remedy_median_{tag}"] = row["median_samples"]
        out[f"remedy_solved_{tag}"] = row["solved"]
        out[f"remedy_finalJ_{tag}"] = row["final_J"]
    return out


def effect_lists(bench: Benchmark, summ: dict) -> dict:
    """Per effect, the methods with that effect at every K (``"consistent"``) as text, for
    the prose: ``{effect: "a, b and c"}`` (``"none"`` when empty)."""
    s = bench.settings
    out = {}
    for e in EFFECTS:
        names = [lab for lab in ranking(bench)
                 if all(summ[(K, lab)]["effect"] == e for K in s.K_list if (K, lab) in summ)]
        out[e] = join(names)
    mixed = [lab for lab in ranking(bench)
             if len({summ[(K, lab)]["effect"] for K in s.K_list if (K, lab) in summ}) > 1]
    out["mixed"] = join([lab + " (" + ", ".join(f"K={K}: {summ[(K, lab)]['effect']}"
                                                for K in s.K_list if (K, lab) in summ) + ")"
                          for lab in mixed])
    return out


def join(names) -> str:
    """``"a, b and c"`` (``"none"`` when empty)."""
    if not names:
        return "none"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def best_three(bench: Benchmark) -> str:
    """The three best-ranked methods, as text."""
    return join(ranking(bench)[:3])


def effect_glue(bench: Benchmark, summ: dict) -> dict:
    """The prose's lists of methods by effect (:func:`effect_lists`) and the best three."""
    e = effect_lists(bench, summ)
    return {"remedy_removes": e["removes plateaus"], "remedy_fewer": e["fewer plateaus"],
            "remedy_shortens": e["only shortens"], "remedy_no_effect": e["no clear effect"],
            "remedy_worse": e["worse"], "remedy_mixed": e["mixed"],
            "remedy_best_three": best_three(bench)}


def ranking_answer(bench: Benchmark, summ: dict) -> str:
    """The answer of the finding ``remedy-ranking``."""
    e = effect_lists(bench, summ)
    return (f"Remove the plateaus at every K: {e['removes plateaus']}. Fewer plateaus: "
            f"{e['fewer plateaus']}. Only shorten: {e['only shortens']}. No clear effect: "
            f"{e['no clear effect']}. Worse: {e['worse']}. Best three: "
            f"{best_three(bench)}.")


def findings(bench: Benchmark, summ: dict, lib: dict) -> dict:
    """``{finding id: (answer, value, evidence)}`` besides the ranking."""
    s = bench.settings
    K = max(s.K_list)
    out = {}
    nat = summ.get((K, "natural gradient"))
    if nat is not None:
        out["natural-gradient-reparameterisation"] = (
            "It is the tabular natural gradient: the shared-bias model is a linear, onto "
            "reparameterisation of the tabular logits, so the (W, b) natural gradient (Fisher "
            "pseudo-inverse) moves the logits exactly as the tabular one (tested); it is exact "
            "here only because the model is tabular in disguise. The interference through b "
            "vanishes. The coupling does not: the logit step is e_k in expectation, but "
            "J_k-dot = J_k (1 - J_k) still vanishes at J_k = 0 (escape in log(1/delta), not "
            "1/delta as on-policy), and the sampled step e_k / pi_k has variance ~ eta / pi_k, "
            "large when J_k is small. Flat fraction at K = n = "
            f"{K}: {nat['flat']:.3f}; median samples {nat['median_samples']:.3g}.",
            nat["flat"], f"{s.n_runs} runs at K = n = {K}")
    iw = [lab for (k, lab) in summ if k == K and lab.startswith("importance")]
    if iw:
        r, b = summ[(K, iw[0])], summ[(K, BASELINE)]
        out["importance-weighting-restores-coupling"] = (
            "Importance weighting makes the off-policy update on-policy in expectation, with "
            "the same coupling f(J) = J: the expected dynamics and their plateaus are "
            "unchanged; what differs is the noise, and the step size it tolerates (tuned "
            f"separately). Flat fraction at K = n = {K}: {r['flat']:.3f} against "
            f"{b['flat']:.3f} for the baseline ({r['effect']}).",
            r["flat"], f"{s.n_runs} runs at K = n = {K}")
    ad = [(k, lab) for (k, lab) in summ if lab in ("Adam (tuned)", "RMSProp (tuned)")]
    if ad:
        txt = "; ".join(f"{lab} at K = n = {k}: flat {summ[(k, lab)]['flat']:.2f}, "
                        f"{summ[(k, lab)]['effect']}" for k, lab in ad)
        etas = ", ".join(f"{r.method.label} K={k}: eta = {r.method.eta:g}"
                         for (k, lab), r in bench.runs.items() if (k, lab) in ad)
        removes = all(summ[key]["effect"] == "removes plateaus" for key in ad)
        out["adaptive-optimizers"] = (f"{'Yes' if removes else 'No'}: {txt} (tuned step sizes: "
                                      f"{etas}).",
                                      summ[ad[-1]]["flat"],
                                      f"grid from {list(s.adaptive_etas)}, widened at an edge; "
                                      f"{s.tune_runs} tuning runs")
    agree = all(c["agree"] for c in lib.values())
    out["baseline-matches-library"] = (
        ("Yes" if agree else "No") + ": " + "; ".join(
            f"K = n = {k}: {c['ours']:.3f} here vs {c['theirs']:.3f} library (z = {c['z']:.2f})"
            for k, c in lib.items()),
        bool(agree), f"{s.n_runs} runs each, same starts, independent samplers")
    return out

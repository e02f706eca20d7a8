"""Chapter 08_detect_and_remedy, the detection protocol of Sec. 4 ("How to detect it?") on the
bandit benchmark: ``rayint detect``'s engine (:func:`rayint_lib.model.detection.detect`) on
the baseline's runs, on the two controls (reduce interference: separate heads; reduce
coupling: fixed uniform data) and on two negative controls, plateaus that are not ray
interference (the tabular learner's coupling-only plateaus; the stage-wise plateaus of Saxe et
al.'s deep linear network, chapter 04), for the detector's specificity.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model import deep_linear as dl
from ..model import stats
from ..model.curves import long_format
from ..model.deep_linear import DeepLinearConfig
from ..model.detection import Detection, detect
from .detect_and_remedy import controls_dissipate, dissipates
from .detect_and_remedy_bandit import BASELINE, CONTROLS, TABULAR, Benchmark
from .detect_and_remedy_text import fmt

BASE_ROW = "baseline (on-policy, shared bias)"
CONDITIONS = {BASE_ROW: BASELINE,                  # row name -> method label, baseline first
              "control 1: reduce interference (separate heads)": CONTROLS[0][0],
              "control 2: reduce coupling (fixed uniform data)": CONTROLS[1][0]}
TABULAR_ROW = "negative control: tabular (coupling only)"
SAXE_ROW = "negative control: deep linear (Saxe, no coupling)"


def curves_of(r, n_runs, components=True) -> tuple:
    """The first ``n_runs`` runs' curves at their logged updates ``> 0`` as the detector's
    input (:func:`rayint_lib.model.curves.long_format`): ``J_k`` per component, or ``J``."""
    keep = r.steps > 0
    curves = r.curves[:min(n_runs, r.curves.shape[0]), keep]
    return long_format(r.steps[keep], curves if components else curves.sum(-1))


def detect_runs(bench: Benchmark, label, K, components=True):
    """H7's detector on the first ``detect_runs`` runs of ``label`` at ``K``."""
    st, values, runs, comps = curves_of(bench.runs[(K, label)], bench.settings.detect_runs,
                                        components)
    return detect(st, values, runs=runs, components=comps, eta=bench.settings.eta)


def saxe_detection(n_runs, seed):
    """Negative control: the detector on stage-wise plateaus that are not ray interference,
    the deep linear network of chapter 04 (Saxe et al. 2014; its default configuration,
    ``n_runs`` small random starts), the per-mode performances as components."""
    cfg = DeepLinearConfig(n_runs=n_runs, seed=seed)
    rng = np.random.default_rng(seed)
    task = dl.make_task(cfg.s, rng)
    N = task.s.size
    traj = dl.train(*dl.init_random(rng, n_runs, cfg.hidden, N, N, cfg.init_scale), task,
                    cfg.eta, cfg.n_steps)
    p = np.clip(traj.performance[:, 1:], 0, 1)                  # [R, T, N], step >= 1
    st, values, runs, comps = long_format(np.arange(1, p.shape[1] + 1), p)
    return detect(st, values, runs=runs, components=comps, eta=cfg.eta)


def flagged(det) -> np.ndarray:
    """Per run: the detector sees a symptom (a plateau, or components learned in turn)."""
    return np.array([bool(r.plateaus) or bool(r.sequential) for r in det.runs])


def detection_table(bench: Benchmark, conditions: dict, K,
                    negative: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """The protocol of Sec. 4 on the bandit: the detector on the baseline, on the two
    controls and on the negative controls (``negative``: ``{row name: Detection}``, plateaus
    that are not ray interference). ``conditions``: ``{row name: method label}``, the
    baseline first. Columns: runs with plateaus and runs flagged (a plateau or components
    in turn) with 95% intervals, plateaus per run, the mean curve's plateaus, and whether the
    plateaus dissipate against the baseline (:func:`dissipates`). Returns the table and
    ``{row name: Detection}``."""
    found = {name: detect_runs(bench, label, K) for name, label in conditions.items()}
    base = with_plateaus(next(iter(found.values())))
    found.update(negative or {})
    rows = []
    for i, (name, d) in enumerate(found.items()):
        counts = np.array([len(r.plateaus) for r in d.runs], float)
        control = 0 < i < len(conditions)
        rows.append({"condition": name, "runs with plateaus": fmt(with_plateaus(d)),
                     "runs flagged": fmt(stats.fraction(flagged(d))),
                     "plateaus per run": fmt(stats.bootstrap(np.mean, counts)),
                     "mean curve plateaus": len(d.mean_plateaus),
                     "dissipate vs baseline": ("yes" if dissipates(with_plateaus(d), base)
                                               else "no") if control else ""})
    return pd.DataFrame(rows), found


def with_plateaus(det) -> stats.Estimate:
    """The fraction of a detection's runs with at least one plateau (Wilson interval)."""
    return stats.fraction([bool(r.plateaus) for r in det.runs])


def specificity(found: dict, negative_names) -> stats.Estimate:
    """The detector's specificity on the negative controls: the fraction of their runs it
    does not flag (:func:`flagged`), pooled, with a Wilson interval."""
    return stats.fraction(np.concatenate([~flagged(found[n]) for n in negative_names]))


@dataclass
class Protocol:
    """The protocol at ``K`` (the largest benchmark): its table and ``{row name: Detection}``
    for :data:`CONDITIONS` and the two negative controls."""

    K: int
    table: pd.DataFrame
    found: dict

    @property
    def baseline(self) -> Detection:
        return self.found[BASE_ROW]

    def dissipate(self) -> dict:
        """``{control row: the detector's plateaus dissipate against the baseline's}``."""
        base = with_plateaus(self.baseline)
        return {name: dissipates(with_plateaus(self.found[name]), base)
                for name in list(CONDITIONS)[1:]}


def protocol(bench: Benchmark) -> Protocol:
    """The detector on the baseline, the two controls and the negative controls
    (:func:`detection_table`) at the largest K of the benchmark."""
    s = bench.settings
    K = max(s.K_list)
    negative = {TABULAR_ROW: detect_runs(bench, TABULAR, K),
                SAXE_ROW: saxe_detection(s.detect_runs, s.seed)}
    table, found = detection_table(bench, CONDITIONS, K, negative)
    return Protocol(K, table, found)


def protocol_glue(p: Protocol, n_runs: int) -> dict:
    """Glue names of the protocol (``n_runs``: runs per condition): whether the plateaus
    dissipate under each control, the specificity on the negative controls, the runs each
    negative control has flagged, and whether the tabular learner's plateaus would wrongly
    pass as ray interference (they dissipate under separate heads against the tabular
    runs)."""
    sep, uni = (p.dissipate()[name] for name in list(CONDITIONS)[1:])
    tab_vs_sep = dissipates(with_plateaus(p.found[list(CONDITIONS)[1]]),
                            with_plateaus(p.found[TABULAR_ROW]))
    return {"remedy_det_dissipate_sep": "do" if sep else "do not",
            "remedy_det_dissipate_uni": "do" if uni else "do not",
            "remedy_detect_runs": n_runs, "remedy_K_det": p.K,
            "remedy_specificity": specificity(p.found, [TABULAR_ROW, SAXE_ROW]),
            "remedy_tabular_interference_control": "do" if tab_vs_sep else "do not",
            "remedy_protocol_tabular": ("would wrongly blame ray interference for the tabular "
                                        "plateaus" if tab_vs_sep else "does not blame ray "
                                        "interference for the tabular plateaus"),
            "remedy_flagged_tabular": stats.fraction(flagged(p.found[TABULAR_ROW])),
            "remedy_flagged_saxe": stats.fraction(flagged(p.found[SAXE_ROW]))}


def claims_evidence(bench: Benchmark, p: Protocol) -> tuple[dict, stats.Estimate]:
    """``{claim id: (measured, evidence, readings)}`` for the claims of "How to detect it?"
    (averaging hides plateaus; components stall while others learn; the plateaus dissipate
    under both controls), and the fraction of baseline runs that stall a component (Wilson
    interval over the runs with a pair of components to compare)."""
    s = bench.settings
    base = p.baseline
    mean_det = detect_runs(bench, BASELINE, min(s.K_list), components=False)
    controls = controls_dissipate(bench)
    eligible = sum(r.pairs > 0 for r in base.runs)
    stall = stats.wilson(base.sequential_runs, eligible)
    return {
        "sec4-averaging-hides-plateaus": (
            bool(base.averaging_hides_plateaus),
            f"detector on {s.detect_runs} baseline runs, K = n = {p.K}: hidden fraction "
            f"{base.hidden_fraction:.2f}",
            {f"K = n = {min(s.K_list)}, J only": bool(mean_det.averaging_hides_plateaus)}),
        "sec4-components-stall": (
            bool(stall.low > 0),
            f"{base.sequential_runs} of {eligible} runs stall a component while another "
            f"learns (K = n = {p.K}), fraction {stall:.2f}",
            {"the detector's rule: at least half the runs": bool(base.components_one_at_a_time)}),
        "sec4-controls-dissipate": (
            controls["holds"], controls["text"],
            {f"plateaus seen by the detector, K = n = {p.K}": all(p.dissipate().values())}),
    }, stall

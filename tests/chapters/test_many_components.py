"""Sec. 3.2: stage measures, plateau tables, and the 03_many_components notebook."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rayint_lib.chapters import many_components as stages
from rayint_lib.model import staircase


def test_figure4_stages_come_from_the_plotted_runs():
    """One simulation: the stage table (null-space measures included) is computed from the
    logits recorded by the runs whose curves are plotted, and those logits give the curves."""
    from rayint_lib.model.bandit import right_arm_probs

    cfg = stages.validate(K=[2, 4], n=[4], eta=0.1, J0=None, n_runs=12, max_samples=4000,
                          max_samples_fig4=8000, seed=1)
    fig4 = stages.figure4_runs(cfg)
    for k, r in fig4.runs.items():
        np.testing.assert_allclose(right_arm_probs(r.logits), r.curves, atol=2e-6)
        again = staircase.stage_table(r.steps, r.curves, r.logits, k, 0.5)
        pd.testing.assert_frame_equal(fig4.stages[k], again)
    assert "null_fraction" in fig4.stages[4]
    counts = stages.detector_counts(fig4)
    assert set(counts) == {stages.BAND, stages.LOG_RATE.format("sample"),
                           stages.LOG_RATE.format("log time")}
    table, chosen = stages.detector_comparison(fig4, counts)
    assert chosen in counts and len(table) == 3
    assert all(len(c[k]) == 12 for c in counts.values() for k in (2, 4))
    table, values = stages.explanations(fig4)
    assert len(table) == 4 and -1 <= float(values["null_fraction"]) <= 1
    assert 0 <= float(values["null_first"]) <= 1


def test_validator_rejects_bad_parameters(monkeypatch):
    from rayint_lib import chapters

    base = dict(K=[2, 4], n=[2, 4], eta=0.1, J0=None, n_runs=4, max_samples=1000,
                max_samples_fig4=1000, seed=0)
    cfg = chapters.validate("03_many_components", **base)
    assert set(cfg["fig7"]) == {(2, 2), (2, 4), (4, 4)} and set(cfg["fig4"]) == {2, 4}
    for bad, message in [(dict(J0=3.0), "J0"), (dict(learned_level=1.5), "learned_level"),
                         (dict(K="2,4"), "K must be a non-empty list"),
                         (dict(K=[2, 1]), r"K\[1\] must be in \[2, 64\]"),
                         (dict(n=[]), "n must be a non-empty list"),
                         (dict(n=[4, 2.5]), r"n\[1\] must be an integer"),
                         (dict(K=[8], n=[4]), "n must contain a value >= some K"),
                         (dict(plateau_tolerance=0.0), "plateau_tolerance"),
                         (dict(n_runs=0), "n_runs")]:
        with pytest.raises(ValueError, match=message):
            chapters.validate("03_many_components", **{**base, **bad})
    monkeypatch.setenv("RAYINT_MAX_MEMORY", "10M")   # the curves fit, the logits do not
    with pytest.raises(ValueError, match="logits recorded for Fig. 4"):
        chapters.validate("03_many_components", **{**base, "K": [8], "n": [8], "n_runs": 200})


@pytest.mark.slow
def test_notebook_small(run_notebook):
    g = run_notebook("03_many_components", K=[2, 4], n=[2, 4], n_runs=12, max_samples=8_000,
                     max_samples_fig4=20_000, n_curves=3)
    assert set(g["plateaus_per_run"]) == {2, 4}
    assert all(0 <= v <= 10 for v in g["plateaus_per_run"].values())
    med = g["median_samples_to_solve"]
    assert set(med) == {2, 4} and 0 < med[2] < med[4] < 20_000  # K = 4 takes longer than K = 2
    assert isinstance(g["plateau_growth_factor"], float)
    assert g["last_start_ratio"] < 1.0                          # the last component starts low
    assert g["median_samples_logit_sim"] == med[4]              # one set of runs
    for name in ("stage_growth_factor", "step_like_frac", "more_n_effect", "corr_start"):
        assert g[f"{name}_ci_low"] <= g[name] <= g[f"{name}_ci_high"]


@pytest.mark.parametrize("growth,expected", [(1.0, "not reproduced"), (1.6, "reproduced")])
def test_stage_growth_can_fail(growth, expected, staircase_curves):
    """Stages of equal length (components learned at evenly spaced times, jittered) give a
    factor ~1 and fail the claim; stages growing by 1.6 each pass it."""
    rng = np.random.default_rng(0)
    K, runs = 6, 40
    lengths = growth ** np.arange(K) * rng.uniform(0.8, 1.25, size=(runs, K))
    times = 20 + np.cumsum(lengths / lengths.sum(axis=1, keepdims=True) * 3500, axis=1)
    steps, curves = staircase_curves(times)
    est = staircase.growth_estimate(staircase.stage_table(steps, curves, level=0.5))
    assert est.contains(growth) or abs(est.value - growth) < 0.1
    assert stages.CLAIMS["3.2-exp-growth"].verdict(est) == expected

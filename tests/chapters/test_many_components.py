"""Sec. 3.2: stage measures, plateau tables, and the 03_many_components notebook."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rayint_lib.chapters import many_components as stages
from rayint_lib.model import staircase
from rayint_lib.model.bandit import parameter_gradients


def test_null_space_fraction_constructed():
    G = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    assert staircase.null_space_fraction(G, 2, []) == 1.0
    assert staircase.null_space_fraction(G, 2, [0]) == pytest.approx(2 / 3)
    assert staircase.null_space_fraction(G, 2, [0, 1]) == pytest.approx(1 / 3)
    assert staircase.null_space_fraction(G, 0, [2]) == pytest.approx(2 / 3)


def test_null_space_fraction_shared_bias_2x2():
    # K = n = 2 shared bias: grad J_k = g_k on W column k and on b, with g_2 = -c g_1 in the
    # bias block (both logit gradients sum to zero), so exactly half of ||grad J_1||^2 lies
    # outside span{grad J_2}: cos^2 = rho^2 = 1/4 -> fraction 3/4.
    logits = np.array([[[0.3, -0.2], [0.5, 1.0]]])
    G = parameter_gradients(logits, "shared_bias")[0]
    assert staircase.null_space_fraction(G, 0, [1]) == pytest.approx(0.75)
    ratio = 1 - 0.5 * np.linalg.norm(G[1]) / np.linalg.norm(G[0])
    assert staircase.progress_ratio(G, 0) == pytest.approx(ratio)


def test_stage_table_constructed():
    steps = np.arange(6)
    curves = np.array([[[0.2, 0.1, 0.3], [0.6, 0.05, 0.2], [0.9, 0.04, 0.1],
                        [0.95, 0.3, 0.05], [0.97, 0.7, 0.02], [0.98, 0.9, 0.6]]])
    df = staircase.stage_table(steps, curves, samples_per_update=3)
    assert list(df.component) == [0, 1, 2]
    assert list(df.t_start) == [0, 3, 12] and list(df.t_end) == [3, 12, 15]
    assert list(df.duration) == [3, 9, 3]
    assert df.J_start.tolist() == pytest.approx([0.2, 0.05, 0.02])
    assert df.start_ratio.tolist() == pytest.approx([1.0, 0.5, 0.02 / 0.3])


def test_growth_factor_recovers_exponential():
    rows = [dict(run=r, stage=i, duration=s * 3.0 ** i) for r, s in enumerate([1, 10, 100])
            for i in range(1, 5)]
    factor, used = staircase.growth_factor(pd.DataFrame(rows))
    assert factor == pytest.approx(3.0) and used == 12


def _staircase_curves(times, n_steps=4000, width=0.02):
    """Curves ``[runs, T, K]`` of components rising (logistic in time) at ``times[r, k]``
    on a linear step grid."""
    t = np.arange(n_steps)[None, :, None]
    rise = 1 / (1 + np.exp(-(t - times[:, None, :]) / (width * n_steps / 10)))
    return np.arange(n_steps), 0.05 + 0.9 * rise


@pytest.mark.parametrize("growth,expected", [(1.0, "not reproduced"), (1.6, "reproduced")])
def test_stage_growth_can_fail(growth, expected):
    """Stages of equal length (components learned at evenly spaced times, jittered) give a
    factor ~1 and fail the claim; stages growing by 1.6 each pass it."""
    rng = np.random.default_rng(0)
    K, runs = 6, 40
    lengths = growth ** np.arange(K) * rng.uniform(0.8, 1.25, size=(runs, K))
    times = 20 + np.cumsum(lengths / lengths.sum(axis=1, keepdims=True) * 3500, axis=1)
    steps, curves = _staircase_curves(times)
    est = staircase.growth_estimate(staircase.stage_table(steps, curves, level=0.5))
    assert est.contains(growth) or abs(est.value - growth) < 0.1
    assert stages.CLAIMS["3.2-exp-growth"].verdict(est) == expected


def test_step_like_measure():
    """Components rising one after the other are step-like; two rising together are not;
    components learned before the first plateau are left out."""
    times = np.array([[500.0, 1500.0, 2500.0, 3500.0],        # one at a time
                      [500.0, 1500.0, 1510.0, 3500.0],        # two together after the plateau
                      [500.0, 505.0, 2500.0, 3500.0]])        # two together before it
    steps, curves = _staircase_curves(times)
    first = np.array([1000, 1000, 1000])
    np.testing.assert_array_equal(staircase.step_like(curves, first), [True, False, True])
    np.testing.assert_array_equal(staircase.step_like(curves, np.array([-1, -1, -1])),
                                  [True, False, False])


def test_first_long_stage_reads_the_plateau_from_stages():
    df = pd.DataFrame(dict(run=[0, 0, 0, 0, 1, 1], stage=[1, 2, 3, 4, 1, 2],
                           t_start=[0, 10, 11, 12, 0, 10], t_end=[10, 11, 12, 40, 10, 12]))
    np.testing.assert_array_equal(staircase.first_long_stage(df, 3, 2.0), [3.0, np.nan, np.nan])


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


def test_within_stage_correlation_matches_pandas_ranks():
    rng = np.random.default_rng(2)
    df = pd.DataFrame(dict(run=np.repeat(np.arange(30), 3), stage=np.tile([1, 2, 3], 30),
                           x=rng.random(90), duration=rng.integers(1, 5, 90).astype(float)))
    df["duration"] += 3 * df.x                               # correlated, with ties in y
    rx = df.groupby("stage").x.rank(pct=True) - 0.5
    ry = df.groupby("stage").duration.rank(pct=True) - 0.5
    expected = (rx * ry).sum() / np.sqrt((rx * rx).sum() * (ry * ry).sum())
    est = staircase.within_stage_correlation(df, "x")
    assert est.value == pytest.approx(expected) and est.low < est.value < est.high


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

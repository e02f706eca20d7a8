"""Staircases of many components (:mod:`rayint_lib.model.staircase`, Sec. 3.2) and flat runs
across bandit sizes (:mod:`rayint_lib.model.transfer`, Fig. 7), on constructed curves."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from rayint_lib.model import staircase, transfer
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


def test_step_like_measure(staircase_curves):
    """Components rising one after the other are step-like; two rising together are not;
    components learned before the first plateau are left out."""
    times = np.array([[500.0, 1500.0, 2500.0, 3500.0],        # one at a time
                      [500.0, 1500.0, 1510.0, 3500.0],        # two together after the plateau
                      [500.0, 505.0, 2500.0, 3500.0]])        # two together before it
    steps, curves = staircase_curves(times)
    first = np.array([1000, 1000, 1000])
    np.testing.assert_array_equal(staircase.step_like(curves, first), [True, False, True])
    np.testing.assert_array_equal(staircase.step_like(curves, np.array([-1, -1, -1])),
                                  [True, False, False])


def test_first_long_stage_reads_the_plateau_from_stages():
    df = pd.DataFrame(dict(run=[0, 0, 0, 0, 1, 1], stage=[1, 2, 3, 4, 1, 2],
                           t_start=[0, 10, 11, 12, 0, 10], t_end=[10, 11, 12, 40, 10, 12]))
    np.testing.assert_array_equal(staircase.first_long_stage(df, 3, 2.0), [3.0, np.nan, np.nan])


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


def two_step_curves():
    """Two runs of K = 2 on a log grid: run 0 learns component 0 at t ~ 1e2 and component 1
    at t ~ 1e4 (a plateau at J ~ 1 in between), run 1 learns both at t ~ 1e2."""
    steps = np.unique(np.geomspace(1, 1e6, 300).astype(int))
    x = np.log(steps)

    def rise(at):
        return 0.05 + 0.94 / (1 + np.exp(-(x - np.log(at)) * 6))

    curves = np.stack([np.stack([rise(1e2), rise(1e4)], -1),
                       np.stack([rise(1e2), rise(1.2e2)], -1)])
    return steps, curves


def test_plateau_table_first_plateaus_and_long_stages_read_the_staircase():
    steps, curves = two_step_curves()
    tab = staircase.plateau_table(steps, curves, samples_per_update=2)
    assert tab.run.tolist() == [0]                                  # one plateau, run 0
    row = tab.iloc[0]
    assert 2e2 < row.t_a < row.t_b < 2e4 and row.J_level == pytest.approx(1.04, abs=0.05)
    assert row.ratio == pytest.approx(row.t_b / row.t_a)
    assert staircase.plateau_counts(tab, 2).tolist() == [1, 0]
    comps, level, index = staircase.first_plateaus(tab, steps, curves, 2)
    assert comps[0] == 1 and np.isnan(comps[1]) and index[1] == -1
    assert level[0] == row.J_level and steps[index[0]] * 2 >= row.t_a
    stages = staircase.stage_table(steps, curves, samples_per_update=2)
    assert staircase.long_stages(stages, 2, 2.0).tolist() == [1, 0]
    assert staircase.log_rate_table(steps, curves, 2).tolist() == [1, 0]
    wide = staircase.plateau_table(steps, curves, 2, tolerance=0.01)   # a band too narrow
    assert len(wide) <= len(tab)


def _grid(fractions, n_runs=200):
    """Fake Fig. 7 runs: ``{(K, n): runs}`` whose first ``fraction`` runs are flat."""
    def runs(f):
        flatness = np.where(np.arange(n_runs) < f * n_runs, 1e-9, 1e-2)
        return SimpleNamespace(flat=lambda eps: flatness <= eps)
    return {kn: runs(f) for kn, f in fractions.items()}


def test_more_actions_and_more_contexts_effects():
    grid = _grid({(2, 2): 0.2, (2, 4): 0.1, (4, 4): 0.5})
    more_n, pairs = transfer.more_n_effect(grid, 1e-5)
    assert pairs == [((2, 2), (2, 4))] and more_n.value == pytest.approx(0.1)
    assert more_n.low < 0.1 < more_n.high
    more_K = transfer.more_K_effect(grid, 1e-5)
    assert more_K.value == pytest.approx(0.3) and more_K.low > 0
    worse = transfer.more_n_effect(_grid({(2, 2): 0.1, (2, 4): 0.3}), 1e-5)[0]
    assert worse.high < 0                                      # the claim's test can fail
    assert np.isnan(transfer.more_K_effect(_grid({(2, 4): 0.1}), 1e-5).value)
    gain = transfer.mean_gain(np.zeros(50), np.ones(50))
    assert (gain.value, gain.low, gain.high) == (1.0, 1.0, 1.0)

"""Sec. 3.2: plateau detection, stage measures, and the 03_many_components notebook."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rayint_lib.chapters import many_components as stages
from rayint_lib.model.bandit import parameter_gradients
from rayint_lib.model.config import BanditConfig
from rayint_lib.model.plateaus import find_plateaus


def staircase(t, centres, step=0.2, sharpness=8.0):
    return sum(step / (1 + np.exp(-(np.log(t) - np.log(c)) * sharpness)) for c in centres)


def test_find_plateaus_staircase():
    t = np.geomspace(1, 1e6, 400)
    y = staircase(t, [1e2, 1e3, 1e4, 1e5, 1e6])
    found = find_plateaus(t, y, tolerance=0.02, min_ratio=2.0)
    levels = [round(level, 2) for _, _, level in found]
    assert levels == [0.2, 0.4, 0.6, 0.8]
    assert len(found) == 4
    for (a, b, _), lo, hi in zip(found, [1e2, 1e3, 1e4, 1e5], [1e3, 1e4, 1e5, 1e6]):
        assert lo < a < b < hi and b / a > 4     # each plateau sits between two steps


def test_find_plateaus_none_on_smooth_curves():
    t = np.geomspace(1, 1e6, 400)
    assert find_plateaus(t, 1 / (1 + np.exp(-(t - 1e4) / 2e3)), 0.02, 2.0) == []
    assert find_plateaus(t, np.log10(t) / 6, 0.02, 2.0) == []


def test_find_plateaus_matches_brute_force():
    rng = np.random.default_rng(3)
    t = np.geomspace(1, 1e4, 120)
    y = np.clip(np.cumsum(rng.exponential(0.01, t.size) * (rng.random(t.size) < 0.3)), 0, 1)
    found = find_plateaus(t, y, tolerance=0.05, min_ratio=1.5)
    # every plateau is a band of width <= tolerance, long enough, inside (tol, 1 - tol), disjoint
    for a, b, _ in found:
        seg = y[(t >= a) & (t <= b)]
        assert seg.max() - seg.min() <= 0.05 + 1e-12 and b / a >= 1.5
        assert seg.min() > 0.05 and seg.max() < 0.95
    assert all(b1 < a2 for (_, b1, _), (a2, _, _) in zip(found, found[1:]))
    # the longest band anywhere (brute force) is found
    best = 0.0
    for i in range(t.size):
        for j in range(i, t.size):
            seg = y[i:j + 1]
            if seg.min() <= 0.05 or seg.max() >= 0.95 or seg.max() - seg.min() > 0.05:
                break
            best = max(best, t[j] / t[i])
    assert max([b / a for a, b, _ in found], default=0.0) == pytest.approx(best if best >= 1.5 else 0.0)


def test_find_plateaus_validates():
    with pytest.raises(ValueError, match="tolerance"):
        find_plateaus([1, 2], [0.1, 0.2], tolerance=0)
    with pytest.raises(ValueError, match="same length"):
        find_plateaus([1, 2, 3], [0.1, 0.2])


def test_null_space_fraction_constructed():
    G = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    assert stages.null_space_fraction(G, 2, []) == 1.0
    assert stages.null_space_fraction(G, 2, [0]) == pytest.approx(2 / 3)
    assert stages.null_space_fraction(G, 2, [0, 1]) == pytest.approx(1 / 3)
    assert stages.null_space_fraction(G, 0, [2]) == pytest.approx(2 / 3)


def test_null_space_fraction_shared_bias_2x2():
    # K = n = 2 shared bias: grad J_k = g_k on W column k and on b, with g_2 = -c g_1 in the
    # bias block (both logit gradients sum to zero), so exactly half of ||grad J_1||^2 lies
    # outside span{grad J_2}: cos^2 = rho^2 = 1/4 -> fraction 3/4.
    logits = np.array([[[0.3, -0.2], [0.5, 1.0]]])
    G = parameter_gradients(logits, "shared_bias")[0]
    assert stages.null_space_fraction(G, 0, [1]) == pytest.approx(0.75)
    assert stages.progress_ratio(G, 0) == pytest.approx(1 - 0.5 * np.linalg.norm(G[1]) / np.linalg.norm(G[0]))


def test_stage_table_constructed():
    steps = np.arange(6)
    curves = np.array([[[0.2, 0.1, 0.3], [0.6, 0.05, 0.2], [0.9, 0.04, 0.1],
                        [0.95, 0.3, 0.05], [0.97, 0.7, 0.02], [0.98, 0.9, 0.6]]])
    df = stages.stage_table(steps, curves, samples_per_update=3)
    assert list(df.component) == [0, 1, 2]
    assert list(df.t_start) == [0, 3, 12] and list(df.t_end) == [3, 12, 15]
    assert list(df.duration) == [3, 9, 3]
    assert df.J_start.tolist() == pytest.approx([0.2, 0.05, 0.02])
    assert df.start_ratio.tolist() == pytest.approx([1.0, 0.5, 0.02 / 0.3])


def test_growth_factor_recovers_exponential():
    rows = [dict(run=r, stage=i, duration=s * 3.0 ** i) for r, s in enumerate([1, 10, 100]) for i in range(1, 5)]
    factor, used = stages.growth_factor(pd.DataFrame(rows))
    assert factor == pytest.approx(3.0) and used == 12


def test_simulate_logits_matches_simulator():
    from rayint_lib.model.simulate import simulate

    cfg = BanditConfig(K=4, n=4, n_runs=200, max_samples=40_000, seed=5)
    a, b = stages.simulate_logits(cfg), simulate(cfg)
    ma, mb = np.nanmedian(a.samples_to_solve), np.nanmedian(b.samples_to_solve)
    assert abs(np.log(ma / mb)) < 0.3                        # same learner: medians within 35%
    assert np.allclose(a.curves, np.exp(a.logits[..., np.arange(4), np.arange(4)])
                       / np.exp(a.logits).sum(-1))           # curves are the recorded logits' J_k
    r = stages.simulate_logits(cfg)
    assert np.array_equal(r.curves, a.curves)                # same seed, same result


def test_validator_rejects_bad_parameters():
    from rayint_lib import chapters

    base = dict(K=[2, 4], n=[2, 4], eta=0.1, J0=None, n_runs=4, max_samples=1000,
                max_samples_fig4=1000, seed=0)
    cfg = chapters.validate("03_many_components", **base)
    assert set(cfg["fig7"]) == {(2, 2), (2, 4), (4, 4)} and set(cfg["fig4"]) == {2, 4}
    with pytest.raises(ValueError, match="J0"):
        chapters.validate("03_many_components", **{**base, "J0": 3.0})
    with pytest.raises(ValueError, match="learned_level|level"):
        chapters.validate("03_many_components", **base, learned_level=1.5)


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

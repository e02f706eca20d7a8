"""Plateau finding on curves of any origin (:mod:`rayint_lib.model.plateaus`)."""
from __future__ import annotations

import numpy as np
import pytest

from rayint_lib.model.plateaus import (
    band_ends,
    band_stretches,
    find_plateaus,
    from_unit_scale,
    log_rate_plateaus,
    plateaus,
    unit_scale,
)


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


def test_log_rate_plateaus_sees_creeping_steps_and_not_smooth_curves():
    t = np.geomspace(1, 1e6, 300)
    y = staircase(t, [1e2, 1e3, 1e4, 1e5]) + 0.05 * np.log10(t) / 6   # steps creep upwards
    for norm in ("sample", "log_time"):
        found = log_rate_plateaus(t, y, rate=norm)
        assert len(found) == 3, norm                                  # between the 4 rises
        for (tm, _, depth), lo, hi in zip(found, [1e2, 1e3, 1e4], [1e3, 1e4, 1e5]):
            assert lo < tm < hi and depth >= 1
    assert log_rate_plateaus(t, np.log10(t) / 6) == []
    assert log_rate_plateaus(t, 1 / (1 + np.exp(-(np.log(t) - np.log(1e3))))) == []
    with pytest.raises(ValueError, match="rate"):
        log_rate_plateaus(t, y, rate="time")
    with pytest.raises(ValueError, match="prominence"):
        log_rate_plateaus(t, y, prominence=0)


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
    longest = max([b / a for a, b, _ in found], default=0.0)
    assert longest == pytest.approx(best if best >= 1.5 else 0.0)


def test_find_plateaus_validates():
    with pytest.raises(ValueError, match="tolerance"):
        find_plateaus([1, 2], [0.1, 0.2], tolerance=0)
    with pytest.raises(ValueError, match="same length"):
        find_plateaus([1, 2, 3], [0.1, 0.2])


def test_unit_scale_round_trip():
    y = np.array([0.3, 0.5, 2.3])
    assert unit_scale(y, 0.3, 2.3) == pytest.approx([0.0, 0.1, 1.0])
    assert np.allclose(from_unit_scale(unit_scale(y, 0.3, 2.3), 0.3, 2.3), y)


def test_plateaus_normalisations_find_the_same_steps_in_the_curve_units():
    t = np.geomspace(1, 1e6, 400)
    y = staircase(t, [1e2, 1e3, 1e4, 1e5])
    y = (y - y[0]) / (y[-1] - y[0])                      # from 0 to 1 in four steps
    unit = plateaus(t, y)
    assert [round(v, 2) for _, _, v in unit] == [0.25, 0.5, 0.75]
    J = 1.5 + 4 * y                                       # another origin and scale
    top = plateaus(t, J, normalise="start-to-top", top=J[0] + 4)
    best = plateaus(t, J, normalise="start-to-best")
    for found in (top, best):
        assert np.array(found) == pytest.approx(np.array(unit) * [1, 1, 4] + [0, 0, 1.5])
    # thresholds in the curve's units: a band 4 x wider in J is the same band
    same = plateaus(t, J, normalise="start-to-top", top=J[0] + 4, tolerance=0.08,
                    curve_units=True)
    assert same == top
    # above the start by 1.0 in J (0.25 of the progress): the first step is left out
    above = plateaus(t, J, normalise="start-to-top", top=J[0] + 4, min_level=1.0,
                     curve_units=True)
    assert [round(v, 2) for _, _, v in above] == [3.5, 4.5]


def test_plateaus_of_many_runs_and_the_skipped_start():
    t = np.geomspace(1, 1e6, 400)
    y = np.stack([staircase(t, [1e2, 1e4]), np.log10(t) / 6])
    found = plateaus(t, y)
    assert [len(p) for p in found] == [2, 0]
    assert found[0] == plateaus(t, y[0])
    # a start that sits just above the band for a while passes the test unless skipped
    slow = np.where(t < 1e3, 0.03, staircase(t, [1e4, 1e5]) * 2.5)
    assert len(plateaus(t, slow)) == 2
    assert len(plateaus(t, slow, after=0.04)) == 1


def test_plateaus_validates():
    with pytest.raises(ValueError, match="normalise"):
        plateaus([1, 2], [0.1, 0.2], normalise="range")


def test_band_ends_brute_force():
    rng = np.random.default_rng(5)
    for _ in range(50):
        y = rng.normal(size=int(rng.integers(1, 40))).cumsum() * 0.1
        inside = rng.random(y.size) < 0.8
        end = band_ends(y, 0.3, inside)
        for i in range(y.size):
            k = -1
            if inside[i]:
                k = i
                while (k + 1 < y.size and inside[k + 1]
                       and np.ptp(y[i:k + 2]) <= 0.3):
                    k += 1
            assert end[i] == k


def test_band_stretches_lengths_tests_and_stride():
    y = np.array([0.5, 0.5, 0.5, 0.9, 0.2, 0.2, 0.2, 0.2, 0.2, 0.7])
    inside = np.ones(y.size, bool)

    def points(i, k):
        return (k - i + 1).astype(float)

    assert band_stretches(y, 0.05, inside, points, 3) == [(0, 2), (4, 8)]
    assert band_stretches(y, 0.05, inside, points, 4) == [(4, 8)]
    assert band_stretches(y, 0.05, inside, points, 3, keep=lambda i, k: y[i] > 0.3) == [(0, 2)]
    assert band_stretches(y, 0.05, inside, points, 3, stride=2) == [(0, 2), (4, 8)]
    assert band_stretches(y, 0.05, inside, points, 3, stride=3) == []    # 0, 3, 6, 9 only
    inside[6] = False                                    # a point outside breaks the band
    assert band_stretches(y, 0.05, inside, points, 3) == [(0, 2)]

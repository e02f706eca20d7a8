"""Intervals of the statistics helpers."""
import numpy as np
import pytest

from rayint_lib.model import stats
from rayint_lib.model.stats import Estimate, fraction, hull, two_proportion_p


def test_hull_holds_every_reading_and_keeps_the_first_value():
    h = hull([Estimate(0.26, 0.25, 0.27, 10), Estimate(0.24, 0.23, 0.25, 10)])
    assert (h.value, h.low, h.high, h.n) == (0.26, 0.23, 0.27, 20)
    with pytest.raises(ValueError, match="at least one"):
        hull([])


def test_stacked_bootstrap_draws_the_same_resamples():
    x = np.random.default_rng(1).exponential(size=(30, 4))
    one = stats.bootstrap(lambda v: np.median(v[:, 0] / v[:, 1]), x)
    stacked = stats.bootstrap(lambda v: np.median(v[..., 0] / v[..., 1], axis=-1), x,
                              stacked=True)
    assert (stacked.value, stacked.low, stacked.high) == pytest.approx(
        (one.value, one.low, one.high), rel=1e-12)
    assert stacked.low < stacked.value < stacked.high
    nan = np.full(5, np.nan)
    assert np.isnan(stats.bootstrap(lambda v: np.nanmean(v, axis=-1), nan, stacked=True).low)


def test_two_proportion_p_is_the_pooled_z_test():
    a, b = fraction([True] * 50 + [False] * 50), fraction([True] * 30 + [False] * 70)
    # pooled p = 0.4, se = sqrt(0.24 * 2 / 100), z = 0.2 / se: two-sided p = 0.00389
    assert two_proportion_p(a, b) == pytest.approx(0.0038924, rel=1e-4)
    assert two_proportion_p(a, a) == pytest.approx(1.0)
    assert two_proportion_p(b, a) == two_proportion_p(a, b)

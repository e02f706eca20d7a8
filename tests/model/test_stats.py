"""Intervals of the statistics helpers."""
import numpy as np
import pytest

from rayint_lib.model import stats
from rayint_lib.model.stats import Estimate, hull


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

"""Intervals of the statistics helpers."""
import pytest

from rayint_lib.model.stats import Estimate, hull


def test_hull_holds_every_reading_and_keeps_the_first_value():
    h = hull([Estimate(0.26, 0.25, 0.27, 10), Estimate(0.24, 0.23, 0.25, 10)])
    assert (h.value, h.low, h.high, h.n) == (0.26, 0.23, 0.27, 20)
    with pytest.raises(ValueError, match="at least one"):
        hull([])

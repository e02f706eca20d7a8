"""Intervals of the statistics helpers."""
import pytest

from rayint_lib.model.stats import Estimate, fraction, hull, two_proportion_p


def test_hull_holds_every_reading_and_keeps_the_first_value():
    h = hull([Estimate(0.26, 0.25, 0.27, 10), Estimate(0.24, 0.23, 0.25, 10)])
    assert (h.value, h.low, h.high, h.n) == (0.26, 0.23, 0.27, 20)
    with pytest.raises(ValueError, match="at least one"):
        hull([])


def test_two_proportion_p_is_the_pooled_z_test():
    a, b = fraction([True] * 50 + [False] * 50), fraction([True] * 30 + [False] * 70)
    # pooled p = 0.4, se = sqrt(0.24 * 2 / 100), z = 0.2 / se: two-sided p = 0.00389
    assert two_proportion_p(a, b) == pytest.approx(0.0038924, rel=1e-4)
    assert two_proportion_p(a, a) == pytest.approx(1.0)
    assert two_proportion_p(b, a) == two_proportion_p(a, b)

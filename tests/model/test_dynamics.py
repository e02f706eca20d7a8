"""Closed-form 2x2 dynamics (Sec. 2.2-2.5, App. B) against independent numerics."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from rayint_lib.model import dynamics as d


def test_corner_types():
    types = [d.classify_corner(d.jdot_rl, *c) for c in d.CORNERS]
    assert types == ["unstable", "saddle", "saddle", "stable"]


def test_plateau_edge_matches_paper_closed_form():
    assert d.plateau_intervals() == pytest.approx((15 - np.sqrt(15)) / 30, abs=1e-8)


def test_null_cline_solves_its_equation():
    J2 = np.linspace(0, 1, 101)
    for branch in ("low", "high"):
        J1 = d.null_cline_J1(J2, branch)
        np.testing.assert_allclose(d.jdot_rl(J1, J2)[0], 0, atol=1e-12)


def test_flatness_inverse():
    for eps in (1e-5, 1e-3, 0.1):
        assert d.flatness_on_antidiagonal(d.antidiagonal_point_of_flatness(eps)) == pytest.approx(
            eps, rel=1e-9
        )


def test_orbit_crossing_is_on_the_antidiagonal_and_wta_start_hits_flat_plateau():
    J1c = d.antidiagonal_crossing(np.array([0.01, 0.2]), np.array([0.3, 0.2]))
    assert J1c[1] == pytest.approx(0.5, abs=1e-3)  # the diagonal is invariant
    assert d.flatness_on_antidiagonal(J1c[0]) < 1e-3  # a WTA start ends on a flat plateau


def test_p_nc_monte_carlo():
    phi = np.random.default_rng(0).uniform(0, np.pi / 2, 100_000)
    mc = d.winner_take_all(1e-4 * np.cos(phi), 1e-4 * np.sin(phi)).mean()
    assert mc == pytest.approx(d.p_nc_closed_form(), abs=0.01)  # SE ~0.0016


@pytest.mark.parametrize("J1_start", [0.03, 0.005, 0.001])
def test_flat_plateaus_are_followed_accurately(J1_start):
    """Crossing point vs scipy's LSODA on the logit-space ODE.

    Regression: a J-space clip lost them."""

    def sig(z):
        return 1 / (1 + np.exp(-z))

    def rhs(t, z):
        q1, q2 = sig(z[0]) * (1 - sig(z[0])), sig(z[1]) * (1 - sig(z[1]))
        return [2 * q1 - q2, 2 * q2 - q1]

    def event(t, z):
        return sig(z[0]) + sig(z[1]) - 1
    event.terminal = True
    z0 = np.log([J1_start / (1 - J1_start), (0.2 - J1_start) / (0.8 + J1_start)])
    sol = solve_ivp(rhs, (0, 1e9), z0, method="LSODA", events=event, rtol=1e-10, atol=1e-12)
    reference = d.flatness_on_antidiagonal(sig(sol.y_events[0][0][0]))
    assert d.plateau_flatness_of_start(J1_start, 0.2 - J1_start) == pytest.approx(
        reference, rel=1e-3
    )

"""App. B by computer algebra: every identity the book calls verified, re-derived here."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from rayint_lib.model import dynamics
from rayint_lib.chapters import appendix_b as sy

J1, J2 = sy.J1, sy.J2


@pytest.fixture(scope="module")
def R():
    return sy.rl_derivation()


@pytest.fixture(scope="module")
def S():
    return sy.supervised_derivation()


def test_sec21_gradients_rho_and_eqs12(R):
    q1, q2 = J1 * (1 - J1), J2 * (1 - J2)
    assert sy.same(R["grad_J1"][0], q1) and sy.same(R["grad_J1"][2], q1) and R["grad_J1"][1] == 0
    assert sy.same(R["grad_J2"][1], q2) and sy.same(R["grad_J2"][2], -q2) and R["grad_J2"][0] == 0
    assert R["rho"] == sp.Rational(-1, 2)
    assert sy.same(R["Jdot1"], 2 * q1**2 - q1 * q2)
    assert sy.same(R["Jdot2"], 2 * q2**2 - q1 * q2)
    # the chain rule in J equals <grad Jdot, grad J> taken in theta-space
    assert sy.same(R["Jddot"], R["Jddot_theta"])


def test_same_detects_a_difference():
    assert not sy.same(J1 * (1 - J1), J1 - J1**2 + sp.Rational(1, 10**9))


def test_b1_fixed_points_and_jacobian(R):
    field = (R["Jdot1"], R["Jdot2"])
    assert sy.fixed_points(field) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    jac = sy.jacobian(field)
    for a, b in sy.fixed_points(field):  # Jacobian of Eqs. 1-2 vanishes at every corner
        assert jac.subs({J1: a, J2: b}) == sp.zeros(2)
    printed = sy.PRINTED["jacobian"]
    assert not all(sy.same(x, y) for x, y in zip(printed, jac))
    half_logit = sy.jacobian(sy.logit_field(field)) / 2
    assert all(sy.same(x, y) for x, y in zip(printed, half_logit))
    # its determinant is 3/4 (1-2J1)(1-2J2), not the printed 5/4
    assert sy.same(printed.det(), sp.Rational(3, 4) * (1 - 2 * J1) * (1 - 2 * J2))
    assert not sy.same(printed.det(), sy.PRINTED["det"])
    assert sy.same(printed.trace(), sy.PRINTED["trace"])


def test_b1_classification_unchanged():
    m = sy.PRINTED["jacobian"]
    expected = {(0, 0): "unstable node", (0, 1): "saddle", (1, 0): "saddle", (1, 1): "stable node"}
    for (a, b), kind in expected.items():
        at = {J1: a, J2: b}
        assert sy.classify(m.trace().subs(at), m.det().subs(at)) == kind
        flow = dynamics.classify_corner(dynamics.jdot_rl, float(a), float(b))
        assert flow == kind.split()[0]
    # with the printed 5/4 the origin would be a focus
    assert sy.classify(2, sp.Rational(5, 4)) == "unstable focus"


def test_b2_line_by_line(R):
    c = {k.id: k for k in sy.checks()}
    for ok in ["B2_line3", "B2_line4", "B2_line5", "B2_line6_read", "B2_line7", "P6_antidiagonal_bracket",
               "Jdddot_antidiagonal", "plateau_boundaries", "eps_antidiagonal"]:
        assert c[ok].equal, ok
    for wrong in ["B2_line6_literal", "B2_eq3", "P6_antidiagonal_eq3"]:
        assert not c[wrong].equal, wrong
    # the dropped factor: Jddot = 2 (1 - J1 - J2) * bracket
    assert sp.cancel(R["Jddot"] / ((1 - J1 - J2) * sy.PRINTED["B2_bracket"])) == 2
    assert sy.same(sy.antidiagonal(R["P6"]), -2 * (J1 - 1)**2 * J1**2 * (30 * J1**2 - 30 * J1 + 7))


def test_b2_plateau_interval_and_sign(R):
    lo, hi = sy.plateau_boundaries()
    assert sp.simplify(lo - (15 - sp.sqrt(15)) / 30) == 0 and sp.simplify(hi - (15 + sp.sqrt(15)) / 30) == 0
    assert abs(float(lo) - dynamics.plateau_intervals()) < 1e-6
    # Jdddot = -Jdot * P6 on the anti-diagonal: plateau (Jdddot > 0) exactly where P6 < 0
    f = sp.lambdify(J1, sy.antidiagonal(R["Jdddot"]))
    p = sp.lambdify(J1, sy.antidiagonal(R["P6"]))
    x = np.linspace(0.01, 0.99, 99)
    x = x[np.abs(x - float(lo)) > 1e-3]
    x = x[np.abs(x - float(hi)) > 1e-3]
    assert np.array_equal(f(x) > 0, p(x) < 0)


def test_b3_polygon_inside_measured_basin():
    pts, _ = sy.upper_triangle_grid(80)
    flat = dynamics.plateau_flatness_of_start(pts[:, 0], pts[:, 1])
    for eps in (0.1, 0.01, 1e-3):
        b = sy.basin_check(eps, 80, flat)
        assert b["printed_n_inside"] > 10
        assert b["printed_inside_basin"] == 1.0
        assert b["four_vertices_inside_basin"] == 1.0
        assert 0 < b["coverage"] < 1
    assert sy.basin_check(0.1, 80, flat)["notch"] and not sy.basin_check(0.05, 80, flat)["notch"]
    thr = sy.notch_threshold()
    assert thr == sp.Rational(49, 512)
    assert sy.basin_check(float(thr) * 0.99, 80, flat)["exit_J2"] > 0.5 > sy.basin_check(float(thr) * 1.01, 80, flat)["exit_J2"]


def test_b4_slopes_and_p_nc():
    assert sy.null_cline_slopes_at_origin() == (2, sp.Rational(1, 2))
    assert sp.simplify(sy.p_nc_from_slopes() - 4 / sp.pi * sp.atan(sp.Rational(1, 2))) == 0
    p = float(sy.p_nc_from_slopes())
    mc = sy.p_nc_monte_carlo(1e-4, 40_000, np.random.default_rng(1))
    assert abs(mc - p) < 4 * np.sqrt(p * (1 - p) / 40_000)


def test_b5_supervised(S):
    c = {k.id: k for k in sy.checks()}
    for ok in ["sup_grad_Jsup", "sup_rho", "sup_Jdot1_middle", "sup_Jdot1", "sup_dlogJ1", "sup_Jsup_dot",
               "sup_Jsup_dot_sos", "sup_grad_Jsup_dot", "sup_Jsup_ddot", "sup_Jsup_ddot_theta"]:
        assert c[ok].equal, ok
    assert not c["sup_rho_printed"].equal and sy.same(S["rho_printed"], -1 / (2 * J1 * J2))
    # fixed points of the supervised J-space flow on the closed square: two boundary saddles
    fps = sy.fixed_points((S["Jdot1"], S["Jdot2"]))
    assert (0, sp.Rational(1, 2)) in fps and (sp.Rational(1, 2), 0) in fps and len(fps) == 6
    m = sy.jacobian((S["Jdot1"], S["Jdot2"])).subs({J1: 0, J2: sp.Rational(1, 2)})
    assert m.det() < 0
    # the performance J = J1 + J2 accelerates near the origin: not concave in time
    assert S["Jddot"].subs({J1: sp.Rational(1, 10), J2: sp.Rational(1, 10)}) > 0


def test_supervised_inflections(S):
    field = (S["Jdot1"], S["Jdot2"])
    starts = np.array([[1e-3, 0.3], [0.3, 0.4], [0.5, 0.5]])
    up, down, eps = sy.inflections_along_flow(field, S["Jddot"], starts, dt=0.02, n_steps=2000, jdot=S["Jdot"])
    assert up[0] >= 1 and up[1] == 0 and up[2] == 0
    assert 0 < eps[0] < 0.2 and np.isnan(eps[1])
    up_s, _, _ = sy.inflections_along_flow(field, S["Jsup_ddot"], starts, dt=0.02, n_steps=2000)
    assert up_s.sum() == 0


def test_validator_rejects_bad_values():
    good = dict(eps_list=[0.1], n_grid=50, sampled_J0=[0.2], n_runs=5, max_samples=1000, eta=0.1,
                mc_samples=1000, mc_radius=1e-3, sup_grid=5, seed=0)
    sy.validate(**good)
    for bad in [dict(eps_list=[0.2]), dict(eps_list=[]), dict(n_grid=5), dict(sampled_J0=[1.5]),
                dict(eta=0.0), dict(seed=-1)]:
        with pytest.raises(ValueError):
            sy.validate(**{**good, **bad})


@pytest.mark.slow
def test_notebook_small(run_notebook):
    g = run_notebook("06_appendix_b", eps_list=[0.1, 0.001], n_grid=60, sampled_J0=[0.5], n_runs=20,
                     max_samples=20000, mc_samples=5000, sup_grid=6)
    assert g["06_n_fixed_points"] == 4
    assert g["06_det_coefficient"] == pytest.approx(0.75)
    assert g["06_eq3_factor"] == pytest.approx(2.0)
    assert g["06_plateau_low"] == pytest.approx((15 - 15**0.5) / 30, abs=1e-9)
    assert g["06_polygon_inside_min"] == 1.0
    assert g["06_notch_threshold"] == pytest.approx(49 / 512)
    assert g["06_p_nc"] == pytest.approx(4 / np.pi * np.arctan(0.5))
    assert abs(g["06_p_nc_mc"] - g["06_p_nc"]) < 0.03
    assert g["06_sup_n_fixed_points"] == 6
    assert g["06_sup_Jsup_up"] == 0
    assert g["06_sup_n_plateau_starts"] >= 1

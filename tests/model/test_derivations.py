"""App. B by computer algebra: every identity the book calls verified, re-derived here from
generic sympy (model.derivations), and the printed steps that the checks call wrong."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from rayint_lib.model import derivations as D
from rayint_lib.model import dynamics
from rayint_lib.model.algebra import find, same
from rayint_lib.model.appendix_b_checks import GROUPS, PRINTED, checks

J1, J2 = D.J1, D.J2


@pytest.fixture(scope="module")
def R():
    return D.rl_derivation()


@pytest.fixture(scope="module")
def S():
    return D.supervised_derivation()


@pytest.fixture(scope="module")
def C():
    return checks()


def test_sec21_gradients_rho_and_eqs12(R):
    q1, q2 = J1 * (1 - J1), J2 * (1 - J2)
    assert same(R["grad_J1"], q1 * sp.Matrix([1, 0, 1]))
    assert same(R["grad_J2"], q2 * sp.Matrix([0, 1, -1]))
    assert R["rho"] == sp.Rational(-1, 2)
    assert same(R["Jdot1"], 2 * q1**2 - q1 * q2)
    assert same(R["Jdot2"], 2 * q2**2 - q1 * q2)
    assert same(R["Jddot"], R["Jddot_theta"])   # chain rule in J = <grad Jdot, grad J> in theta


def test_b1_fixed_points_and_jacobian(R, C):
    flow = (R["Jdot1"], R["Jdot2"])
    assert D.fixed_points(flow) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    jac = D.jacobian(flow)
    for a, b in D.fixed_points(flow):  # the Jacobian of Eqs. 1-2 vanishes at every corner
        assert jac.subs({J1: a, J2: b}) == sp.zeros(2)
    assert not find(C, "jacobian_eqs12").holds and find(C, "jacobian_logit").holds
    assert same(D.half_logit_jacobian().det(), sp.Rational(3, 4) * (1 - 2 * J1) * (1 - 2 * J2))
    assert not find(C, "det").holds and find(C, "trace").holds


def test_b1_classification_unchanged():
    m = D.half_logit_jacobian()
    expected = {(0, 0): "unstable node", (0, 1): "saddle", (1, 0): "saddle", (1, 1): "stable node"}
    for (a, b), kind in expected.items():
        at = {J1: a, J2: b}
        assert D.classify(m.trace().subs(at), m.det().subs(at)) == kind
        assert dynamics.classify_corner(dynamics.jdot_rl, float(a), float(b)) == kind.split()[0]
    assert D.classify(2, sp.Rational(5, 4)) == "unstable focus"  # with the printed 5/4


def test_b2_line_by_line(R, C):
    for ok in ["B2_line3", "B2_line4", "B2_line5", "B2_line6_read", "B2_line7",
               "P6_antidiagonal_bracket", "Jdddot_antidiagonal", "plateau_boundaries",
               "eps_antidiagonal"]:
        assert find(C, ok).holds, ok
    for wrong in ["B2_line6_literal", "B2_eq3", "P6_antidiagonal_eq3"]:
        assert not find(C, wrong).holds, wrong
    assert sp.cancel(R["Jddot"] / ((1 - J1 - J2) * PRINTED["B2_bracket"])) == 2


def test_b2_plateau_interval_and_sign(R):
    lo, hi = D.plateau_boundaries()
    assert sp.simplify(lo - (15 - sp.sqrt(15)) / 30) == 0
    assert sp.simplify(hi - (15 + sp.sqrt(15)) / 30) == 0
    assert abs(float(lo) - dynamics.plateau_intervals()) < 1e-6
    f = sp.lambdify(J1, D.antidiagonal(R["Jdddot"]))   # Jdddot = -Jdot P6 on the anti-diagonal
    p = sp.lambdify(J1, D.antidiagonal(R["P6"]))
    x = np.linspace(0.01, 0.99, 99)
    x = x[(np.abs(x - float(lo)) > 1e-3) & (np.abs(x - float(hi)) > 1e-3)]
    assert np.array_equal(f(x) > 0, p(x) < 0)


def test_b3_notch_threshold():
    assert D.notch_threshold() == sp.Rational(49, 512)


def test_b4_slopes_and_p_nc():
    assert D.null_cline_slopes_at_origin() == (2, sp.Rational(1, 2))
    assert sp.simplify(D.p_nc_from_slopes() - 4 / sp.pi * sp.atan(sp.Rational(1, 2))) == 0


def test_b5_supervised(S, C):
    for ok in ["sup_grad_Jsup", "sup_rho", "sup_Jdot1_middle", "sup_Jdot1", "sup_dlogJ1",
               "sup_Jsup_dot", "sup_Jsup_dot_sos", "sup_grad_Jsup_dot", "sup_Jsup_ddot",
               "sup_Jsup_ddot_theta"]:
        assert find(C, ok).holds, ok
    assert not find(C, "sup_rho_printed").holds and same(S["rho_printed"], -1 / (2 * J1 * J2))
    fps = D.fixed_points((S["Jdot1"], S["Jdot2"]))
    assert (0, sp.Rational(1, 2)) in fps and (sp.Rational(1, 2), 0) in fps and len(fps) == 6
    assert S["Jddot"].subs({J1: sp.Rational(1, 10), J2: sp.Rational(1, 10)}) > 0
    types = D.fixed_point_types((S["Jdot1"], S["Jdot2"]), dynamics.jdot_supervised)
    assert types[(0, sp.Rational(1, 2))] == "saddle" and types[(1, 1)] == "stable"


def test_inflections_follow_definition_2():
    """A path through a concave-to-convex inflection of J is found, with Jdot there; a path
    that only turns convex to concave is not."""
    t = np.linspace(-1, 1, 20)                                # no step exactly at 0
    path = np.stack([t, np.zeros_like(t)], 1)[:, :, None]    # [steps, 2, 1 start]
    rising, rate = D.inflections_on_orbits(path, J1, J1 + 2)  # sign of Jddot = sign of J1
    assert rising.sum() == 1 and rate[rising][0] == pytest.approx(2.0)
    falling, _ = D.inflections_on_orbits(path, -J1, J1)
    assert falling.sum() == 0


def test_every_check_is_in_one_group(C):
    grouped = [i for ids in GROUPS.values() for i in ids]
    assert sorted(grouped) == sorted(c.id for c in C)


def test_supervised_orbits_never_inflect_J_sup():
    """Eq. (4): J_sup is concave along every supervised orbit; J = J1 + J2 does inflect near
    the edge J1 = 0 (the boundary saddles of B.5)."""
    o = D.supervised_orbits(4)
    assert o["starts"].shape == (4 * 4 + 2 * 4, 2)
    np.testing.assert_array_equal(o["starts"][:16].min(axis=0), [0.125, 0.125])
    assert o["rising_sup"].sum() == 0
    assert o["rising"][:, 16:].any() and not o["rising"][:, :16].any()

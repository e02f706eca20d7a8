"""App. B by computer algebra: every identity the book calls verified, re-derived here; the
chapter's claims can fail; the validator names the parameter."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from rayint_lib.book.claims import NOT_REPRODUCED, REPRODUCED
from rayint_lib.chapters import appendix_b as ch
from rayint_lib.chapters import minimal_bandit
from rayint_lib.model import dynamics
from rayint_lib.model.algebra import find, same

J1, J2 = ch.J1, ch.J2


@pytest.fixture(scope="module")
def R():
    return ch.rl_derivation()


@pytest.fixture(scope="module")
def S():
    return ch.supervised_derivation()


@pytest.fixture(scope="module")
def C():
    return ch.checks()


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
    assert ch.fixed_points(flow) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    jac = ch.jacobian(flow)
    for a, b in ch.fixed_points(flow):  # the Jacobian of Eqs. 1-2 vanishes at every corner
        assert jac.subs({J1: a, J2: b}) == sp.zeros(2)
    assert not find(C, "jacobian_eqs12").holds and find(C, "jacobian_logit").holds
    assert same(ch.half_logit_jacobian().det(), sp.Rational(3, 4) * (1 - 2 * J1) * (1 - 2 * J2))
    assert not find(C, "det").holds and find(C, "trace").holds
    b1 = ch.b1_fixed_points()
    assert b1.det_coefficient == pytest.approx(0.75)
    assert b1.corners_only and b1.types_as_printed and b1.traces_as_printed


def test_b1_classification_unchanged():
    m = ch.half_logit_jacobian()
    expected = {(0, 0): "unstable node", (0, 1): "saddle", (1, 0): "saddle", (1, 1): "stable node"}
    for (a, b), kind in expected.items():
        at = {J1: a, J2: b}
        assert ch.classify(m.trace().subs(at), m.det().subs(at)) == kind
        assert dynamics.classify_corner(dynamics.jdot_rl, float(a), float(b)) == kind.split()[0]
    assert ch.classify(2, sp.Rational(5, 4)) == "unstable focus"  # with the printed 5/4


def test_b2_line_by_line(R, C):
    for ok in ["B2_line3", "B2_line4", "B2_line5", "B2_line6_read", "B2_line7",
               "P6_antidiagonal_bracket", "Jdddot_antidiagonal", "plateau_boundaries",
               "eps_antidiagonal"]:
        assert find(C, ok).holds, ok
    for wrong in ["B2_line6_literal", "B2_eq3", "P6_antidiagonal_eq3"]:
        assert not find(C, wrong).holds, wrong
    assert sp.cancel(R["Jddot"] / ((1 - J1 - J2) * ch.PRINTED["B2_bracket"])) == 2
    acc = ch.b2_acceleration()
    assert acc.eq3_factor == 2 and acc.eq3_ratio == 1 and acc.flatness_error < 1e-12
    assert acc.low == pytest.approx((15 - 15**0.5) / 30, abs=1e-12)


def test_b2_plateau_interval_and_sign(R):
    lo, hi = ch.plateau_boundaries()
    assert sp.simplify(lo - (15 - sp.sqrt(15)) / 30) == 0
    assert sp.simplify(hi - (15 + sp.sqrt(15)) / 30) == 0
    assert abs(float(lo) - dynamics.plateau_intervals()) < 1e-6
    f = sp.lambdify(J1, ch.antidiagonal(R["Jdddot"]))   # Jdddot = -Jdot P6 on the anti-diagonal
    p = sp.lambdify(J1, ch.antidiagonal(R["P6"]))
    x = np.linspace(0.01, 0.99, 99)
    x = x[(np.abs(x - float(lo)) > 1e-3) & (np.abs(x - float(hi)) > 1e-3)]
    assert np.array_equal(f(x) > 0, p(x) < 0)


def test_b3_polygon_inside_measured_basin():
    b3 = ch.b3_basins([0.1, 0.01, 1e-3], 80)
    assert b3.min_inside == 1.0
    for b in b3.rows.values():
        assert b["printed_n_inside"] > 10 and b["four_vertices_inside_basin"] == 1.0
        assert 0 < b["coverage"] < 1
    assert b3.rows[0.1]["notch"] and not b3.rows[0.01]["notch"]
    assert ch.notch_threshold() == sp.Rational(49, 512)


def test_chapter_01_grid_misses_only_its_edge():
    g = ch.full_square_reading(eps=0.1, n=60)
    assert g["n_missed_off_edge"] == 0 and g["share_own_flatness"] == 1.0
    assert g["share_by_crossing"] <= 1.0


def test_b3_sampled_has_intervals():
    s = ch.b3_sampled([1e-3], [0.5], 30, 0, 20_000, 0.1)
    est = s.hit_inside[1e-3]
    assert est.low <= est.value <= est.high and est.n + s.hit_outside[1e-3].n == 30


def test_b4_slopes_and_p_nc():
    assert ch.null_cline_slopes_at_origin() == (2, sp.Rational(1, 2))
    assert sp.simplify(ch.p_nc_from_slopes() - 4 / sp.pi * sp.atan(sp.Rational(1, 2))) == 0
    b4 = ch.b4_wta_starts(1e-4, 40_000, 1, radii=(0.3,))
    assert b4.derivatives_as_printed
    assert b4.p_nc_mc.low < b4.p_nc < b4.p_nc_mc.high
    assert b4.by_radius[0.3].high < b4.p_nc   # farther out the WTA share is smaller


def test_b5_supervised(S, C):
    for ok in ["sup_grad_Jsup", "sup_rho", "sup_Jdot1_middle", "sup_Jdot1", "sup_dlogJ1",
               "sup_Jsup_dot", "sup_Jsup_dot_sos", "sup_grad_Jsup_dot", "sup_Jsup_ddot",
               "sup_Jsup_ddot_theta"]:
        assert find(C, ok).holds, ok
    assert not find(C, "sup_rho_printed").holds and same(S["rho_printed"], -1 / (2 * J1 * J2))
    fps = ch.fixed_points((S["Jdot1"], S["Jdot2"]))
    assert (0, sp.Rational(1, 2)) in fps and (sp.Rational(1, 2), 0) in fps and len(fps) == 6
    assert S["Jddot"].subs({J1: sp.Rational(1, 10), J2: sp.Rational(1, 10)}) > 0


def test_supervised_inflections_follow_definition_2():
    b5 = ch.b5_supervised(6)
    assert b5.jsup_up == 0                           # Eq. 4: J_sup never inflects upwards
    assert b5.n_plateau_interior == 0 and b5.n_plateau_starts >= 1
    assert 0 < b5.eps_min <= b5.eps_max < 0.2         # Definition 2: 0 <= Jdot
    assert b5.jsup_ddot_max <= 1e-6
    assert "saddle" in b5.fixed_points.values() and b5.n_interior_fixed_points == 0


def test_claims_are_data_and_can_fail():
    for claim in ch.CLAIMS.values():
        assert claim.verdict(claim.example(True)) == REPRODUCED
        assert claim.verdict(claim.example(False)) == NOT_REPRODUCED, claim.id
    assert ch.CLAIMS["B1-determinant"].verdict(0.75) == NOT_REPRODUCED
    assert ch.CLAIMS["B2-eq3-factor"].verdict(2.0) == NOT_REPRODUCED
    assert ch.CLAIMS["B3-polygon"].verdict(0.994) == NOT_REPRODUCED


def test_one_claim_per_statement_with_chapter_01():
    """The Sec. 2 statements are chapter 01's claims; this chapter defines none of them."""
    assert not set(ch.CLAIMS) & set(minimal_bandit.CLAIMS)
    for old in ["B2-intervals", "S23-flatness", "B4-P_nc", "B4-P_nc-MC", "B1-types",
                "B1-fixed-points", "B5-eq4", "B5-fixed-points"]:
        assert old not in ch.CLAIMS
    for used in ["fixed-points", "plateau-interval", "flatness-antidiagonal", "p-wta-closed",
                 "p-wta-mc", "supervised-concave", "supervised-no-saddle"]:
        assert used in minimal_bandit.CLAIMS


GOOD = dict(eps_list=[0.1], n_grid=50, sampled_J0=[0.2], n_runs=5, max_samples=1000, eta=0.1,
            mc_samples=1000, mc_radius=1e-3, sup_grid=5, seed=0)


@pytest.mark.parametrize("bad,name", [
    (dict(eps_list=[0.2]), "eps_list[0]"), (dict(eps_list=[]), "eps_list"),
    (dict(eps_list="0.1"), "eps_list"), (dict(n_grid=5), "n_grid"),
    (dict(sampled_J0=[0.5, 1.5]), "sampled_J0[1]"), (dict(eta=0.0), "eta"),
    (dict(seed=-1), "seed"), (dict(mc_samples=10), "mc_samples"),
    (dict(sup_grid=1), "sup_grid"),
])
def test_validator_names_the_parameter(bad, name):
    ch.validate(**GOOD)
    with pytest.raises(ValueError, match=name.replace("[", r"\[").replace("]", r"\]")):
        ch.validate(**{**GOOD, **bad})


def test_validator_estimates_memory(monkeypatch):
    monkeypatch.setenv("RAYINT_MAX_MEMORY", "20M")
    with pytest.raises(ValueError, match="mc_samples"):
        ch.validate(**{**GOOD, "mc_samples": 10**6})
    with pytest.raises(ValueError, match="sup_grid"):
        ch.validate(**{**GOOD, "sup_grid": 100})
    with pytest.raises(ValueError, match="n_grid"):
        ch.validate(**{**GOOD, "n_grid": 2000})


@pytest.mark.slow
def test_notebook_small(run_notebook):
    g = run_notebook("06_appendix_b", eps_list=[0.1, 0.001], n_grid=60, sampled_J0=[0.5],
                     n_runs=20, max_samples=20000, mc_samples=5000, sup_grid=6)
    assert g["06_n_fixed_points"] == 4
    assert g["06_det_coefficient"] == pytest.approx(0.75)
    assert g["06_eq3_factor"] == pytest.approx(2.0) and g["06_eq3_ratio"] == pytest.approx(1.0)
    assert g["06_plateau_low"] == pytest.approx((15 - 15**0.5) / 30, abs=1e-9)
    assert g["06_polygon_inside_min"] == 1.0
    assert g["06_notch_threshold"] == pytest.approx(49 / 512)
    assert g["06_p_nc"] == pytest.approx(4 / np.pi * np.arctan(0.5))
    assert g["06_p_nc_mc_ci_low"] <= g["06_p_nc_mc"] <= g["06_p_nc_mc_ci_high"]
    assert g["06_full_grid_share_own_flatness"] == 1.0
    assert g["06_sup_n_fixed_points"] == 6
    assert g["06_sup_Jsup_up"] == 0
    assert g["06_sup_n_plateau_starts"] >= 1

"""Factored objectives (Sec. 3.1) and the derivations of App. C."""
from __future__ import annotations

import numpy as np
import pytest

from rayint_lib.model import appendix_c_checks as FS
from rayint_lib.model import dynamics
from rayint_lib.model import factored as F
from rayint_lib.model.algebra import same

ON = F.coupling("on_policy")
G25 = np.linspace(0.01, 0.99, 25)
GRID = np.stack(np.meshgrid(G25, G25), -1).reshape(-1, 2)


def test_factored_model_reproduces_eqs_1_2_and_3():
    """Given the 2x2 bandit's f = u(1-u), |v|^2 = 2, rho = -1/2: Eqs. (1)-(2) and Eq. (3)."""
    m = F.FactoredModel(ON, norms=(np.sqrt(2), np.sqrt(2)), rho=-0.5)
    d1, d2 = dynamics.jdot_rl(GRID[:, 0], GRID[:, 1])
    np.testing.assert_allclose(m.jdot(GRID), np.stack([d1, d2], -1), atol=1e-15)
    np.testing.assert_allclose(m.jddot(GRID), dynamics.jddot_rl(GRID[:, 0], GRID[:, 1]), atol=1e-15)
    np.testing.assert_allclose(m.jddot_c2(GRID), m.jddot(GRID), atol=1e-15)
    # the same from the bandit's own v_k: v1 = (1, 0, 1), v2 = (0, 1, -1)
    v = np.array([[1, 0, 1], [0, 1, -1]], float)
    m2 = F.FactoredModel(ON, gram=v @ v.T)
    np.testing.assert_allclose(m2.jdot(GRID), m.jdot(GRID), atol=1e-15)
    assert FS.check_bandit_2x2() == (0, 0)  # the same, symbolically (App. C's module)


def test_supervised_learner_view():
    """Update factor 1-u with gradient factor u(1-u) gives Sec. 2.5's supervised dynamics."""
    m = F.FactoredModel(F.coupling("supervised"), g=ON)
    d1, d2 = dynamics.jdot_supervised(GRID[:, 0], GRID[:, 1])
    np.testing.assert_allclose(m.jdot(GRID), np.stack([d1, d2], -1), atol=1e-14)


def test_full_parameter_bandit_n2_matches_reduced_dynamics():
    """The (W, b) bandit with n = 2: rates twice Eqs. (1)-(2), Jddot four times Eq. (3), no
    grad v term."""
    L = F.bandit_logits(GRID[:, 0], GRID[:, 1], 2)
    jd, _ = F.bandit_rates(L)
    d1, d2 = dynamics.jdot_rl(GRID[:, 0], GRID[:, 1])
    np.testing.assert_allclose(jd, 2 * np.stack([d1, d2], -1), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(F.bandit_jddot_exact(L),
                               4 * dynamics.jddot_rl(GRID[:, 0], GRID[:, 1]), rtol=1e-9, atol=1e-15)
    norms, rho, approx = F.bandit_factored(L)
    np.testing.assert_allclose(rho, -0.5)
    np.testing.assert_allclose(approx, F.bandit_jddot_exact(L), rtol=1e-9, atol=1e-15)


def test_bandit_exact_jddot_against_finite_differences():
    """Exact Jddot of the (2 x 3) bandit = d/dt Jdot along the gradient flow (central
    differences)."""
    L = F.bandit_logits(0.3, 0.5, 3, skew=1.0)
    jd, vel = F.bandit_rates(L)
    h = 1e-5
    total = lambda logits: F.bandit_rates(logits)[0].sum()  # noqa: E731
    fd = (total(L + h * vel) - total(L - h * vel)) / (2 * h)
    assert F.bandit_jddot_exact(L) == pytest.approx(fd, rel=1e-6)


def test_mixture_coupling():
    """f_mix(u) = ((1-a)u + a/n)(1-u): f(0) = a/n; a = 0 is on-policy, a = 1 uniform."""
    mix = F.coupling("mixture", alpha=0.1, n_actions=2)
    assert mix.at_zero == pytest.approx(0.05) and mix.at_one == 0
    u = np.linspace(0, 1, 11)
    np.testing.assert_allclose(F.coupling("mixture", alpha=0.0)(u), ON(u))
    np.testing.assert_allclose(F.coupling("mixture", alpha=1.0, n_actions=4)(u), (1 - u) / 4)
    # derivative is exact
    np.testing.assert_allclose(mix.df(u), 0.9 * (1 - u) - (0.9 * u + 0.05))
    with pytest.raises(ValueError, match="alpha"):
        F.coupling("mixture", alpha=1.5)


@pytest.mark.parametrize("name,kw,expected", [
    ("on_policy", {}, (True, True, True)),
    ("power", {"p": 2.0}, (True, True, True)),
    ("supervised", {}, (False, False, False)),
    ("mixture", {"alpha": 0.1}, (False, False, False)),
])
def test_three_statements(name, kw, expected):
    s = F.statements(F.FactoredModel(F.coupling(name, **kw)), xi=0.01)
    assert (s["saddle"], s["plateau"], s["wta_strip"]) == expected


def test_wta_strip_width_on_policy_closed_form():
    """For the bandit the strip edge is the null cline 2 q(J1) = q(J2) (Sec. 2.4)."""
    m = F.FactoredModel(ON)
    J2 = np.array([0.3, 0.6, 0.9])
    np.testing.assert_allclose(m.wta_strip_width(J2), dynamics.null_cline_J1(J2), atol=1e-9)


def test_c2_sign_change_between_null_clines_on_policy():
    r = F.between_null_clines(F.FactoredModel(ON), [0.9, 0.95, 0.99], J1_max=0.999)
    assert np.all(r["jddot_a"] < 0) and np.all(r["jddot_b"] > 0)
    assert np.all((r["a"] < r["zero"]) & (r["zero"] < r["b"]))
    # for the bandit the zero is the anti-diagonal J1 = 1 - J2 (App. B.2)
    np.testing.assert_allclose(r["zero"], 1 - r["J2"], atol=1e-3)


def test_neglected_terms_small_near_saddle_not_everywhere():
    s, ex, ap = F.bandit_segment(0.01, 3, skew=1.0)
    rel = np.abs(ex - ap)[[0, -1]] / np.abs(ap)[[0, -1]]
    assert ex[0] < 0 < ex[-1]
    assert 0 < rel.max() < 0.1
    ex_mid, ap_mid, ne = F.neglected_terms(0.2, 0.6, 3, 0.0)
    assert abs(ne) > 0.5 * abs(ex_mid)  # in the interior grad v is as large as Jddot itself


def test_learning_curves_plateau_only_on_policy():
    times = {}
    for name in ("on_policy", "mixture"):
        model = F.FactoredModel(F.coupling(name), g=ON)
        t, J = F.learning_curves(model, [0.02, 0.18], t_max=1e4)
        times[name] = t[np.argmax(J.sum(1) >= 1.9)]
    assert times["on_policy"] > 10 * times["mixture"]


def test_symbolic_identities_verified():
    """Every identity the book calls verified, re-derived (App. C.1, C.2, the neglected terms)."""
    checks = FS.all_checks(d=2)
    failed = [c.id for c in checks if not c.holds]
    assert not failed
    neg, exp = FS.check_exact_minus_approx(d=2)
    assert same(neg, exp)


def test_symbolic_check_can_fail():
    """A wrong printed line (factor 4 instead of 2) is not reported as verified."""
    S = FS.FactoredSymbols(2)
    n2 = S.norm[1]
    wrong = 4 * n2**4 * S.dF[1] * S.F[1] ** 3
    derived = S.no_grad_v(S.jddot().subs({S.F[0]: 0}))
    assert not same(wrong, derived)
    assert same(wrong / 2, derived)


def test_validator_07_rejects_bad_parameters():
    from rayint_lib import chapters

    with pytest.raises(ValueError, match="d must be"):
        chapters.validate("07_appendix_c", d=9)


@pytest.mark.slow
def test_notebook_07_small(run_notebook):
    g = run_notebook("07_appendix_c", d=2, powers=[1.0], bandit_actions=[3], skews=[1.0],
                     n_heights=10)
    assert g["n_symbolic_verified"] == g["n_symbolic_checks"]
    assert g["c2_holds_near_saddle_all"] == "yes"
    assert g["neglected_n2_max"] < 1e-10


# --- Sec. 3.2: K components ---------------------------------------------------------------

def test_gram_fully_interfering_is_the_bandit_for_K2_and_psd():
    np.testing.assert_allclose(F.gram_fully_interfering(2), [[2, -1], [-1, 2]])
    for K in (3, 6):
        G = F.gram_fully_interfering(K, rho=-0.99)
        assert np.linalg.eigvalsh(G).min() > 0
        np.testing.assert_allclose(G[0, 1] / G[0, 0], -0.99 / (K - 1))


def test_saddle_counts_known_answers():
    """K = 2: the two corners (0, 1), (1, 0) (Sec. 2.2); K components: 2^K - 2; m of K
    on-policy, the rest supervised: 2^m - 1; no component with f(0) = 0: no saddle."""
    c = F.saddle_census(F.fully_interfering(2))
    assert c["n_saddles"] == 2 and not c["free_sets"]
    saddles = {tuple(p) for p, t in zip(c["points"], c["types"]) if t == "saddle"}
    assert saddles == {(0.0, 1.0), (1.0, 0.0)}
    assert dict(zip(map(tuple, c["points"]), c["types"]))[(0.0, 0.0)] == "unstable"
    for K in (3, 4):
        assert F.saddle_census(F.fully_interfering(K))["n_saddles"] == 2**K - 2
    assert F.saddle_census(F.fully_interfering(4, n_zero=2))["n_saddles"] == 3
    assert F.saddle_census(F.fully_interfering(3, n_zero=0))["n_saddles"] == 0


def test_corner_types_agree_with_the_2d_classifier():
    m = F.FactoredModel(ON)
    for corner in [(0.0, 1.0), (1.0, 0.0), (0.0, 0.0), (1.0, 1.0)]:
        assert F.classify_fixed_point(m, corner) == dynamics.classify_corner(m.field, *corner)


def test_non_isolated_fixed_points_are_found():
    """rho = -1 (v2 = -v1): f1 = f2 is a whole line of fixed points, which the LP finds."""
    m = F.FactoredModel(ON, rho=-1.0)
    _, free = F.fixed_points(m)
    assert free == [(0, 1)]
    assert abs(m.jdot_total([0.3, 0.3])) < 1e-15


def test_growth_factor_can_fail():
    m = np.arange(2, 7)
    assert F.growth_factor(m, 2.0**m - 2) > 2
    assert F.growth_factor(m, 2.0**m) == pytest.approx(2)
    assert F.growth_factor(m, m - 1.0) < 1.5          # linear growth is not exponential
    assert np.isnan(F.growth_factor(m, np.zeros(5)))
    assert F.difference_factor(2.0**m - 2) == 2 and F.difference_factor(3.0**m + 7) == 3
    assert F.difference_factor(m**3.0) < 1.5 and F.difference_factor(m - 1.0) == 1


def test_plateau_between_bandit_known_answer():
    """For the 2x2 bandit the inflection point on the segment is on the anti-diagonal, where
    the flatness is 2 J1^2 (1 - J1)^2 (App. B.2)."""
    xi = 0.01
    r = F.plateau_between(F.FactoredModel(ON), [0, 1 - xi], [xi, 1])
    assert r["signs"] and r["plateau"] and r["jdddot"] > 0
    np.testing.assert_allclose(r["point"], [xi / 2, 1 - xi / 2], atol=1e-9)
    assert r["eps"] == pytest.approx(float(dynamics.flatness_on_antidiagonal(xi / 2)), rel=1e-8)
    sup = F.plateau_between(F.FactoredModel(F.coupling("supervised")), [0, 1 - xi], [xi, 1])
    assert not sup["signs"] and not sup["plateau"]


def test_plateaus_near_every_saddle_K3():
    rows = F.plateaus_near_saddles(F.fully_interfering(3), n=201)
    assert len(rows) == 12 and all(r["plateau"] and r["signs"] for r in rows)
    assert F.plateaus_near_saddles(F.fully_interfering(3, n_zero=0)) == []


def test_wta_needs_negative_interference():
    """rho >= 0 gives no WTA region (both terms of J1dot are >= 0); rho < 0 does."""
    for f in (ON, F.coupling("power", p=2.0), F.coupling("mixture")):
        for rho in (0.0, 0.3, 0.9):
            assert F.wta_area(F.FactoredModel(f, rho=rho), 100) == 0
    assert F.wta_area(F.FactoredModel(ON, rho=-0.05), 200) > 0
    assert F.wta_face_width(F.fully_interfering(3, rho=0.5), 0) == 0
    assert F.wta_face_width(F.fully_interfering(3), 0) > 0


def test_wta_face_width_is_the_null_cline_for_K2():
    w = F.wta_face_width(F.fully_interfering(2), 1)       # J2 = 1/2, J1 = w
    assert w == pytest.approx(float(dynamics.null_cline_J1(0.5)), abs=1e-9)


def test_follow_flow_matches_the_2d_orbit_integrator():
    """K = 2: the plateau flatness of each orbit equals dynamics' anti-diagonal flatness."""
    starts = F.low_performance_starts(2, 40, np.random.default_rng(3))
    r = F.follow_flow(F.FactoredModel(ON), starts)
    ref = dynamics.plateau_flatness_of_start(starts[:, 0], starts[:, 1])
    found = np.isfinite(r["flatness"])
    assert r["solved"].all() and found.mean() > 0.8
    np.testing.assert_allclose(r["flatness"][found], ref[found], rtol=0.02)
    assert np.all(ref[~found] > 0.1)                       # near-diagonal: no minimum of Jdot


def test_basins_beyond_wta_flags():
    b = F.basins_beyond_wta(F.fully_interfering(2), 60, np.random.default_rng(0))
    assert np.all(b["beyond"] == (b["hits"] & ~b["wta"]))
    np.testing.assert_allclose(b["starts"].sum(1), 0.2)
    none = F.basins_beyond_wta(F.fully_interfering(2, rho=0.5), 30, np.random.default_rng(0))
    assert not none["wta"].any()

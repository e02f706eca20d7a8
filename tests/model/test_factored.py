"""Factored objectives (Sec. 3.1) and the derivations of App. C."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from rayint_lib.model import dynamics
from rayint_lib.model import factored as F
from rayint_lib.chapters import appendix_c as FS

ON = F.coupling("on_policy")
GRID = np.stack(np.meshgrid(np.linspace(0.01, 0.99, 25), np.linspace(0.01, 0.99, 25)), -1).reshape(-1, 2)


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
    assert FS.check_bandit_2x2() == (0, 0)


def test_supervised_learner_view():
    """Update factor 1-u with gradient factor u(1-u) gives Sec. 2.5's supervised dynamics."""
    m = F.FactoredModel(F.coupling("supervised"), g=ON)
    d1, d2 = dynamics.jdot_supervised(GRID[:, 0], GRID[:, 1])
    np.testing.assert_allclose(m.jdot(GRID), np.stack([d1, d2], -1), atol=1e-14)


def test_full_parameter_bandit_n2_matches_reduced_dynamics():
    """The (W, b) bandit with n = 2: rates twice Eqs. (1)-(2), Jddot four times Eq. (3), no grad v term."""
    L = F.bandit_logits(GRID[:, 0], GRID[:, 1], 2)
    jd, _ = F.bandit_rates(L)
    d1, d2 = dynamics.jdot_rl(GRID[:, 0], GRID[:, 1])
    np.testing.assert_allclose(jd, 2 * np.stack([d1, d2], -1), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(F.bandit_jddot_exact(L), 4 * dynamics.jddot_rl(GRID[:, 0], GRID[:, 1]),
                               rtol=1e-9, atol=1e-15)
    norms, rho, approx = F.bandit_factored(L)
    np.testing.assert_allclose(rho, -0.5)
    np.testing.assert_allclose(approx, F.bandit_jddot_exact(L), rtol=1e-9, atol=1e-15)


def test_bandit_exact_jddot_against_finite_differences():
    """Exact Jddot of the (2 x 3) bandit = d/dt Jdot along the gradient flow (central differences)."""
    L = F.bandit_logits(0.3, 0.5, 3, skew=1.0)
    jd, vel = F.bandit_rates(L)
    h = 1e-5
    total = lambda logits: F.bandit_rates(logits)[0].sum()  # noqa: E731
    fd = (total(L + h * vel) - total(L - h * vel)) / (2 * h)
    assert F.bandit_jddot_exact(L) == pytest.approx(fd, rel=1e-6)


def test_mixture_coupling():
    """f_mix(u) = ((1-a)u + a/n)(1-u): f(0) = a/n, endpoints a = 0 (on-policy) and a = 1 (uniform)."""
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
    assert abs(ne) > 0.5 * abs(ex_mid)  # in the interior the grad v term is as large as Jddot itself


def test_learning_curves_plateau_only_on_policy():
    times = {}
    for name in ("on_policy", "mixture"):
        t, J = F.learning_curves(F.FactoredModel(F.coupling(name), g=ON), [0.02, 0.18], t_max=1e4)
        times[name] = t[np.argmax(J.sum(1) >= 1.9)]
    assert times["on_policy"] > 10 * times["mixture"]


def test_symbolic_identities_verified():
    """Every identity the book calls verified, re-derived (App. C.1, C.2, the neglected terms)."""
    checks = FS.all_checks(d=2)
    failed = [c.id for c in checks if not c.holds]
    assert not failed
    neg, exp = FS.check_exact_minus_approx(d=2)
    assert FS.is_zero(neg - exp)


def test_symbolic_check_can_fail():
    """A wrong printed line (factor 4 instead of 2) is not reported as verified."""
    S = FS.Setup(2)
    n2 = S.norm[1]
    wrong = 4 * n2**4 * S.dF[1] * S.F[1] ** 3
    derived = S.no_grad_v(S.jddot().subs({S.F[0]: 0}))
    assert not FS.is_zero(wrong - derived)
    assert FS.is_zero(wrong / 2 - derived)


def test_validators_reject_bad_parameters():
    from rayint_lib import chapters

    with pytest.raises(ValueError, match="mix_fraction"):
        chapters.validate("02_factored_objectives", mix_fraction=0.0)
    with pytest.raises(ValueError, match=r"powers\[0\]"):
        chapters.validate("02_factored_objectives", powers=[0.5])
    with pytest.raises(ValueError, match="d must be"):
        chapters.validate("07_appendix_c", d=9)


@pytest.mark.slow
def test_notebook_02_small(run_notebook):
    g = run_notebook("02_factored_objectives", mix_fraction=0.2, powers=[1.0, 2.0], bandit_actions=[3],
                     skews=[0.0, 2.0], t_max=3000.0)
    assert g["f_mix_at_zero"] == pytest.approx(0.1)
    assert g["max_err_eq12"] < 1e-12 and g["max_err_eq3"] < 1e-12
    assert g["saddle_on_policy"] == "yes" and g["plateau_on_policy"] == "yes"
    assert g["saddle_mixture"] == "no"
    assert g["neglected_rel_near_saddle_max"] < 0.1
    assert g["speedup_mixture"] > 1


@pytest.mark.slow
def test_notebook_07_small(run_notebook):
    g = run_notebook("07_appendix_c", d=2, powers=[1.0], bandit_actions=[3], skews=[1.0], n_heights=10)
    assert g["n_symbolic_verified"] == g["n_symbolic_checks"]
    assert g["c2_holds_near_saddle_all"] == "yes"
    assert g["neglected_n2_max"] < 1e-10

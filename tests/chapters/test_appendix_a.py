"""Appendix A (Figs. 5, 8, 9): slowdown of plateaus, basins, optimizers."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp

from rayint_lib import chapters
from rayint_lib.chapters import appendix_a as slowdown
from rayint_lib.model.config import BanditConfig
from rayint_lib.model.dynamics import flatness_on_antidiagonal
from rayint_lib.model.simulate import simulate


def _lsoda(J1, J2, J_end=1.9):
    """Reference: Eqs. (1)-(2) in logit coordinates, LSODA with events (time, crossing J1)."""

    def rhs(t, z):
        q = 1 / (1 + np.exp(-z)) * (1 - 1 / (1 + np.exp(-z)))
        return [2 * q[0] - q[1], 2 * q[1] - q[0]]

    def end(t, z):
        return (1 / (1 + np.exp(-z))).sum() - J_end

    def anti(t, z):
        return (1 / (1 + np.exp(-z))).sum() - 1

    end.terminal = True
    z0 = np.log([J1 / (1 - J1), J2 / (1 - J2)])
    s = solve_ivp(rhs, (0, 1e12), z0, events=[end, anti], method="LSODA", rtol=1e-11, atol=1e-12)
    return s.t_events[0][0], 1 / (1 + np.exp(-s.y_events[1][0][0]))


def test_orbits_match_an_independent_ode_solver():
    J1 = np.array([1e-4, 3e-3, 0.03, 0.08])
    o = slowdown.orbits(J1, 0.2 - J1)
    for k, a in enumerate(J1):
        T, cross = _lsoda(a, 0.2 - a)
        assert o["time"][k] == pytest.approx(T, rel=1e-3)
        assert o["cross_J1"][k] == pytest.approx(cross, rel=2e-3)
        assert o["eps"][k] == pytest.approx(flatness_on_antidiagonal(cross), rel=5e-3)


def test_balanced_time_closed_form():
    # direct quadrature of dt = du / q(u)^2 along the diagonal
    ref = quad(lambda u: 1 / (u * (1 - u)) ** 2, 0.1, 0.95)[0]
    assert slowdown.balanced_time(0.2, 1.9) == pytest.approx(ref, rel=1e-10)
    o = slowdown.orbits(0.1, 0.1)
    assert o["time"] == pytest.approx(ref, rel=1e-3)  # RK4 at ds=0.05, linear event interpolation
    assert o["cross_J1"] == pytest.approx(0.5, abs=1e-6)
    with pytest.raises(ValueError, match="J0"):
        slowdown.balanced_time(1.95, 1.9)


def test_steps_full_parameters_take_half_the_updates():
    assert slowdown.to_steps(38.0, 0.1, "reduced") == pytest.approx(380.0)
    assert slowdown.to_steps(38.0, 0.1, "full") == pytest.approx(190.0)
    with pytest.raises(ValueError, match="parameters"):
        slowdown.to_steps(1.0, 0.1, "half")


def test_simulator_agrees_with_the_ode_per_run():
    """Expected-update runs of the full (W, b) take T / (2 eta) updates and see 2 eps."""
    cfg = BanditConfig(batch="expected", n_runs=60, max_samples=20_000, seed=3, eta=0.1)
    runs = simulate(cfg)
    o = slowdown.orbits(runs.initial[:, 0], runs.initial[:, 1], J_end=2 - cfg.solved_margin)
    steps = slowdown.to_steps(o["time"], cfg.eta, "full")
    ok = runs.solved
    assert ok.sum() >= 40
    np.testing.assert_allclose(runs.stop_step[ok], steps[ok], rtol=0.05, atol=3)
    flat = ok & (o["eps"] < 1e-3)  # real plateaus: the minimum rate is at the crossing
    assert flat.sum() >= 5
    np.testing.assert_allclose(runs.flatness[flat], 2 * o["eps"][flat], rtol=0.1)


def test_slowdown_exponent_is_one_half():
    curve = slowdown.slowdown_curve(0.2, 1.9, n_points=60)
    extra = curve["time"] - slowdown.balanced_time(0.2, 1.9)
    b, _ = slowdown.fit_slowdown_exponent(curve["eps"], extra)
    assert b == pytest.approx(0.5, abs=0.01)
    local = slowdown.local_exponent(curve)
    assert np.all(np.abs(local[curve["eps"] < 1e-8] - 0.5) < 0.01)
    # the fit recovers a known power law
    eps = np.geomspace(1e-12, 1e-5, 20)
    assert slowdown.fit_slowdown_exponent(eps, 3 * eps ** -0.8)[0] == pytest.approx(0.8)
    with pytest.raises(ValueError, match="at least 2"):
        slowdown.fit_slowdown_exponent(eps, eps, eps_min=1.0, eps_max=2.0)


def test_eps_at_slowdown():
    curve = slowdown.slowdown_curve(0.2, 1.9, n_points=60)
    e10 = slowdown.eps_at_slowdown(curve, 10.0)
    assert 1e-5 < e10 < 1e-4  # order of magnitude of App. A's ~1e-4 (reduced units)
    assert slowdown.eps_at_slowdown(curve, 100.0) < e10 < slowdown.eps_at_slowdown(curve, 3.0)
    # the orbit started at the interpolated flatness is indeed ~10x slower
    k = np.argmin(np.abs(np.log(curve["eps"] / e10)))
    assert 7 < curve["ratio"][k] < 14
    with pytest.raises(ValueError, match="factor"):
        slowdown.eps_at_slowdown(curve, 1e12)
    # scatter version on exact data
    scatter = slowdown.eps_at_slowdown_scatter(curve["eps"], curve["ratio"])
    assert scatter == pytest.approx(e10, rel=0.15)
    assert np.isnan(slowdown.eps_at_slowdown_scatter([1e-3], [10.0]))


def test_start_flatness_and_init_dependence():
    fracs = {}
    for init in ("simplex", "angular", "logit"):
        eps, J = slowdown.start_flatness(0.2, init, 300, np.random.default_rng(1))
        assert J.shape == (300, 2)
        np.testing.assert_allclose(J.sum(axis=1), 0.2, rtol=1e-9)
        assert np.all((eps > 0) & ~np.isnan(eps))
        fracs[init] = np.mean(eps <= 5e-5)
        assert 0.15 < fracs[init] < 0.6
    # lower initial performance: more flat plateaus
    low, _ = slowdown.start_flatness(0.05, "angular", 300, np.random.default_rng(1))
    high, _ = slowdown.start_flatness(0.4, "angular", 300, np.random.default_rng(1))
    assert np.mean(low <= 5e-5) > np.mean(high <= 5e-5) + 0.3
    with pytest.raises(ValueError, match="J0"):
        slowdown.start_flatness(1.2, "angular", 10, np.random.default_rng(0))


def test_batched_fig5_equals_one_call_per_start_rule():
    """Fig. 5 draws every start rule from one Generator and integrates them in one call."""
    setup = chapters.validate("05_appendix_a", J0_list=[0.1, 0.2], n_starts=50)
    runs = type("R", (), {"flatness": np.full(3, np.nan)})()
    f5 = slowdown.figure5(setup, 3e-5, runs)
    rng = np.random.default_rng(setup.seed)
    for init in slowdown.INITS:
        for j0 in (0.1, 0.2):
            eps, _ = slowdown.start_flatness(j0, init, 50, rng)
            np.testing.assert_array_equal(f5["eps"][(init, j0)], eps)
            assert f5["frac"][(init, j0)].value == pytest.approx(np.mean(eps <= 3e-5))
    assert f5["readings"]["simulator, expected updates"].value == 0.0   # NaN = no plateau


def test_lower_J0_worse_can_fail():
    setup = chapters.validate("05_appendix_a", J0_list=[0.1, 0.4], n_starts=10)
    est = slowdown.fraction
    decreasing = {"frac": {(i, j): est(np.arange(100) < (80 if j == 0.1 else 10))
                           for i in slowdown.INITS for j in (0.1, 0.4)}}
    assert slowdown.lower_J0_worse(setup, decreasing)
    increasing = {"frac": {(i, j): est(np.arange(100) < (10 if j == 0.1 else 80))
                           for i in slowdown.INITS for j in (0.1, 0.4)}}
    assert not slowdown.lower_J0_worse(setup, increasing)
    flat = {"frac": {(i, j): est(np.arange(100) < 50) for i in slowdown.INITS
                     for j in (0.1, 0.4)}}
    assert not slowdown.lower_J0_worse(setup, flat)      # overlapping intervals


def test_best_eta_rule():
    from rayint_lib.model.stats import Estimate, wilson

    def row(solved, med):
        return slowdown.Row(None, Estimate(0, 0, 0), wilson(solved, 200),
                            Estimate(med, med, med))

    # 0.30 solves most but 0.10 lies inside its interval and is faster: 0.10 wins
    assert slowdown.best_eta({0.03: row(150, 900), 0.1: row(190, 600), 0.3: row(193, 700)}) == 0.1
    # a clearly worse fraction solved loses even with a faster median
    assert slowdown.best_eta({0.03: row(193, 900), 0.1: row(150, 300)}) == 0.03
    # every median infinite (most runs unsolved): the highest fraction solved
    inf = float("inf")
    assert slowdown.best_eta({0.01: row(70, inf), 0.03: row(73, inf)}) == 0.03


def test_scatter_fit_bootstrap_contains_the_exact_value():
    curve = slowdown.slowdown_curve(0.2, 1.9, n_points=60)
    rng = np.random.default_rng(0)
    noisy = curve["ratio"] * np.exp(0.05 * rng.standard_normal(curve["ratio"].size))
    est = slowdown.eps_at_slowdown_scatter(curve["eps"], noisy, n_boot=500)
    exact = slowdown.eps_at_slowdown(curve, 10.0)
    assert est.low < est.value < est.high
    assert est.low / 1.3 < exact < est.high * 1.3
    assert est.value == pytest.approx(slowdown.eps_at_slowdown_scatter(curve["eps"], noisy))


def test_claims_can_fail():
    """Each claim of the chapter flips its verdict between a passing and a failing value;
    the measured exponent 1/2 satisfies the O(1/eps) bound and a linear cost would too, a
    cost growing faster than 1/eps would not."""
    from rayint_lib.book.claims import NOT_REPRODUCED, REPRODUCED

    for claim in slowdown.CLAIMS.values():
        if claim.rule != "ambiguous":
            assert claim.verdict(claim.example(True)) == REPRODUCED, claim.id
            assert claim.verdict(claim.example(False)) == NOT_REPRODUCED, claim.id
    bound = slowdown.CLAIMS["A-O(1/eps)"]
    assert bound.verdict(0.5) == bound.verdict(1.0) == REPRODUCED
    assert bound.verdict(1.5) == NOT_REPRODUCED
    e10 = slowdown.CLAIMS["A-eps10x"]     # "about 1e-4" to a factor of 2
    assert e10.verdict(np.log10(0.6e-4)) == REPRODUCED
    assert e10.verdict(np.log10(0.3e-4)) == NOT_REPRODUCED


@pytest.mark.parametrize("bad, match", [
    (dict(init="gaussian"), "init"),
    (dict(J0_list=[0.1, 1.5]), r"J0_list\[1\]"),
    (dict(J0_list="0.1"), "J0_list"),
    (dict(etas=[]), "etas"),
    (dict(optimizers=["sgd", "lbfgs"]), r"optimizers\[1\]"),
    (dict(optimizers="sgd,adam"), "optimizers must be a non-empty list"),
    (dict(optimizers=["sgd", "sgd"]), "repeat"),
    (dict(optimizer_etas=[0.1, -1.0]), r"optimizer_etas\[1\]"),
    (dict(curve_window=0), "curve_window"),
    (dict(n_starts=0), "n_starts"),
    (dict(J_end=2.5), "J_end"),
    (dict(n_runs=0), "n_runs"),
])
def test_validation_names_the_parameter(bad, match):
    with pytest.raises(ValueError, match=match):
        chapters.validate("05_appendix_a", **bad)


def test_validation_estimates_memory(monkeypatch):
    monkeypatch.setenv("RAYINT_MAX_MEMORY", "1M")
    with pytest.raises(ValueError, match="n_starts=100000.*memory"):
        chapters.validate("05_appendix_a", n_starts=100_000, n_runs=2,
                          n_runs_deterministic=2)


def test_validation_builds_the_configs():
    v = chapters.validate("05_appendix_a", etas=[0.01, 0.1], optimizers=["sgd", "adam"],
                          optimizer_etas=[0.01, 0.03], curve_window=50, J_end=1.8)
    assert v.deterministic.batch == "expected"
    assert v.deterministic.solved_margin == pytest.approx(0.2)
    assert sorted(v.sampled) == [0.01, 0.1]
    assert v.sampled[0.1].flatness_measure == "expected"
    assert sorted(v.grid) == [("adam", 0.01), ("adam", 0.03), ("adam", 0.1), ("sgd", 0.01),
                              ("sgd", 0.03), ("sgd", 0.1)]       # the shared eta joins the grid
    assert v.grid[("adam", 0.03)].optimizer == "adam"
    assert v.grid[("adam", 0.03)].flatness_measure == "curve"
    assert v.grid[("adam", 0.03)].window == 50


@pytest.mark.slow
def test_notebook_small(run_notebook):
    g = run_notebook("05_appendix_a", n_starts=150, n_runs_deterministic=60, n_runs=30,
                     etas=[0.1], optimizers=["sgd", "momentum"], optimizer_etas=[0.03],
                     max_samples=10_000, J0_list=[0.05, 0.2])
    assert 1e-5 < g["eps_10x_slowdown"] < 1e-4
    assert g["eps_10x_slowdown_full"] == pytest.approx(2 * g["eps_10x_slowdown"])
    assert g["slowdown_exponent"] == pytest.approx(0.5, abs=0.02)
    assert 0.1 < g["frac_J0_0.2_flatter_than_10x"] < 0.6
    assert g["a_frac_min"] <= g["frac_J0_0.2_flatter_than_10x"] <= g["a_frac_max"]
    for name in ("frac_J0_0.2_flatter_than_10x", "a_bad_opt_momentum", "a_solved_best_sgd"):
        assert g[f"{name}_ci_low"] <= g[name] <= g[f"{name}_ci_high"], name
        assert g[f"{name}_ci_high"] - g[f"{name}_ci_low"] > 0.05, name   # 30 to 150 runs
    assert g["a_eta_best_momentum"] in (0.03, 0.1)

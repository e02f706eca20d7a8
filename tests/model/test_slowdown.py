"""App. A's numerics (model.slowdown): orbits against an independent ODE solver, the balanced
run in closed form, the cost exponent of a plateau, the 10x flatness, the plateaus that random
starts meet."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp

from rayint_lib.model import slowdown
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


def test_scatter_fit_bootstrap_contains_the_exact_value():
    curve = slowdown.slowdown_curve(0.2, 1.9, n_points=60)
    rng = np.random.default_rng(0)
    noisy = curve["ratio"] * np.exp(0.05 * rng.standard_normal(curve["ratio"].size))
    est = slowdown.eps_at_slowdown_scatter(curve["eps"], noisy, n_boot=500)
    exact = slowdown.eps_at_slowdown(curve, 10.0)
    assert est.low < est.value < est.high
    assert est.low / 1.3 < exact < est.high * 1.3
    assert est.value == pytest.approx(slowdown.eps_at_slowdown_scatter(curve["eps"], noisy))

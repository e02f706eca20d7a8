"""Deep linear networks (Sec. 3.4): closed form, simulation, per-mode gradients, chapter 04."""
from __future__ import annotations

import numpy as np
import pytest

from rayint_lib import chapters
from rayint_lib.model import deep_linear as dl
from rayint_lib.model.plateaus import plateaus

S = (4.0, 1.0, 0.25)
DETECTOR = dict(normalise="start-to-top", tolerance=0.02, min_ratio=2.0, after=0.04)  # ch. 04


@pytest.fixture(scope="module")
def task():
    return dl.make_task(S, np.random.default_rng(1))


def test_task_has_identity_input_correlation(task):
    assert np.allclose(task.sigma_xx, np.eye(3), atol=1e-12)
    assert np.allclose(task.sigma_yx, (task.U * task.s) @ task.V.T, atol=1e-12)


def test_closed_form_solves_the_mode_ode():
    t = np.linspace(0, 10, 2001)
    for s, a0 in [(4.0, 1e-4), (0.25, 1e-3), (1.0, 0.9)]:
        a = dl.saxe_mode(t, s, a0)
        assert a[0] == pytest.approx(a0, rel=1e-12)
        dadt = np.gradient(a, t)
        assert np.allclose(dadt[5:-5], 2 * a[5:-5] * (s - a[5:-5]), atol=2e-3 * s ** 2)
        assert dl.saxe_mode(dl.saxe_half_time(s, a0), s, a0) == pytest.approx(s / 2, rel=1e-9)
    assert np.isfinite(dl.saxe_mode(1e6, 4.0, 1e-12))  # no overflow for large s t


def test_simulation_converges_to_closed_form_linearly_in_step_size(task):
    cfg = dl.DeepLinearConfig(singular_values=S, eta=0.04, n_steps=500, eta_closed_form=0.004,
                              aligned_strength=1e-3)
    runs = dl.closed_form_check(task, cfg, np.random.default_rng(0))
    errors = {eta: dl.closed_form_error(tr, cfg.aligned_strength) for eta, tr in runs.items()}
    assert errors[0.004] < 0.02
    assert errors[0.016] > errors[0.008] > errors[0.004]
    assert 0.9 < dl.convergence_order(errors) < 1.1        # error ~ eta


def test_per_mode_gradients_add_up_to_the_full_gradient(task):
    rng = np.random.default_rng(2)
    W1, W2 = dl.init_random(rng, 4, 6, 3, 3, 0.5)
    E = task.sigma_yx - W2 @ W1
    full = np.concatenate([(-np.swapaxes(W2, 1, 2) @ E).reshape(4, -1),
                           np.swapaxes(-E @ np.swapaxes(W1, 1, 2), 1, 2).reshape(4, -1)], axis=1)
    for dec in ("input", "output"):
        G = dl.mode_gradients(W1, W2, task, dec)
        assert np.allclose(G.sum(1), full, atol=1e-10)
    # the diagonal mode strengths have exactly orthogonal gradients, whatever the weights
    cos, _ = dl.gradient_cosines(dl.mode_gradients(W1, W2, task, "strength"))
    off = ~np.eye(3, dtype=bool)
    assert np.abs(cos[:, off]).max() < 1e-12
    cos_in, _ = dl.gradient_cosines(dl.mode_gradients(W1, W2, task, "input"))
    assert np.abs(cos_in[:, off]).max() > 1e-3                 # not trivially zero at large weights


def test_stages_plateaus_and_the_shallow_contrast(task):
    rng = np.random.default_rng(3)
    W1, W2 = dl.init_random(rng, 4, 16, 3, 3, 1e-4)
    deep = dl.train(W1, W2, task, 0.02, 2500)
    th = dl.half_times(deep)
    assert np.all(np.diff(th, axis=1) > 0)                     # largest singular value first
    assert [len(p) for p in plateaus(deep.t, deep.progress, **DETECTOR)] == [2] * 4
    shallow = dl.train_shallow(1e-4 * rng.standard_normal((4, 3, 3)), task, 0.02, 2500)
    assert [len(p) for p in plateaus(shallow.t, shallow.progress, **DETECTOR)] == [0] * 4
    assert [len(p) for p in plateaus(shallow.t, shallow.loss_progress, **DETECTOR)] == [0] * 4
    # learning speed against own performance: ~ p for the deep network, ~ constant for shallow
    assert np.all(np.abs(dl.low_performance_slope(deep) - 1) < 0.1)
    assert np.all(np.abs(dl.low_performance_slope(shallow)) < 0.1)
    orth = dl.train(*dl.init_orthogonal(rng, 4, 16, 3, 3), task, 0.02, 2500)
    assert [len(p) for p in plateaus(orth.t, orth.progress, **DETECTOR)] == [0] * 4


def test_measures_on_known_curves():
    t = np.linspace(0, 1, 11)
    p = np.array([[0, 0.2, 0.4, 0.3, 0.6, 0.8, 1, 1, 1, 1, 1.0]])
    assert dl.max_regression(p)[0] == pytest.approx(0.1)
    assert dl.crossing_times(t, p, 0.5)[0] == pytest.approx(0.3 + 0.1 * (0.5 - 0.3) / 0.3)
    assert np.isnan(dl.crossing_times(t, p, 2.0)[0])


@pytest.mark.parametrize("bad, name", [
    (dict(singular_values=[1.0, 2.0]), "singular_values must be distinct and in decreasing"),
    (dict(singular_values=[]), "singular_values must be a non-empty list"),
    (dict(singular_values=[4.0, -1.0]), r"singular_values\[1\]"),
    (dict(singular_values="4,1"), "singular_values must be a non-empty list"),
    (dict(eta=0.5), "eta"),
    (dict(hidden=2), "hidden"),
    (dict(init_scale=0.0), "init_scale"),
    (dict(eta_closed_form=0.1), "eta_closed_form"),
    (dict(aligned_strength=1.0), "aligned_strength"),
])
def test_validation_names_the_parameter(bad, name):
    base = dict(singular_values=list(S), hidden=16, eta=0.02, init_scale=1e-4, n_steps=2500,
                n_runs=20, seed=0, eta_closed_form=0.002, aligned_strength=1e-4)
    with pytest.raises(ValueError, match=name):
        chapters.validate("04_deep_linear", **{**base, **bad})


def test_slope_sums_pool_like_a_direct_fit(task):
    rng = np.random.default_rng(5)
    W1, W2 = dl.init_random(rng, 3, 8, 3, 3, 1e-3)
    tr = dl.train(W1, W2, task, 0.02, 800)
    p, dp = dl.rates(tr)
    for i, slope in enumerate(dl.low_performance_slope(tr)):
        x, y = p[..., i].ravel(), dp[..., i].ravel()
        m = (x >= 1e-3) & (x <= 1e-1) & (y > 0)
        assert slope == pytest.approx(np.polyfit(np.log(x[m]), np.log(y[m]), 1)[0], rel=1e-9)


def test_memory_estimate_stops_huge_runs(monkeypatch):
    monkeypatch.setenv("RAYINT_MAX_MEMORY", "64M")
    with pytest.raises(ValueError, match="n_runs=2000, n_steps=100000.*memory"):
        dl.DeepLinearConfig(n_runs=2000, n_steps=100_000)
    assert dl.DeepLinearConfig().memory_bytes() < 64 * 2**20


@pytest.mark.slow
def test_notebook_runs_with_small_parameters(run_notebook):
    g = run_notebook("04_deep_linear", n_runs=3, n_steps=1500, eta=0.04, eta_closed_form=0.008,
                     aligned_strength=1e-3)
    assert g["saxe_closed_form_max_error"] < 0.05
    assert 0.9 < g["closed_form_order"] < 1.1
    assert g["fraction_ordered"] == 1.0
    assert g["plateaus_per_run_min"] == g["plateaus_per_run_max"] == 2
    assert -0.05 < g["mode_gradient_cosine_min"] <= 0.0
    assert g["mode_max_regression"] < 1e-3
    assert g["low_perf_slope_deep"] > 0.8                       # the paper's contrast fails
    assert g["orthogonal_plateaus_mean"] == 0 and g["shallow_plateaus_mean"] == 0
    assert g["remedy_speedup"] > 5
    assert g["remedy_speedup_ci_low"] <= g["remedy_speedup"] <= g["remedy_speedup_ci_high"]
    assert g["fraction_ordered_ci_low"] < 0.5                   # 3 runs decide little

"""The bandit of Sec. 2: gradients, updates, seeds, Eqs. (1)-(2)."""

import numpy as np
import pytest

from rayint_lib.model import bandit, dynamics, updates
from rayint_lib.model.config import BanditConfig
from rayint_lib.model.simulate import simulate_reference


@pytest.mark.parametrize("policy", ["shared_bias", "tabular", "separate"])
@pytest.mark.parametrize("K,n", [(2, 2), (3, 5), (4, 4)])
def test_analytic_gradients_match_finite_differences(policy, K, n):
    logits = 2 * np.random.default_rng(K * n).standard_normal((6, K, n))
    analytic = bandit.parameter_gradients(logits, policy)
    numeric = bandit.finite_difference_gradients(logits, policy)
    np.testing.assert_allclose(analytic, numeric, atol=1e-8)


def test_interference_is_minus_half_in_2x2_and_zero_without_shared_bias():
    logits = 4 * np.random.default_rng(1).standard_normal((500, 2, 2))
    np.testing.assert_allclose(bandit.interference(logits)[:, 0, 1], -0.5, atol=1e-12)
    np.testing.assert_allclose(bandit.interference(logits, "tabular")[:, 0, 1], 0.0, atol=1e-12)


@pytest.mark.parametrize(
    "learner,weighting",
    [
        ("on_policy", "none"),
        ("off_policy", "none"),
        ("off_policy", "importance"),
        ("supervised", "none"),
    ],
)
def test_mean_of_sampled_updates_matches_expected_update(learner, weighting):
    """Mean of 200k one-sample-per-context updates within 5 standard errors of the expectation."""
    rng = np.random.default_rng(7)
    logits = np.repeat(rng.standard_normal((1, 3, 4)), 200_000, axis=0)
    sampled = updates.logit_directions(logits, learner, "sampled", rng, weighting)
    expected = updates.logit_directions(logits[:1], learner, "expected", weighting=weighting)[0]
    mean = sampled.mean(axis=0)
    se = sampled.std(axis=0) / np.sqrt(sampled.shape[0])
    assert np.all(np.abs(mean - expected) <= 5 * se + 1e-9)  # 1e-9: float summation error


def small(**kw):
    return BanditConfig(**{"n_runs": 20, "max_samples": 2_000, "n_checkpoints": 20, **kw})


def test_same_seed_is_bit_identical_and_different_seeds_differ():
    a, b, c = (
        simulate_reference(small(seed=3)),
        simulate_reference(small(seed=3)),
        simulate_reference(small(seed=4)),
    )
    assert np.array_equal(a.curves, b.curves) and np.array_equal(
        a.flatness, b.flatness, equal_nan=True
    )
    assert not np.array_equal(a.curves, c.curves)


def test_eqs_1_2_match_a_small_expected_step_of_the_simulator():
    """In the full (W, b) parameters every rate is twice Eqs. (1)-(2) (reduced parameters)."""
    rng = np.random.default_rng(0)
    J = rng.uniform(0.05, 0.95, size=(50, 2))
    logits = bandit.logits_2x2(J[:, 0], J[:, 1])
    eta = 1e-6
    W, b = bandit.split_logits(logits, "shared_bias", rng)
    params = {"W": W, "b": b}
    g = updates.logit_directions(logits, "on_policy", "expected")
    updates.Optimizer("sgd", eta).step(
        params, updates.parameter_gradients_from_logits(g, "shared_bias")
    )
    after = bandit.right_arm_probs(updates.logits_from_parameters(params, "shared_bias"))
    rate = (after - J) / eta
    expected = 2 * np.column_stack(dynamics.jdot_rl(J[:, 0], J[:, 1]))
    np.testing.assert_allclose(rate, expected, atol=1e-5)


@pytest.mark.parametrize("init", ["simplex", "angular", "logit"])
def test_initial_logits_have_the_requested_total_performance(init):
    rng = np.random.default_rng(0)
    logits = bandit.initial_logits(4, 6, 0.4, 50, rng, init=init)
    np.testing.assert_allclose(bandit.performance(logits), 0.4, rtol=1e-9)


def test_no_nan_for_large_logits():
    logits = np.array([[[800.0, -800.0], [-900.0, 900.0]]])
    assert np.isfinite(bandit.softmax(logits)).all()
    assert np.isfinite(updates.expected_progress_rate(logits, "on_policy", "shared_bias")).all()


def test_expected_runs_are_deterministic_and_reach_the_optimum():
    runs = simulate_reference(small(batch="expected", J0=1.0, max_samples=20_000))
    assert runs.solved.all()
    assert np.all(runs.curves[:, -1].sum(axis=1) >= 2 - 0.1)

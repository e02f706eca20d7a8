"""The one record of a batch of runs (App. A): checkpoint grid, flatness window, stop rule,
shared by the linear engine and the JAX trainers."""
import jax.numpy as jnp
import numpy as np
import pytest

from rayint_lib.model.deep.agent import AgentSpec
from rayint_lib.model.deep.bandit import MLPBanditSpec
from rayint_lib.model.record import BanditRuns, checkpoint_steps, flattest_window


@pytest.mark.parametrize("T, n, window", [(1000, 20, 1), (1000, 20, 10), (50_000, 60, 10),
                                          (37, 5, 3)])
def test_checkpoint_grid_is_log_spaced_in_whole_windows(T, n, window):
    steps = checkpoint_steps(T, n, window)
    assert steps[0] == 0 and steps[-1] == T // window * window and steps.dtype == np.int64
    assert (np.diff(steps) > 0).all() and (steps % window == 0).all() and steps.size <= n
    late = steps[steps.size // 2:]
    assert (np.diff(np.log(late)) < 1.0).all()          # log-spaced: bounded ratios


def test_trainers_use_the_one_grid():
    spec = MLPBanditSpec(max_samples=20_000, window=10, n_checkpoints=30)
    assert np.array_equal(spec.steps, checkpoint_steps(10_000, 30, 10))
    agent = AgentSpec(n_updates=500, window=5, n_checkpoints=12)
    assert np.array_equal(agent.steps, checkpoint_steps(500, 12, 5))


def test_flattest_window_same_on_numpy_and_jax():
    rng = np.random.default_rng(0)
    J_k = rng.uniform(0, 1, (6, 3)).astype(np.float32)
    slope = rng.uniform(0, 1, 6).astype(np.float32)
    counts = np.array([True, True, False, True, True, False])
    flat = np.array([np.inf, 0.5, 0.1, 0.01, np.inf, np.inf], np.float32)
    flattest = np.full((6, 3), np.nan, np.float32)
    run_max = np.array([0.0, 3.0, 3.0, 3.0, 0.0, 3.0], np.float32)
    out = flattest_window(np, flat, flattest, run_max, J_k, slope, counts, 1.0)
    jout = [flattest_window(jnp, flat[i], flattest[i], run_max[i], J_k[i], slope[i],
                            counts[i], 1.0) for i in range(6)]
    for a, b in zip(out, zip(*jout)):
        assert np.array_equal(a, np.stack(b), equal_nan=True)
    # counts only running runs past the start threshold, and only slopes below the minimum
    better = counts & (np.maximum(run_max, J_k.sum(1)) >= 1.0) & (slope < flat)
    assert np.array_equal(out[0], np.where(better, slope, flat))
    assert np.isnan(out[1][~better]).all() and np.array_equal(out[1][better], J_k[better])


def test_collect_applies_the_stop_rule_and_marks_missing_flatness():
    class Config:
        solved_margin = 0.1
        eta = 0.5
    final = np.array([[0.95, 0.96], [0.9, 0.9], [0.2, 0.1]])
    runs = BanditRuns.collect(Config(), np.array([0, 10]), np.zeros((3, 2, 2)),
                              np.zeros((3, 2)), np.array([5, 10, 10]), final,
                              np.array([0.1, np.inf, 1e-7]), np.zeros((3, 2)))
    assert list(runs.solved) == [True, False, False] and runs.K == 2
    assert np.isnan(runs.flatness[1]) and list(runs.flat(1e-5)) == [False, False, True]
    assert np.allclose(runs.samples_to_solve, [10, np.nan, np.nan], equal_nan=True)

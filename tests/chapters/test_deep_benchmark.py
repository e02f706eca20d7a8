"""Chapter 03c_deep_benchmark: validation names bad parameters, the measures read curves
correctly, and the notebook runs and glues issue 20's names."""
import numpy as np
import pytest

from rayint_lib.chapters import deep_benchmark as ch
from rayint_lib.model.deep.ppo import PPORuns


def _runs(cfg, finals_at):
    """Fake runs of 3 seeds whose task k jumps from 0 to 1 at checkpoint ``finals_at[i][k]``
    (``None``: never)."""
    spec = cfg.spec()
    T = len(spec.steps)
    curves = np.zeros((len(finals_at), T, cfg.K))
    for i, row in enumerate(finals_at):
        for k, j in enumerate(row):
            if j is not None:
                curves[i, j:, k] = 1.0
    returns = curves * 0.99
    return PPORuns(spec, spec.steps, curves, returns, np.full((len(finals_at), T), -0.1))


def test_defaults_validate():
    cfg = ch.validate()
    assert cfg.K == 2 and cfg.env_steps == 100 * 16 * 32


@pytest.mark.parametrize("name,value", [
    ("K", 1), ("K", 17), ("size", 1), ("mapping_seed", -1), ("seeds", 1), ("n_updates", 1),
    ("num_envs", 0), ("num_steps", 2), ("lr", 0.0), ("ent_coef", -1.0), ("depth", 0),
    ("width", 0), ("seed", -1),
])
def test_bad_parameters_are_named(name, value):
    with pytest.raises(ValueError, match=name):
        ch.validate(**{name: value})


def test_memory_and_time_estimates_refuse_huge_runs(monkeypatch):
    monkeypatch.setenv("RAYINT_MAX_MEMORY", "1M")
    with pytest.raises(ValueError, match="memory"):
        ch.validate(seeds=10_000)
    monkeypatch.delenv("RAYINT_MAX_MEMORY")
    monkeypatch.delenv("RAYINT_FORCE", raising=False)
    with pytest.raises(ValueError, match="day"):
        ch.validate(seeds=100, n_updates=10**7)


def test_measures_read_the_order_in_which_tasks_are_learned():
    cfg = ch.validate(n_updates=100)
    T = len(cfg.spec().steps)
    r = _runs(cfg, [(3, 3), (3, None), (2, T - 1)])
    assert list(ch.learned_all(r)) == [True, False, True]
    assert list(ch.learned_tasks(r)) == [2, 1, 2]
    assert list(ch.sequential(r)) == [False, True, True]
    assert ch.final_return(r).value == pytest.approx(0.99 * 5 / 6)
    assert ch.cosine_median(r).value == pytest.approx(-0.1)
    assert ch.all_given_one(r).value == pytest.approx(2 / 3)
    assert ch.stalled(r).sum(axis=1).tolist() == [0, T - 3, T - 3]
    assert ch.cosine_stalled(r).value == pytest.approx(-0.1)
    assert np.isnan(ch.cosine_stalled(_runs(cfg, [(3, 3)] * 3)).value)
    d = ch.gap(ch.final_returns(r), ch.final_returns(_runs(cfg, [(3, 3)] * 3)))
    assert d.value == pytest.approx(0.99 * 5 / 6 - 0.99) and d.high < 0.01 and d.low < d.value


def test_random_policy_success_is_two_to_the_minus_size():
    assert ch.random_success(ch.validate(size=6)) == pytest.approx(2.0 ** -6, rel=1e-5)


@pytest.mark.slow
def test_notebook_runs_with_small_parameters(run_notebook):
    g = run_notebook("03c_deep_benchmark", size=4, seeds=4, n_updates=10, num_envs=4,
                     num_steps=8, width=16)
    assert g["bench_env"].startswith("2 x DeepSea-bsuite")
    for name in ("bench_frac_one_at_a_time_shared", "bench_frac_one_at_a_time_separate",
                 "bench_final_return_shared", "bench_final_return_separate",
                 "bench_grad_cosine_median_shared", "bench_return_gap",
                 "bench_one_at_a_time_gap"):
        assert g[f"{name}_ci_low"] <= g[name] <= g[f"{name}_ci_high"], name

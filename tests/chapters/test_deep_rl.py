"""Chapter 03b_deep_rl: validation names bad parameters; the notebook runs and glues."""
import pytest

from rayint_lib.chapters import deep_rl as ch


def test_defaults_validate():
    cfg = ch.validate()
    assert ch.REFERENCE in cfg.architectures and (0, 0) in cfg.architectures


@pytest.mark.parametrize("name,value", [
    ("K", 5), ("K", 1), ("n", 1), ("eta", 0.0), ("bandit_runs", 1), ("max_samples", 3),
    ("depths", []), ("depths", [1, -1]), ("widths", "64"), ("room_size", 4),
    ("horizon", 5), ("rl_depth", 0), ("optimizer", "rmsprop"), ("lr", -1.0),
    ("rl_seeds", 1), ("env_steps", 10), ("mixtures", [0.0]), ("mixtures", [1.5]),
    ("seed", -1),
])
def test_bad_parameters_are_named(name, value):
    with pytest.raises(ValueError, match=name.split("_")[0]):
        ch.validate(**{name: value})


def test_memory_estimate_rejects_huge_runs(monkeypatch):
    monkeypatch.setenv("RAYINT_MAX_MEMORY", "1M")
    with pytest.raises(ValueError, match="memory"):
        ch.validate(bandit_runs=100_000, widths=[1024])


def test_claims_can_fail():
    for claim in ch.CLAIMS.values():
        assert claim.verdict(claim.example(True)) == "reproduced"
        assert claim.verdict(claim.example(False)) == "not reproduced"


@pytest.mark.slow
def test_notebook_runs_with_small_parameters(run_notebook):
    g = run_notebook("03b_deep_rl", bandit_runs=8, max_samples=400, depths=[0, 1],
                     widths=[8], rl_seeds=4, env_steps=8000, episodes=4, mixtures=[0.1],
                     seed=1)
    for name in ("mlp_table", "mlp_frac_eps_le_1e-5_depth2_width64", "rl_frac_flat_onpolicy",
                 "rl_frac_flat_separate", "rl_frac_flat_mixture", "rl_frac_flat_supervised",
                 "rl_median_steps_onpolicy"):
        assert name in g, name
        if name != "mlp_table":
            assert f"{name}_ci_low" in g and f"{name}_ci_high" in g

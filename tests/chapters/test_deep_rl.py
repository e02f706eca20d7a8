"""Chapter 03b_deep_rl: validation names bad parameters; the notebook runs and glues."""
import pytest

from rayint_lib.chapters import deep_rl as ch


def test_defaults_validate():
    cfg = ch.validate()
    assert ch.REFERENCE in cfg.architectures and (0, 0) in cfg.architectures


@pytest.mark.parametrize("name,value", [
    ("K", 1), ("n", 1), ("eta", 0.0), ("bandit_runs", 1), ("max_samples", 3),
    ("depths", []), ("depths", [1, -1]), ("widths", "64"), ("room_length", 0),
    ("room_length", 13), ("more_K", [1]), ("more_K", [9]), ("more_K", "48"), ("K", 9),
    ("rl_depth", 0), ("optimizer", "rmsprop"), ("lr", -1.0),
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


def test_room_measures_on_constructed_curves():
    """learned times, all learned, one at a time and gaps on hand-made curves."""
    from types import SimpleNamespace

    import numpy as np

    from rayint_lib.chapters import deep_rl_rooms as rr
    grid = np.array([0, 10, 100, 1000])
    curves = np.array([[[0, 0], [0.6, 0], [0.9, 0.1], [1, 0.7]],      # one at a time
                       [[0, 0], [0.6, 0.6], [1, 1], [1, 1]],          # together
                       [[0, 0], [0.6, 0], [0.9, 0], [1, 0.001]]])     # one room stalls
    runs = SimpleNamespace(curves=curves, env_step_grid=grid,
                           coupling=np.ones_like(curves) * 0.2)
    assert rr.learned_times(runs)[0].tolist() == [10, 1000]
    assert rr.all_learned(runs).tolist() == [True, True, False]
    assert rr.one_at_a_time(runs).tolist() == [True, False, True]
    gaps = rr.time_between_rooms(runs)
    assert gaps[0] == 990 and gaps[1] == 0 and np.isinf(gaps[2])
    low = rr.low_J_coupling(runs)
    assert np.isnan(low[:2]).all() and low[2] == 0.2


def test_claims_can_fail():
    for claim in ch.CLAIMS.values():
        assert claim.verdict(claim.example(True)) == "reproduced"
        assert claim.verdict(claim.example(False)) == "not reproduced"


@pytest.mark.slow
def test_notebook_runs_with_small_parameters(run_notebook):
    g = run_notebook("03b_deep_rl", bandit_runs=8, max_samples=400, depths=[0, 1],
                     widths=[8], rl_seeds=4, env_steps=8000, episodes=4, mixtures=[0.1],
                     more_K=[3], seed=1)
    for name in ("mlp_table", "mlp_frac_eps_le_1e-5_depth2_width64",
                 "rooms_frac_all_learned_shared", "rooms_frac_all_learned_separate",
                 "rooms_frac_one_at_a_time_shared", "rooms_frac_one_at_a_time_separate",
                 "rooms_grad_cosine_median_shared", "rooms_coupling_ratio_low_J", "rooms_J0",
                 "rooms_K3_frac_all_learned_shared", "rooms_K3_frac_one_at_a_time_separate",
                 "rooms_K3_grad_cosine_median_shared", "rooms_K3_gap_shared"):
        assert name in g, name
        if name != "mlp_table":
            assert f"{name}_ci_low" in g and f"{name}_ci_high" in g
    assert g["rooms_J_uniform"] == pytest.approx(4.0 ** -5)

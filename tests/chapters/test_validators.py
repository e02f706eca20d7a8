"""The validators of chapters 02, 05, 06 and 07 name the parameter and its allowed range, and
estimate memory, before any work: one table of bad values per chapter, one test for all."""
from __future__ import annotations

import pytest

from rayint_lib import chapters

SMALL_06 = dict(eps_list=[0.1], n_grid=50, sampled_J0=[0.2], n_runs=5, max_samples=1000,
                eta=0.1, mc_samples=1000, mc_radius=1e-3, sup_grid=5, seed=0)

# notebook: (values that pass, [(bad values, what the message must match), ...])
BAD = {
    "02_factored_objectives": ({}, [
        ({"mix_fraction": 0.0}, "mix_fraction"), ({"powers": [0.5]}, r"powers\[0\]"),
        ({"rhos": "-0.5, 0.5"}, "rhos must be a non-empty list"),
        ({"rhos": [1.0]}, r"rhos\[0\]"), ({"K_values": [3, 3, 4]}, "at least three different K"),
        ({"K_values": [2, 9]}, r"K_values\[1\]"), ({"basin_K": [1]}, r"basin_K\[0\]"),
        ({"n_starts": 5}, "n_starts"), ({"basin_eps": 0.0}, "basin_eps")]),
    "05_appendix_a": ({}, [
        ({"init": "gaussian"}, "init"), ({"J0_list": [0.1, 1.5]}, r"J0_list\[1\]"),
        ({"J0_list": "0.1"}, "J0_list"), ({"etas": []}, "etas"),
        ({"optimizers": ["sgd", "lbfgs"]}, r"optimizers\[1\]"),
        ({"optimizers": "sgd,adam"}, "optimizers must be a non-empty list"),
        ({"optimizers": ["sgd", "sgd"]}, "repeat"),
        ({"optimizer_etas": [0.1, -1.0]}, r"optimizer_etas\[1\]"),
        ({"curve_window": 0}, "curve_window"), ({"n_starts": 0}, "n_starts"),
        ({"J_end": 2.5}, "J_end"), ({"n_runs": 0}, "n_runs"), ({"tune_runs": 1}, "tune_runs")]),
    "06_appendix_b": (SMALL_06, [
        ({"eps_list": [0.2]}, r"eps_list\[0\]"), ({"eps_list": []}, "eps_list"),
        ({"eps_list": "0.1"}, "eps_list"), ({"n_grid": 5}, "n_grid"),
        ({"sampled_J0": [0.5, 1.5]}, r"sampled_J0\[1\]"), ({"eta": 0.0}, "eta"),
        ({"seed": -1}, "seed"), ({"mc_samples": 10}, "mc_samples"), ({"sup_grid": 1}, "sup_grid")]),
    "07_appendix_c": ({}, [
        ({"d": 9}, "d"), ({"powers": [0.5]}, r"powers\[0\]"), ({"powers": "1,2"}, "powers"),
        ({"bandit_actions": [3, 1]}, r"bandit_actions\[1\]"), ({"skews": []}, "skews"),
        ({"xi": 0.0}, "xi"), ({"n_heights": 1}, "n_heights")]),
}

# (notebook, memory budget, values, what the message must match)
MEMORY = [
    ("02_factored_objectives", "64M", {"n_starts": 10**6}, "n_starts, basin_K would need"),
    ("02_factored_objectives", "64M", {"bandit_actions": [100], "skews": [0.0]},
     "bandit_actions would need"),
    ("05_appendix_a", "1M", {"n_starts": 100_000, "n_runs": 2, "tune_runs": 2,
                             "n_runs_deterministic": 2},
     "n_starts=100000.*memory"),
    ("06_appendix_b", "20M", {**SMALL_06, "mc_samples": 10**6}, "mc_samples"),
    ("06_appendix_b", "20M", {**SMALL_06, "sup_grid": 100}, "sup_grid"),
    ("06_appendix_b", "20M", {**SMALL_06, "n_grid": 2000}, "n_grid"),
    ("07_appendix_c", "100k", {}, "n_heights"),
]


@pytest.mark.parametrize("notebook, good, bad, match",
                         [(nb, good, bad, m) for nb, (good, cases) in BAD.items()
                          for bad, m in cases])
def test_validator_names_the_parameter(notebook, good, bad, match):
    chapters.validate(notebook, **good)
    with pytest.raises(ValueError, match=match):
        chapters.validate(notebook, **{**good, **bad})


@pytest.mark.parametrize("notebook, budget, values, match", MEMORY)
def test_validator_estimates_memory(monkeypatch, notebook, budget, values, match):
    monkeypatch.setenv("RAYINT_MAX_MEMORY", budget)
    with pytest.raises(ValueError, match=match):
        chapters.validate(notebook, **values)

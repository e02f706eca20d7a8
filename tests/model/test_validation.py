"""Bad parameters raise a clear ValueError naming the parameter, before any work."""
import pytest

from rayint_lib import chapters
from rayint_lib.model.config import BanditConfig, make_config

GOOD = dict(K=2, n=2, eta=0.1, J0=None, n_runs=10, max_samples=1000, seed=0)

BAD = [
    ("K", 0, "K must be in"), ("K", -3, "K must be in"), ("K", 2.0, "K must be an integer"),
    ("K", "2", "K must be an integer"), ("n", 1, "n must be in"),
    ("n", 3.5, "n must be an integer"), ("eta", 0.0, "eta must be in"),
    ("eta", -0.1, "eta must be in"), ("eta", float("inf"), "eta must be finite"),
    ("eta", float("nan"), "eta must be finite"), ("eta", "0.1", "eta must be a real number"),
    ("J0", 0.0, "J0 must be in"), ("J0", 2.0, "J0 must be in"), ("J0", -1.0, "J0 must be in"),
    ("n_runs", 0, "n_runs must be in"), ("n_runs", True, "n_runs must be an integer"),
    ("seed", -1, "seed must be in"), ("max_samples", 1, "max_samples must be in"),
]


@pytest.mark.parametrize("name,value,message", BAD)
def test_invalid_parameter_names_itself(name, value, message):
    with pytest.raises(ValueError, match=message):
        BanditConfig(**{**GOOD, name: value})
    with pytest.raises(ValueError, match=name):
        chapters.validate("01_minimal_bandit", **{**GOOD, name: value})


def test_n_smaller_than_K_is_rejected():
    with pytest.raises(ValueError, match="n must be >= K"):
        BanditConfig(K=4, n=3)


@pytest.mark.parametrize("name,value", [("learner", "sarsa"), ("policy", "mlp"),
                                        ("optimizer", "lbfgs"), ("init", "zeros"),
                                        ("batch", "full")])
def test_unknown_setting_values_are_listed(name, value):
    with pytest.raises(ValueError, match=f"{name} must be one of"):
        BanditConfig(**{name: value})


def test_unknown_setting_names_are_rejected():
    with pytest.raises(ValueError, match="unknown setting"):
        make_config(K=2, etta=0.1)
    with pytest.raises(ValueError, match="unknown setting"):
        BanditConfig().replace(learning_rate=0.1)

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


# --- declarations (model.params) and bounded messages ---------------------------------------

def test_a_declaration_checks_types_ranges_choices_and_names():
    from rayint_lib.model.params import Param, declare

    d = declare(Param("k", 2, "an int", low=1, high=4), Param("xs", [0.5], "reals", low=0),
                Param("mode", "a", "a choice", choices=("a", "b")),
                Param("j", None, "optional", float, low=0, low_open=True))
    assert d.check({}) == {"k": 2, "xs": [0.5], "mode": "a", "j": None}
    assert d.check({"xs": (1, 2), "j": 3})["xs"] == [1.0, 2.0]
    assert d["xs"].type_name == "list[float]" and d["j"].type_name == "float or None"
    assert d["k"].allowed == "[1, 4]" and d["mode"].allowed == "a | b"
    for values, message in [({"k": 5}, r"k must be in \[1, 4\]"), ({"k": 2.0}, "k must be an int"),
                            ({"xs": [-1.0]}, r"xs\[0\] must be in"), ({"xs": []}, "non-empty"),
                            ({"xs": [0.1] * 65}, "at most 64 entries"),
                            ({"mode": "c"}, "mode must be one of"), ({"j": 0.0}, "j must be in"),
                            ({"kk": 1}, "unknown parameter")]:
        with pytest.raises(ValueError, match=message):
            d.check(values)
    with pytest.raises(ValueError, match="declared twice"):
        declare(Param("a", 1, ""), Param("a", 2, ""))


def test_messages_quote_a_short_prefix_of_any_value():
    from rayint_lib.model.config import check_float, check_int, clip, short

    deep = []
    for _ in range(100_000):
        deep = [deep]
    for bad in ("x" * 10**6, deep, list(range(10**6)), 10**4000):
        with pytest.raises(ValueError) as err:
            check_float("v", bad, 0, 1) if not isinstance(bad, int) else check_int("v", bad, 0, 1)
        assert len(str(err.value)) < 300
    assert len(short("y" * 10**6)) <= 100 and len(clip("/a" * 10**5)) == 100


@pytest.mark.parametrize("text", ["inf", "nan", "-1G", "1e400", "abc", "0", "2E"])
def test_a_bad_memory_limit_is_refused(text, monkeypatch):
    from rayint_lib.model.config import memory_limit

    monkeypatch.setenv("RAYINT_MAX_MEMORY", text)
    with pytest.raises(ValueError, match="RAYINT_MAX_MEMORY must be a size"):
        memory_limit()

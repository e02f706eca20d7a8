"""Validator of tests/data/tiny.ipynb (registered by tests/cli/test_cli.py only)."""
from rayint_lib.model.config import check_time
from rayint_lib.model.params import Param, declare

PARAMS = declare(
    Param("a", 2, "a positive integer", low=1, high=100),
    Param("x", 0.5, "a number in [0, 1]", low=0, high=1),
    Param("label", "hi", "any text"),
    Param("J0", None, "None or a positive number", float, low=0, low_open=True),
    Param("fail", False, "raise an error in the notebook"),
    Param("sleep", 0.0, "seconds to sleep (to test interruptions)", low=0, high=60),
)


def validate(**values):
    v = PARAMS.check(values)
    check_time(f"a={v['a']}", v["a"] * 1000.0, "a x 1000 s, pretend")  # a > 86: over a day
    return v["a"], v["x"]

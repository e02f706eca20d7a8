"""Validator of tests/data/tiny.ipynb (registered by tests/test_cli.py only)."""
from rayint_lib.model.config import check_float, check_int, check_time


def validate(a, x, label, J0, fail, sleep):
    check_int("a", a, 1, 100)
    check_float("x", x, 0, 1)
    if J0 is not None:
        check_float("J0", J0, 0, None, low_open=True)
    check_float("sleep", sleep, 0, 60)
    check_time(f"a={a}", a * 1000.0, "a x 1000 s, pretend")  # a > 86: more than a day
    return a, x

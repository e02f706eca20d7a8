"""The one way to check printed algebra (App. B and C): Check, check, same."""
import pytest
import sympy as sp

from rayint_lib.model import algebra

x, y = sp.symbols("x y", real=True)
f = sp.Function("f", positive=True)


def test_same_decides_identity_exactly():
    assert algebra.same(x * (1 - x), x - x**2)
    assert not algebra.same(x * (1 - x), x - x**2 + sp.Rational(1, 10**9))
    assert algebra.same((x**2 - y**2) / (x - y), x + y)            # rational: cancel
    assert algebra.same(sp.sqrt(x**2 + 1) ** 2 - 1 - x**2)          # same(e) asks e == 0
    assert algebra.same(f(x) * sp.sqrt(y**2) / sp.sqrt(y**2), f(x))  # not rational: simplify
    assert not algebra.same(f(x), 2 * f(x))


def test_same_on_matrices():
    a = sp.Matrix([x, y])
    assert algebra.same(a, sp.Matrix([x, y]))
    assert not algebra.same(a, sp.Matrix([x, 2 * y]))
    assert not algebra.same(a, sp.Matrix([x, y, 0]))


def test_one_check_type_for_both_appendices():
    from rayint_lib.model import appendix_b_checks, appendix_c_checks

    b = appendix_b_checks.checks()
    c = appendix_c_checks.all_checks(2)
    assert all(isinstance(k, algebra.Check) for k in (*b, *c))
    ok = algebra.check("id", "B.1", "step", x + x, 2 * x)
    wrong = algebra.check("id2", "B.1", "step", x + x, 3 * x, note="a slip")
    assert ok.holds and not wrong.holds and wrong.note == "a slip"
    assert algebra.find([ok, wrong], "id2") is wrong
    assert not algebra.all_hold([ok, wrong], ["id", "id2"])
    with pytest.raises(ValueError, match="unknown check"):
        algebra.find([ok], "nope")


def test_markdown_blocks_show_each_step_and_break_long_expressions():
    x = sp.Symbol("x")
    ok = algebra.check("n", "C.1", r"\|v\|", sp.Symbol("a"), sp.Symbol("a"))
    long = sum(sp.Integer(k + 1) * x**k for k in range(40))
    bad = algebra.check("m", "B.2", "P_6", long, long + 1, "a slip")
    text = algebra.markdown_blocks([ok, bad])
    assert "holds" in text and "derived: the same expression" in text
    assert "**does not hold** (a slip)" in text and text.count("---") == 1
    lines = algebra.broken(algebra.tex(long))
    assert lines.startswith(r"\begin{aligned}") and lines.count(r"\\") >= 3
    assert max(len(p) for p in lines.split(r"\\")) < 120
    assert algebra.broken("x + 1") == "x + 1"

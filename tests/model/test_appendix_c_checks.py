"""App. C by computer algebra: the printed lines are identities and a wrong line is caught."""
from __future__ import annotations

from rayint_lib.model import appendix_c_checks as C
from rayint_lib.model.algebra import Check, same


def test_symbolic_identities_verified():
    """Every identity the book calls verified (App. C.1, C.2, the neglected terms)."""
    checks = C.all_checks(d=2)
    assert all(isinstance(c, Check) for c in checks)
    assert not [c.id for c in checks if not c.holds]
    neg, exp = C.check_exact_minus_approx(d=2)
    assert same(neg, exp)
    assert C.check_bandit_2x2() == (0, 0)


def test_symbolic_check_can_fail():
    """A wrong printed line (factor 4 instead of 2) is not reported as verified."""
    S = C.FactoredSymbols(2)
    wrong = 4 * S.norm[1] ** 4 * S.dF[1] * S.F[1] ** 3
    derived = S.no_grad_v(S.jddot().subs({S.F[0]: 0}))
    assert not same(wrong, derived)
    assert same(wrong / 2, derived)

"""App. C by computer algebra: the printed lines are identities, a wrong line is caught, the
chapter's claims can fail, the validator names the parameter."""
from __future__ import annotations

import pytest

from rayint_lib.book.claims import NOT_REPRODUCED, REPRODUCED
from rayint_lib.chapters import appendix_c as ch
from rayint_lib.chapters import factored_objectives
from rayint_lib.model.algebra import Check, same


def test_symbolic_identities_verified():
    """Every identity the book calls verified (App. C.1, C.2, the neglected terms)."""
    checks = ch.all_checks(d=2)
    assert all(isinstance(c, Check) for c in checks)
    assert not [c.id for c in checks if not c.holds]
    neg, exp = ch.check_exact_minus_approx(d=2)
    assert same(neg, exp)
    assert ch.check_bandit_2x2() == (0, 0)


def test_symbolic_check_can_fail():
    """A wrong printed line (factor 4 instead of 2) is not reported as verified."""
    S = ch.Setup(2)
    wrong = 4 * S.norm[1] ** 4 * S.dF[1] * S.F[1] ** 3
    derived = S.no_grad_v(S.jddot().subs({S.F[0]: 0}))
    assert not same(wrong, derived)
    assert same(wrong / 2, derived)


def test_c2_and_neglected_terms():
    cps = ch.couplings([1.0, 2.0], 0.1)
    c2 = ch.c2_null_clines(cps, 10, 0.01)
    assert c2.holds_near_saddle_all and 0 < c2.frac_heights_on_policy < 1
    assert not c2.saddle_supervised and c2.saddle_with_f0   # C.1's conditions alone: no saddle
    neg = ch.neglected_terms([3], [1.0], 0.01)
    assert neg.n2_max < 1e-10 and 0 < neg.max_rel < 0.1 and neg.signs_hold


def test_claims_are_data_and_can_fail():
    for claim in ch.CLAIMS.values():
        assert claim.verdict(claim.example(True)) == REPRODUCED
        assert claim.verdict(claim.example(False)) == NOT_REPRODUCED, claim.id
    assert "C_grad_v" not in ch.CLAIMS                      # chapter 02's S31_grad_v
    assert "S31_grad_v" in factored_objectives.CLAIMS
    assert not set(ch.CLAIMS) & set(factored_objectives.CLAIMS)


@pytest.mark.parametrize("bad,name", [
    (dict(d=9), "d"), (dict(powers=[0.5]), r"powers\[0\]"), (dict(powers="1,2"), "powers"),
    (dict(bandit_actions=[3, 1]), r"bandit_actions\[1\]"), (dict(skews=[]), "skews"),
    (dict(xi=0.0), "xi"), (dict(n_heights=1), "n_heights"),
])
def test_validator_names_the_parameter(bad, name):
    ch.validate()
    with pytest.raises(ValueError, match=name):
        ch.validate(**bad)


def test_validator_estimates_memory(monkeypatch):
    monkeypatch.setenv("RAYINT_MAX_MEMORY", "100k")
    with pytest.raises(ValueError, match="n_heights"):
        ch.validate()


@pytest.mark.slow
def test_notebook_small(run_notebook):
    g = run_notebook("07_appendix_c", d=2, powers=[1.0], bandit_actions=[3], skews=[1.0],
                     n_heights=10)
    assert g["n_symbolic_verified"] == g["n_symbolic_checks"] == 18
    assert g["c2_holds_near_saddle_all"] == "yes"
    assert g["neglected_max_c"] < 0.1

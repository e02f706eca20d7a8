"""Chapter 07 (App. C): C.2 numerically and the neglected terms, the figure, the chapter's
claims can fail, the validator names the parameter (the algebra:
tests/model/test_appendix_c_checks.py)."""
from __future__ import annotations

import pytest

from rayint_lib.book.claims import NOT_REPRODUCED, REPRODUCED
from rayint_lib.chapters import appendix_c as ch
from rayint_lib.chapters import factored_objectives


def test_c2_and_neglected_terms():
    cps = ch.couplings([1.0, 2.0], 0.1)
    c2 = ch.c2_null_clines(cps, 10, 0.01)
    assert c2.holds_near_saddle_all and 0 < c2.frac_heights_on_policy < 1
    assert not c2.saddle_supervised and c2.saddle_with_f0   # C.1's conditions alone: no saddle
    neg = ch.neglected_terms([3], [1.0], 0.01)
    assert neg.n2_max < 1e-10 and 0 < neg.max_rel < 0.1 and neg.signs_hold
    assert len(neg.table) == 1 and 0 <= neg.shift_max < 0.1
    import matplotlib.pyplot as plt

    from rayint_lib.chapters import appendix_c_figures as figs

    fig = figs.plot_null_clines(cps, ["on_policy", "power_2"])
    assert all(ax.has_data() for ax in fig.axes)
    plt.close(fig)


def test_claims_are_data_and_can_fail():
    for claim in ch.CLAIMS.values():
        assert claim.verdict(claim.example(True)) == REPRODUCED
        assert claim.verdict(claim.example(False)) == NOT_REPRODUCED, claim.id
    assert "C_grad_v" not in ch.CLAIMS                      # chapter 02's S31_grad_v
    assert "S31_grad_v" in factored_objectives.CLAIMS
    assert not set(ch.CLAIMS) & set(factored_objectives.CLAIMS)


@pytest.mark.slow
def test_notebook_small(run_notebook):
    g = run_notebook("07_appendix_c", d=2, powers=[1.0], bandit_actions=[3], skews=[1.0],
                     n_heights=10)
    assert g["n_symbolic_verified"] == g["n_symbolic_checks"] == 18
    assert g["c2_holds_near_saddle_all"] == "yes"
    assert g["neglected_max_c"] < 0.1

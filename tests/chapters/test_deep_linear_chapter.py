"""Chapter 04 (Sec. 3.4): numbers with intervals, claims that can fail, the open question."""
from __future__ import annotations

import numpy as np
import pytest

from rayint_lib import chapters
from rayint_lib.book.claims import NOT_REPRODUCED, REPRODUCED
from rayint_lib.chapters import deep_linear as ch
from rayint_lib.model.stats import Estimate, bootstrap

SMALL = dict(singular_values=[4.0, 1.0, 0.25], hidden=8, eta=0.04, init_scale=1e-4,
             n_steps=1200, n_runs=6, seed=2, eta_closed_form=0.01, aligned_strength=1e-3)


@pytest.fixture(scope="module")
def res():
    return ch.summarize(ch.run_chapter(chapters.validate("04_deep_linear", **SMALL)))


def test_every_run_statistic_has_an_interval(res):
    deterministic = {"dl_hidden", "n_modes", "n_plateaus_expected", "sigma_xx_error",
                     "saxe_closed_form_max_error", "closed_form_order", "eta_cf_largest",
                     "closed_form_error_largest", "rate_low_over_mid_closed_form",
                     "plateau_durations_text", "low_perf_slope_closed_form"}
    for name, value in ch.glued(res).items():
        assert isinstance(value, Estimate) == (name not in deterministic), name
        if isinstance(value, Estimate) and np.isfinite(value.low):
            assert value.low - 1e-12 <= value.value <= value.high + 1e-12, name


def test_vectorised_bootstrap_matches_the_library(res):
    x = np.random.default_rng(0).standard_normal(15)
    for fn in (np.mean, np.median, np.min):
        fast = ch._resampled(ch._along(fn), x)
        slow = bootstrap(fn, x)
        assert (fast.value, fast.low, fast.high) == pytest.approx((slow.value, slow.low,
                                                                   slow.high))


def test_small_run_reproduces_the_section(res):
    assert res["fraction_ordered"].value == 1.0
    assert res["frac_runs_one_plateau_per_mode"].value == 1.0
    assert res["low_perf_slope_deep"].value > 0.8        # the paper's contrast fails
    assert res["orthogonal_frac_with_plateau"].value == 0.0
    assert ch.interference_answer(res).startswith("No")


def test_claims_flip_and_the_open_question_is_a_finding():
    for claim in ch.CLAIMS.values():
        assert claim.verdict(claim.example(True)) == REPRODUCED, claim.id
        assert claim.verdict(claim.example(False)) == NOT_REPRODUCED, claim.id
    assert "no_negative_interference" not in ch.CLAIMS
    assert "no_negative_interference" in ch.FINDINGS


def test_interference_answer_can_say_not_ruled_out(res):
    bad = dict(res, mode_gradient_cosine_min=Estimate(-0.5, -0.6, -0.4))
    assert ch.interference_answer(bad).startswith("Not ruled out")

"""Chapter 02 (Sec. 3.1, 3.2, Fig. 6): validator, independent computations, claims that can
fail on a counterfactual model, and a small run of the notebook."""
from __future__ import annotations

import numpy as np
import pytest

from rayint_lib import chapters
from rayint_lib.book.claims import NOT_REPRODUCED, REPRODUCED
from rayint_lib.chapters import factored_objectives as ch
from rayint_lib.model import factored as F
from rayint_lib.model import stats

SMALL = dict(powers=[1.0, 2.0], bandit_actions=[3], skews=[0.0, 2.0], t_max=3000.0,
             rhos=[-0.5, -0.05, 0.0, 0.5], K_values=[2, 3, 4], n_starts=80, basin_K=[2, 3])


def test_small_parameters_pass_a_large_memory_budget(monkeypatch):
    monkeypatch.setenv("RAYINT_MAX_MEMORY", "8G")
    assert chapters.validate("02_factored_objectives", **SMALL)["K_values"] == [2, 3, 4]


def test_mixture_check_reads_f_off_the_update_rule():
    P = ch.validate(mix_fraction=0.2, n_actions=3)
    m = ch.mixture_check(P)
    assert m["f_mix_at_zero_updates"] == pytest.approx(0.2 / 3) == m["f_mix_expected_at_zero"]
    assert m["f_on_policy_at_zero_updates"] == pytest.approx(0, abs=1e-8)
    assert m["f_mix_max_gap"] < 1e-12


def test_neglected_share_is_the_figure_reading():
    P = ch.validate(bandit_actions=[3], skews=[0.0, 2.0])
    share = ch.neglected_share(P)
    rel = ch.neglected_map(3, 0.0)[-1]
    assert share == {"frac_square_bad_equal_split": float((rel > 0.5).mean()), "n_map": 3}
    assert 0 < share["frac_square_bad_equal_split"] < 1


def test_figures_draw_the_results():
    import matplotlib.pyplot as plt

    from rayint_lib.chapters import factored_objectives_figures as figs

    P = ch.validate(**SMALL)
    for fig in (figs.figure6(P), figs.figure_flows(P),
                figs.figure_curves(ch.learning_curves(P)), figs.figure_neglected(P),
                figs.figure_saddles(ch.saddle_counts(P))):
        assert all(ax.has_data() for ax in fig.axes if ax.get_label() != "<colorbar>")
        plt.close(fig)


def test_claims_are_data_and_new_ones_can_fail():
    for cid in ("S31_wta_needs_rho_neg", "S32_saddles_exponential", "S32_plateaus", "S32_wta",
                "S32_basins_beyond_wta", "S31_grad_v"):
        c = ch.CLAIMS[cid]
        assert c.verdict(c.example(False)) == NOT_REPRODUCED
        assert c.verdict(c.example(True)) == REPRODUCED
    assert ch.CLAIMS["Fig6_shape"].verdict(None) == "paper ambiguous"
    assert {"grad-v-interior", "saddle-count-law", "mixture-coupling"} <= set(ch.FINDINGS)


def test_computations_fail_on_counterfactual_models():
    """Each new Sec. 3.1/3.2 computation gives the failing value when the premise is absent."""
    C = ch.CLAIMS
    # a linear saddle count is not exponential
    m = np.arange(2, 7)
    for polynomial in (m - 1.0, m**2.0, m**3.0):
        assert C["S32_saddles_exponential"].verdict(F.difference_factor(polynomial)) \
            == NOT_REPRODUCED
    assert C["S32_saddles_exponential"].verdict(F.difference_factor(2.0**m - 2)) == REPRODUCED
    # no component with f(0) = 0: no saddle, so no plateau pair to test
    assert F.plateaus_near_saddles(F.fully_interfering(3, n_zero=0)) == []
    # positive interference: no WTA strip next to a face, no WTA start
    assert F.wta_face_width(F.fully_interfering(3, rho=0.5), 1) == 0
    b = F.basins_beyond_wta(F.fully_interfering(2, rho=0.5), 50, np.random.default_rng(0))
    assert not b["wta"].any()
    # no start outside WTA reaches a plateau: the Wilson interval is entirely below 5%
    assert C["S32_basins_beyond_wta"].verdict(stats.fraction(np.zeros(200, bool))) \
        == NOT_REPRODUCED
    # supervised coupling: no strip next to the saddle even with rho < 0
    assert F.FactoredModel(F.coupling("supervised"), rho=-0.05).wta_strip_width(0.9) == 0


def test_chapter_values_at_small_parameters():
    P = ch.validate(**SMALL)
    sweep = ch.wta_rho_values(ch.wta_rho_sweep(P))
    assert sweep["wta_area_rho_nonneg_max"] == 0 and sweep["wta_strip_rho_neg_min"] > 0
    counts = ch.saddle_counts(P)
    sv = ch.saddle_values(counts)
    assert sv["saddles_match_2K_minus_2"] == "yes" and sv["saddle_growth_factor"] > 1.5
    kv = ch.k_values(ch.plateaus_K(P), ch.wta_K(P))
    assert kv["n_plateau_pairs_K"] == kv["n_saddle_pairs_K"] == 12 + 48
    runs = ch.basins(P)
    bv = ch.basin_values(runs, P)
    est = bv["frac_basin_beyond_wta"]
    assert est.low <= est.value <= est.high and "frac_basin_beyond_wta_K3" in bv
    assert set(ch.basin_readings(runs, P)) >= {"K = 2, eps = 0.1", "K = 3, eps = 0.1"}


@pytest.mark.slow
def test_notebook_02_small(run_notebook):
    g = run_notebook("02_factored_objectives", mix_fraction=0.2, **SMALL)
    assert g["f_mix_at_zero"] == pytest.approx(0.1)
    assert g["f_mix_at_zero_updates"] == pytest.approx(0.1)
    assert g["max_err_eq12"] < 1e-12 and g["max_err_eq3"] < 1e-12
    assert g["saddle_on_policy"] == "yes" and g["plateau_on_policy"] == "yes"
    assert g["saddle_mixture"] == "no"
    assert g["neglected_rel_near_saddle_max"] < 0.1
    assert g["speedup_mixture"] > 1
    assert g["wta_area_rho_nonneg_max"] == 0
    assert g["saddles_K_max"] == 14 and g["K_max"] == 4
    assert g["frac_basin_beyond_wta_ci_low"] <= g["frac_basin_beyond_wta"] \
        <= g["frac_basin_beyond_wta_ci_high"]

"""Chapter 06 (App. B): each section's results as the notebook uses them (the identities
themselves are tested in tests/model/test_derivations.py); the chapter's claims can fail;
the validator names the parameter."""
from __future__ import annotations

import numpy as np
import pytest

from rayint_lib.book.claims import NOT_REPRODUCED, REPRODUCED
from rayint_lib.chapters import appendix_b as ch
from rayint_lib.chapters import minimal_bandit


def test_b1_fixed_points():
    b1 = ch.b1_fixed_points()
    assert b1.n_fixed_points == 4 and b1.det_coefficient == pytest.approx(0.75)
    assert b1.corners_only and b1.types_as_printed and b1.traces_as_printed
    assert not b1.printed_is_jacobian and b1.printed_is_half_logit


def test_b2_acceleration():
    acc = ch.b2_acceleration()
    assert acc.eq3_factor == 2 and acc.eq3_ratio == 1 and acc.flatness_error < 1e-12
    assert acc.low == pytest.approx((15 - 15**0.5) / 30, abs=1e-12)
    assert acc.lines_hold and not acc.line6_literal_holds and acc.sign_change_is_def2


def test_b3_polygon_inside_measured_basin():
    b3 = ch.b3_basins([0.1, 0.01, 1e-3], 80)
    assert b3.min_inside == 1.0
    for b in b3.rows.values():
        assert b["printed_n_inside"] > 10 and b["four_vertices_inside_basin"] == 1.0
        assert 0 < b["coverage"] < 1
    assert b3.rows[0.1]["notch"] and not b3.rows[0.01]["notch"]
    assert b3.notch_threshold == 49 / 512


def test_chapter_01_grid_misses_only_its_edge():
    g = ch.full_square_reading(eps=0.1, n=60)
    assert g["n_missed_off_edge"] == 0 and g["share_own_flatness"] == 1.0
    assert g["share_by_crossing"] <= 1.0


def test_b3_sampled_has_intervals():
    s = ch.b3_sampled([1e-3], [0.5], 30, 0, 20_000, 0.1)
    est = s.hit_inside[1e-3]
    assert est.low <= est.value <= est.high and est.n + s.hit_outside[1e-3].n == 30


def test_b4_p_nc():
    b4 = ch.b4_wta_starts(1e-4, 40_000, 1, radii=(0.3,))
    assert b4.derivatives_as_printed
    assert b4.p_nc_mc.low < b4.p_nc < b4.p_nc_mc.high
    assert b4.by_radius[0.3].high < b4.p_nc   # farther out the WTA share is smaller


def test_supervised_inflections_follow_definition_2():
    b5 = ch.b5_supervised(6)
    assert b5.jsup_up == 0                           # Eq. 4: J_sup never inflects upwards
    assert b5.n_plateau_interior == 0 and b5.n_plateau_starts >= 1
    assert 0 < b5.eps_min <= b5.eps_max < 0.2         # Definition 2: 0 <= Jdot
    assert b5.jsup_ddot_max <= 1e-6
    assert "saddle" in b5.fixed_points.values() and b5.n_interior_fixed_points == 0


def test_claims_are_data_and_can_fail():
    for claim in ch.CLAIMS.values():
        assert claim.verdict(claim.example(True)) == REPRODUCED
        assert claim.verdict(claim.example(False)) == NOT_REPRODUCED, claim.id
    assert ch.CLAIMS["B1-determinant"].verdict(0.75) == NOT_REPRODUCED
    assert ch.CLAIMS["B2-eq3-factor"].verdict(2.0) == NOT_REPRODUCED
    assert ch.CLAIMS["B3-polygon"].verdict(0.994) == NOT_REPRODUCED


def test_one_claim_per_statement_with_chapter_01():
    """The Sec. 2 statements are chapter 01's claims; this chapter defines none of them."""
    assert not set(ch.CLAIMS) & set(minimal_bandit.CLAIMS)
    for old in ["B2-intervals", "S23-flatness", "B4-P_nc", "B4-P_nc-MC", "B1-types",
                "B1-fixed-points", "B5-eq4", "B5-fixed-points"]:
        assert old not in ch.CLAIMS
    for used in ["fixed-points", "plateau-interval", "flatness-antidiagonal", "p-wta-closed",
                 "p-wta-mc", "supervised-concave", "supervised-no-saddle"]:
        assert used in minimal_bandit.CLAIMS


@pytest.mark.slow
def test_notebook_small(run_notebook):
    g = run_notebook("06_appendix_b", eps_list=[0.1, 0.001], n_grid=60, sampled_J0=[0.5],
                     n_runs=20, max_samples=20000, mc_samples=5000, sup_grid=6)
    assert g["06_n_fixed_points"] == 4
    assert g["06_det_coefficient"] == pytest.approx(0.75)
    assert g["06_eq3_factor"] == pytest.approx(2.0) and g["06_eq3_ratio"] == pytest.approx(1.0)
    assert g["06_plateau_low"] == pytest.approx((15 - 15**0.5) / 30, abs=1e-9)
    assert g["06_polygon_inside_min"] == 1.0
    assert g["06_notch_threshold"] == pytest.approx(49 / 512)
    assert g["06_p_nc"] == pytest.approx(4 / np.pi * np.arctan(0.5))
    assert g["06_p_nc_mc_ci_low"] <= g["06_p_nc_mc"] <= g["06_p_nc_mc_ci_high"]
    assert g["06_full_grid_share_own_flatness"] == 1.0
    assert g["06_sup_n_fixed_points"] == 6
    assert g["06_sup_Jsup_up"] == 0
    assert g["06_sup_n_plateau_starts"] >= 1


def test_figures_draw_the_results():
    import matplotlib.pyplot as plt

    from rayint_lib.chapters import appendix_b_figures as figs

    for fig in (figs.plot_p6(ch.b2_acceleration()), figs.plot_basins(ch.b3_basins([0.1], 40)),
                figs.plot_supervised(ch.b5_supervised(4))):
        assert all(ax.has_data() for ax in fig.axes if ax.get_label() != "<colorbar>")
        plt.close(fig)

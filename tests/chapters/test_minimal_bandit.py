"""Chapter 01 (Sec. 2): the chapter module's computations against known answers, and claims
that can fail."""
import numpy as np
import pytest
from matplotlib.path import Path

from rayint_lib.chapters import minimal_bandit as ch
from rayint_lib.model import dynamics as d
from rayint_lib.model import expected_flow as flow
from rayint_lib.model import staircase
from rayint_lib.model.config import BanditConfig
from rayint_lib.model.simulate import BanditRuns

SMALL = dict(K=2, n=2, eta=0.1, J0=None, n_runs=20, max_samples=1000, seed=0)


def test_validate_returns_settings_and_names_bad_parameters(monkeypatch):
    cfg = ch.validate(**SMALL)
    assert cfg.K == 2 and cfg.J0 == pytest.approx(0.2) and cfg.n_runs_onpolicy == 20_000
    assert cfg.config_2x2.n_runs == cfg.n_trajectories
    with pytest.raises(ValueError, match="n_runs_onpolicy"):
        ch.validate(**SMALL, n_runs_onpolicy=0)
    with pytest.raises(ValueError, match="mix_fraction"):
        ch.validate(**SMALL, mix_fraction=1.5)
    monkeypatch.setenv("RAYINT_MAX_MEMORY", "1M")
    with pytest.raises(ValueError, match="n_grid=2000"):
        ch.validate(**{**SMALL, "n_runs": 1}, n_grid=2000, n_runs_onpolicy=1, n_runs_alt=1,
                    n_trajectories=1, n_mc=100, n_orbits=4)


@pytest.mark.parametrize("learner, policy, closed_form", [
    ("on_policy", "shared_bias", d.jdot_rl), ("on_policy", "tabular", d.jdot_tabular),
    ("supervised", "shared_bias", d.jdot_supervised)])
def test_expected_update_field_is_the_closed_form(learner, policy, closed_form):
    J1, J2 = np.random.default_rng(0).uniform(0.01, 0.99, (2, 500))
    got = flow.field_from_updates(learner, policy)(J1, J2)
    np.testing.assert_allclose(got, closed_form(J1, J2), atol=1e-12)
    assert flow.field_from_updates(learner, policy)(0.0, 0.3)[0] == 0.0   # closed on the edge


def test_supervised_acceleration_is_eq4_for_the_log_likelihood_not_for_J():
    J1, J2 = np.random.default_rng(1).uniform(0.02, 0.98, (2, 300))
    fd = flow.supervised_acceleration(J1, J2)
    np.testing.assert_allclose(fd, d.supervised_jddot(J1, J2), atol=1e-8)
    assert flow.supervised_acceleration(0.05, 0.05, "performance") > 0.05   # J rises convexly


def test_p_nc_quadrature_knows_other_slopes():
    """A field whose null clines leave the origin with slopes a and 1/a: P = (4/pi) atan(1/a)."""
    def field(a):
        return lambda J1, J2: (a * d.q(J1) ** 2 - d.q(J1) * d.q(J2),
                               a * d.q(J2) ** 2 - d.q(J1) * d.q(J2))

    for a in (2.0, 3.0, 5.0):
        assert d.p_nc_quadrature(1e-7, field(a)) == pytest.approx(4 / np.pi * np.arctan(1 / a),
                                                                  abs=1e-6)
    assert d.p_nc_quadrature(1e-3, d.jdot_tabular) == 0.0


def test_p_nc_monte_carlo_interval_covers_the_quadrature():
    est = d.p_nc_monte_carlo(1e-4, 40_000, np.random.default_rng(2))
    assert est.low < d.p_nc_quadrature(1e-4) < est.high
    assert est.high - est.low < 0.02


def test_inside_polygon_agrees_with_matplotlib():
    pts = np.random.default_rng(3).uniform(0, 1, (5000, 2))
    poly = d.basin_polygon(0.1)
    np.testing.assert_array_equal(d.inside_polygon(pts, poly), Path(poly).contains_points(pts))
    assert d.polygon_area([(0, 0), (1, 0), (1, 1), (0, 1)]) == pytest.approx(1.0)


def test_basin_check_polygon_inside_basin_and_no_antidiagonal_cells():
    pts, cell = d.upper_triangle_grid(80)
    assert np.all(pts.sum(axis=1) < 1 - 1e-9) and np.all(pts[:, 0] < pts[:, 1])
    b = d.basin_check(0.1, 80)
    assert b["printed_inside_basin"] == 1.0 and b["notch"]
    assert b["grid"].sum() * cell == pytest.approx(b["basin_area"])
    assert 0.15 < b["basin_area"] < 0.21                      # 0.183 on the 200 grid
    assert d.basin_check(1e-3, 80)["basin_area"] < b["basin_area"]


def test_fixed_points_of_the_closed_square():
    rl, _ = d.fixed_points_closed_square(d.jdot_rl)
    assert rl == [((0.0, 0.0), "unstable"), ((0.0, 1.0), "saddle"), ((1.0, 0.0), "saddle"),
                  ((1.0, 1.0), "stable")]
    sup, speed = d.fixed_points_closed_square(d.jdot_supervised)
    assert [p for p, kind in sup if kind == "saddle"] == [(0.0, 0.5), (0.5, 0.0)]
    assert len(sup) == 6 and speed > 0
    with pytest.raises(ValueError, match="inside"):
        d.fixed_points_closed_square(lambda J1, J2: (J1 - 0.5, J2 - 0.5))


def test_plateaus_read_off_orbits_match_the_antidiagonal_crossing():
    J1, J2 = np.array([0.01, 0.05, 0.1]), np.array([0.19, 0.3, 0.4])
    np.testing.assert_allclose(d.plateaus_along_orbits(J1, J2), d.plateau_flatness_of_start(J1, J2),
                               rtol=1e-3)
    assert np.isnan(d.plateaus_along_orbits(J1, J2, d.jdot_supervised)).all()
    assert np.isnan(d.plateaus_along_orbits(0.2, 0.2))        # the diagonal has no plateau


def test_wta_exits_loser_decreases_and_non_wta_start_is_rejected():
    out = d.wta_exits([0.05, 0.3], [0.3, 0.05])
    assert out["left"].all() and list(out["winner"]) == [1, 0]
    assert np.all(out["loser_exit"] < out["loser_start"])
    with pytest.raises(ValueError, match="WTA"):
        d.wta_exits([0.2], [0.2])


def test_follow_orbits_path_ends_where_the_orbit_stops():
    o = d.follow_orbits([0.1, 0.3], [0.2, 0.3], J_end=1.0, path=True)
    path = o["path"]
    assert path.shape[1:] == (2, 2) and np.allclose(path[0], [[0.1, 0.3], [0.2, 0.3]])
    last = [np.flatnonzero(np.isfinite(path[:, 0, i]))[-1] for i in range(2)]
    assert all(path[k, :, i].sum() >= 1.0 for i, k in enumerate(last))
    assert np.all(np.diff(o["path_time"][:, 0][np.isfinite(o["path_time"][:, 0])]) > 0)


def _runs(curves, steps, solved=None, K=2, max_samples=1000):
    curves = np.asarray(curves, float)
    n = curves.shape[0]
    cfg = BanditConfig(n_runs=n, max_samples=max_samples)
    stop = np.full(n, steps[-1])
    return BanditRuns(cfg, np.asarray(steps), curves, curves[:, 0], stop,
                      np.ones(n, bool) if solved is None else solved, np.full(n, np.nan),
                      np.zeros((n, K)))


def test_performance_and_stall_at_one_on_known_curves():
    steps = np.array([0, 100, 200, 300, 400, 500])
    J = np.array([[0.2, 0.9, 1.0, 1.0, 1.95, 1.95],            # sits at J = 1 from step 100
                  [0.2, 1.95, 1.95, 1.95, 1.95, 1.95]])        # passes 1 at once
    curves = np.stack([J / 2, J / 2], axis=-1)
    runs = _runs(curves, steps)
    perf = staircase.performance(runs)
    assert perf[1] > perf[0]
    x = np.log(np.maximum(steps * 2, 1))
    assert perf[1] == pytest.approx(np.trapezoid(J[1], x) / x[-1])
    np.testing.assert_allclose(staircase.stall_at_one(runs), [2 * (400 - 100), 0])


def test_imbalance_and_flat_on_known_runs():
    runs = _runs(np.zeros((9, 2, 2)), np.array([0, 1]))
    runs.initial = np.array([[0.1, 0.1]] * 3 + [[0.05, 0.15]] * 3 + [[0.0, 0.2]] * 3)
    runs.flatness = np.array([1e-3] * 3 + [1e-3] * 3 + [1e-6, 1e-6, np.nan])
    out = ch.imbalance(runs)
    assert out["frac_flat_imbalanced"].value == pytest.approx(2 / 3)
    assert out["frac_flat_balanced"].value == 0.0
    assert runs.flat(ch.EPS).sum() == 2                              # NaN counts as never


def test_every_claim_can_fail():
    for claim in ch.CLAIMS.values():
        if claim.rule != "ambiguous":
            assert claim.verdict(claim.example(True)) == "reproduced", claim.id
            assert claim.verdict(claim.example(False)) == "not reproduced", claim.id
    on = ch.CLAIMS["fig3-onpolicy"]
    from rayint_lib.model.stats import wilson
    assert on.verdict(wilson(269, 1000)) == "undecided"          # the old 1000-run number
    assert on.verdict(wilson(5200, 20000)) == "not reproduced"


def test_tabular_summary_reads_the_table():
    import pandas as pd
    rows = []
    for name, area, share in (("shared bias", 0.2, 1.0), ("tabular", 0.1, 0.0)):
        for eps in (ch.BASIN_EPS, ch.EPS):
            rows.append({"dynamics": name, "eps": eps, "basin area": area,
                         "share at radius 0.01": share, "share at radius 0.001": share})
    s = ch.tabular_summary(pd.DataFrame(rows))
    assert s["smaller"] and s["tab_share_origin"] == 0.0 and all(s["readings"].values())


def test_update_norms_separate_rl_saddles_from_supervised_edge_points():
    rl = flow.update_norms([(0, 1), (1, 0)], "on_policy")
    sup = flow.update_norms([(0, 0.5), (0.5, 0), (1, 1)], "supervised")
    assert (rl < flow.STATIONARY).all()                  # vanish as J_k (1 - J_k)
    assert (sup[:2] > 1).all() and sup[2] < flow.STATIONARY


def test_wrong_arm_logits_do_not_matter_with_two_arms_and_deep_tail_is_explained():
    main = ch.simulate(BanditConfig(n_runs=200, max_samples=4000))
    a, b = ch.wrong_arm_readings(main).values()
    assert (a.value, a.low, a.high) == (b.value, b.low, b.high)   # n = 2: same runs
    wide = ch.wrong_arm_readings(ch.simulate(BanditConfig(n=4, n_runs=200, max_samples=4000)))
    assert len(set(float(v) for v in wide.values())) == 2          # n > 2: they differ
    deep = ch.deepest_plateaus(main, level=1.0)
    assert deep["frac_below_1e-8"].value > 0.5

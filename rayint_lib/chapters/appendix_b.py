"""Chapter 06_appendix_b: App. B re-derived by computer algebra, B.3 and B.4 measured.

The derivations from theta are :mod:`rayint_lib.model.derivations`; what the paper prints,
checked step by step against them, is :mod:`rayint_lib.model.appendix_b_checks`. This module
assembles each section's results (B.1 fixed points, B.2 the plateau interval, B.3 basins
measured on a grid and with sampled runs, B.4 ``P_nc``, B.5 the supervised flow), declares
the parameters and reads its claims (``claims/06_appendix_b.yaml``); the figures are in
:mod:`.appendix_b_figures`.

The chapter's claims are the statements only the appendix prints (the B.1 matrix and its
determinant, the factor 2 of Eq. 3, the B.3 polygon, ...); the Sec. 2 statements that the
appendix derives are chapter 01's claims, which this chapter checks with its own evidence.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sympy as sp
from IPython.display import Markdown
from matplotlib.path import Path

from ..model import algebra, dynamics, stats
from ..model.appendix_b_checks import GROUPS, PRINTED, checks
from ..model.config import BanditConfig, check_memory, check_time
from ..model.derivations import (
    J1,
    J2,
    Q1,
    Q2,
    cell_centres,
    classify,
    fixed_point_types,
    fixed_points,
    half_logit_jacobian,
    jacobian,
    notch_threshold,
    null_cline_slopes_at_origin,
    p_nc_from_slopes,
    plateau_boundaries,
    rl_derivation,
    supervised_derivation,
    supervised_orbits,
)
from ..model.params import Param, declare
from ..model.simulate import simulate
from . import claims_of

NOTEBOOK = "06_appendix_b"

CLAIMS, FINDINGS = claims_of(NOTEBOOK)


# ---------------------------------------------------------------- App. B.1
@dataclass
class FixedPoints:
    """App. B.1 against Sec. 2.2: fixed points, the matrix, its determinant and the types."""

    table: pd.DataFrame
    n_fixed_points: int
    det_coefficient: float      # det / ((1-2J1)(1-2J2)) of the matrix derived from theta
    corners_only: bool          # the fixed points are exactly the four corners
    types_as_printed: bool      # the flow gives the printed types at every corner
    traces_as_printed: bool
    printed_is_jacobian: bool   # the printed matrix is the Jacobian of Eqs. (1)-(2)
    printed_is_half_logit: bool


def b1_fixed_points() -> FixedPoints:
    """App. B.1: solve Eqs. (1)-(2) exactly, classify each corner from the flow around it
    (``dynamics.classify_corner``) and from the matrix derived from theta."""
    R = rl_derivation()
    flow = (R["Jdot1"], R["Jdot2"])
    fps = fixed_points(flow)
    jac, ours = jacobian(flow), half_logit_jacobian()
    rows = []
    for a, b in fps:
        at = {J1: a, J2: b}
        tr, det = ours.trace().subs(at), ours.det().subs(at)
        p_tr, p_det, p_type = PRINTED["table"][(int(a), int(b))]
        rows.append({"fixed point": f"({a}, {b})",
                     "Jacobian of Eqs. 1-2": "0" if jac.subs(at) == sp.zeros(2) else "non-zero",
                     "trace (printed)": str(p_tr), "trace (ours)": str(tr),
                     "det (printed)": str(p_det), "det (ours)": str(det),
                     "type (printed)": p_type, "type from the matrix, our det": classify(tr, det),
                     "type from the flow": dynamics.classify_corner(dynamics.jdot_rl,
                                                                    float(a), float(b))})
    table = pd.DataFrame(rows)
    checks_ = checks()
    return FixedPoints(
        table=table, n_fixed_points=len(fps),
        det_coefficient=float(sp.cancel(ours.det() / ((1 - 2 * J1) * (1 - 2 * J2)))),
        corners_only=[tuple(map(int, p)) for p in fps] == [(0, 0), (0, 1), (1, 0), (1, 1)],
        types_as_printed=bool(all(r["type (printed)"] == r["type from the flow"]
                                  and r["type (printed)"] in r["type from the matrix, our det"]
                                  for r in rows)),
        traces_as_printed=bool(all(r["trace (printed)"] == r["trace (ours)"] for r in rows)
                               and algebra.find(checks_, "trace").holds),
        printed_is_jacobian=algebra.find(checks_, "jacobian_eqs12").holds,
        printed_is_half_logit=algebra.find(checks_, "jacobian_logit").holds)


# ---------------------------------------------------------------- App. B.2
@dataclass
class Acceleration:
    """App. B.2: the plateau interval and the factor of Eq. (3)."""

    low: float                  # (15 - sqrt 15)/30 from our derivation, exact
    high: float
    low_numeric: float          # dynamics.plateau_intervals (numerical root)
    eq3_factor: float           # Jddot / ((1 - J1 - J2) * printed bracket)
    eq3_ratio: float            # Jddot / ((1 - J1 - J2) P6), P6 := line 7 / (1 - J1 - J2)
    lines_hold: bool            # lines 3-7, line 6 read with q_k
    line6_literal_holds: bool
    antidiagonal_bracket: bool  # printed P6 on the anti-diagonal = ours with P6 := bracket
    antidiagonal_eq3: bool      # ... with P6 := Jddot / (1 - J1 - J2)
    sign_change_is_def2: bool   # Jdddot = -Jdot P6 on the anti-diagonal
    flatness_formula: bool      # eps = Jdot on the anti-diagonal = 2 J1^2 (1-J1)^2
    flatness_error: float       # max |Jdot (from theta) - 2 J1^2 (1-J1)^2| on the anti-diagonal


def b2_acceleration() -> Acceleration:
    """App. B.2 line by line against ``Jddot`` derived from theta."""
    R, c = rl_derivation(), checks()
    lo, hi = plateau_boundaries()
    return Acceleration(
        low=float(lo), high=float(hi), low_numeric=float(dynamics.plateau_intervals()),
        eq3_factor=float(sp.cancel(R["Jddot"] / ((1 - J1 - J2) * PRINTED["B2_bracket"]))),
        eq3_ratio=float(sp.cancel(R["Jddot"] / PRINTED["B2_line7"])),
        lines_hold=algebra.all_hold(c, ["B2_line3", "B2_line4", "B2_line5", "B2_line6_read",
                                        "B2_line7"]),
        line6_literal_holds=algebra.find(c, "B2_line6_literal").holds,
        antidiagonal_bracket=algebra.find(c, "P6_antidiagonal_bracket").holds,
        antidiagonal_eq3=algebra.find(c, "P6_antidiagonal_eq3").holds,
        sign_change_is_def2=algebra.find(c, "Jdddot_antidiagonal").holds,
        flatness_formula=algebra.find(c, "eps_antidiagonal").holds,
        flatness_error=float(np.max(np.abs(
            sp.lambdify(J1, R["Jdot"].subs(J2, 1 - J1) - PRINTED["eps_antidiagonal"])(
                np.linspace(0.001, 0.999, 999))))))


# ---------------------------------------------------------------- App. B.3
@dataclass
class Basins:
    """App. B.3 on a grid: the measured basin against the polygon, for every eps."""

    n_grid: int
    points: np.ndarray          # grid starts [m, 2] (J1 < J2, J1 + J2 < 1)
    flatness: np.ndarray        # flatness of the plateau each start's orbit reaches
    rows: dict                  # eps -> dynamics.basin_check(...)
    table: pd.DataFrame
    min_inside: float           # smallest share of polygon starts in the basin, over eps
    notch_threshold: float


def b3_basins(eps_list, n_grid) -> Basins:
    """The B.3 polygon of every ``eps`` against the basin measured on one grid."""
    pts, _ = dynamics.upper_triangle_grid(n_grid)
    flat = dynamics.plateau_flatness_of_start(pts[:, 0], pts[:, 1])
    rows = {e: dynamics.basin_check(e, n_grid, flat) for e in eps_list}
    table = pd.DataFrame([{"eps": e, "exit J2[1]": b["exit_J2"], "notch": b["notch"],
                           "grid starts in polygon": b["printed_n_inside"],
                           "share of them in the basin": b["printed_inside_basin"],
                           "polygon area": b["printed_area"], "basin area": b["basin_area"],
                           "polygon / basin": b["coverage"],
                           "4-vertex polygon in basin": b["four_vertices_inside_basin"],
                           "4-vertex area": b["four_vertices_area"]} for e, b in rows.items()])
    return Basins(n_grid, pts, flat, rows, table,
                  float(min(b["printed_inside_basin"] for b in rows.values())),
                  float(notch_threshold()))


def full_square_reading(eps=0.1, n=200):
    """Chapter 01's reading of B.3: a ``linspace(0.0025, 0.9975, n)`` grid of the whole square,
    basin = orbit crosses the anti-diagonal at ``J1 < 1/2`` with flatness ``<= eps``.

    That grid puts points exactly on the polygon's edge ``J1 + J2 = 1``; an orbit that starts
    on the anti-diagonal records no crossing (NaN), so those count as outside the basin.
    Returns the share of polygon starts in the basin with that convention
    (``share_by_crossing``) and with each edge start judged by its own flatness
    ``2 J1^2 (1 - J1)^2`` (``share_own_flatness``), and the counts behind them.
    """
    g = np.linspace(0.0025, 0.9975, n)
    a, b = (x.ravel() for x in np.meshgrid(g, g))
    # matplotlib's point-in-polygon, as chapter 01 used it then (edge points by its rounding)
    inside = Path(dynamics.basin_polygon(eps)).contains_points(np.column_stack([a, b]))
    a, b = a[inside], b[inside]               # only the starts inside the polygon matter
    cross = dynamics.antidiagonal_crossing(a, b)
    in_basin = (dynamics.flatness_on_antidiagonal(cross) <= eps) & (cross < 0.5)
    on_edge = np.isclose(a + b, 1.0)
    own = in_basin | (on_edge & (dynamics.flatness_on_antidiagonal(a) <= eps) & (a < 0.5))
    return {"eps": eps, "n_grid": n, "n_inside": int(a.size), "n_missed": int((~in_basin).sum()),
            "n_on_edge": int(on_edge.sum()), "n_missed_off_edge": int((~in_basin & ~on_edge).sum()),
            "share_by_crossing": float(in_basin.mean()), "share_own_flatness": float(own.mean())}


@dataclass
class SampledBasins:
    """B.3 under sampled updates: hit fractions inside and outside the polygon, with intervals."""

    n_runs: int
    eps: list
    table: pd.DataFrame
    hit_inside: dict = field(default_factory=dict)     # eps -> Estimate (Wilson)
    hit_outside: dict = field(default_factory=dict)
    hit_inside_min: stats.Estimate | None = None       # the smallest of hit_inside
    floor: float = float("nan")   # median flatness of runs above 1e-3 (no-plateau level)


def sampled_starts_and_flatness(J0s, n_runs, seed, max_samples=100_000, eta=0.1):
    """Sampled on-policy runs (``simulate``, one sample per context) from ``simplex`` starts.

    Returns ``(starts [m, 2], flatness [m])`` with each start folded to ``J1 <= J2`` (the
    problem is symmetric under swapping the contexts) and the flatness divided by 2: the
    simulator trains the full (W, b), whose flow is the reduced flow of App. B sped up by 2.
    """
    starts, flat = [], []
    for i, J0 in enumerate(J0s):
        runs = simulate(BanditConfig(J0=J0, n_runs=n_runs, seed=seed + i, init="simplex",
                                     max_samples=max_samples, eta=eta))
        starts.append(np.sort(runs.initial, axis=1))
        flat.append(runs.flatness / 2)
    return np.concatenate(starts), np.concatenate(flat)


def b3_sampled(eps_list, sampled_J0, n_runs, seed, max_samples, eta) -> SampledBasins:
    """Share of sampled runs whose flattest plateau is ``<= eps``, started inside and outside
    the B.3 polygon, each with its Wilson interval. Only ``eps <= 1e-3`` is tested: above it,
    runs without a plateau record about the flatness of the approach to the stopping rule."""
    starts, flat = sampled_starts_and_flatness(sampled_J0, n_runs, seed, max_samples, eta)
    eps_sampled = [e for e in eps_list if e <= 1e-3] or [min(eps_list)]
    hit_flat = np.nan_to_num(flat, nan=np.inf)
    out = SampledBasins(len(starts), eps_sampled, pd.DataFrame())
    rows = []
    for e in eps_sampled:
        inside = dynamics.inside_polygon(starts, dynamics.basin_polygon(e))
        hit = hit_flat <= e
        out.hit_inside[e] = stats.fraction(hit[inside])
        out.hit_outside[e] = stats.fraction(hit[~inside])
        rows.append({"eps": e, "runs inside": int(inside.sum()),
                     "hit inside [95%]": f"{out.hit_inside[e]:.3f}",
                     "runs outside": int((~inside).sum()),
                     "hit outside [95%]": f"{out.hit_outside[e]:.3f}"})
    out.table = pd.DataFrame(rows)
    measured = [out.hit_inside[e] for e in eps_sampled if out.hit_inside[e].n > 0]
    out.hit_inside_min = (min(measured, key=lambda x: (x.value, x.low)) if measured
                          else stats.Estimate(np.nan, np.nan, np.nan))
    above = flat[flat > 1e-3]
    out.floor = float(np.nanmedian(above)) if above.size else float("nan")
    return out


# ---------------------------------------------------------------- App. B.4
@dataclass
class WtaStarts:
    """App. B.4: the null-cline slopes, ``P_nc`` exact and by Monte Carlo."""

    slopes: tuple
    derivatives_as_printed: bool   # the printed 2 and 1 are the derivatives of the two sides
    p_nc: float                    # from the slopes (sympy)
    p_nc_mc: stats.Estimate        # at mc_radius
    by_radius: dict                # radius -> Estimate, farther out


def b4_wta_starts(mc_radius, mc_samples, seed, radii=(0.1, 0.3)) -> WtaStarts:
    """``P_nc`` from the null-cline slopes (exact) and from ``mc_samples`` starts per radius."""
    rng = np.random.default_rng(seed)
    c = algebra.find(checks(), "null_cline_slopes")
    derivs = (sp.diff(2 * Q1, J1).subs(J1, 0), sp.diff(Q2, J2).subs(J2, 0))
    return WtaStarts(
        slopes=null_cline_slopes_at_origin(),
        derivatives_as_printed=bool(c.holds and derivs == PRINTED["null_cline_derivatives"]),
        p_nc=float(p_nc_from_slopes()),
        p_nc_mc=dynamics.p_nc_monte_carlo(mc_radius, mc_samples, rng),
        by_radius={r: dynamics.p_nc_monte_carlo(r, mc_samples, rng) for r in radii})


# ---------------------------------------------------------------- App. B.5
@dataclass
class Supervised:
    """App. B.5 and Sec. 2.5: fixed points, concavity and inflections of the supervised flow."""

    fixed_points: dict           # (J1, J2) -> type, closed square
    n_interior_fixed_points: int
    share_convex: float          # share of a 400 x 400 grid with Jddot (of J) > 0
    n_starts: int
    n_grid_starts: int
    n_plateau_starts: int        # orbits with a concave-to-convex inflection of J, Jdot >= 0
    n_plateau_interior: int      # ... of them from the interior grid
    n_falling: int               # orbits with such an inflection while J falls (Jdot < 0)
    eps_min: float               # Jdot at those plateaus
    eps_max: float
    jsup_up: int                 # inflections of J_sup (Eq. 4 says none)
    jsup_ddot_max: float         # largest Jddot_sup (derived from theta) on a 400 x 400 grid
    eq4_holds: bool              # Eq. 4 = Jddot_sup derived from theta
    lines_hold: bool
    rho: float
    rho_printed_holds: bool
    shown: list                  # (has a plateau, path [steps, 2], time [steps]) for Fig. B3


def b5_supervised(sup_grid, J_end=1.98) -> Supervised:
    """The supervised flow of App. B.5: fixed points in the closed square (sympy, corners
    classified from the flow), concave-to-convex inflections of ``J = J1 + J2`` and of
    ``J_sup`` along the orbits from a ``sup_grid``-per-axis grid plus starts near ``J1 = 0``,
    followed until ``J >= J_end`` (:func:`rayint_lib.model.derivations.supervised_orbits`)."""
    S, c = supervised_derivation(), checks()
    types = fixed_point_types((S["Jdot1"], S["Jdot2"]), dynamics.jdot_supervised)
    A, B = cell_centres(400)
    share_convex = float(np.mean(sp.lambdify((J1, J2), S["Jddot"])(A, B) > 0))
    o = supervised_orbits(sup_grid, J_end)
    starts, rising, rate, n_grid = o["starts"], o["rising"], o["rate"], sup_grid**2
    plateau = rising & (rate >= 0)
    up = plateau.any(axis=0)
    eps = rate[plateau]
    edge_idx = np.arange(n_grid, len(starts))
    keep = np.concatenate([edge_idx[::max(1, sup_grid // 6)][:6], [0, n_grid - 1]])
    return Supervised(
        fixed_points=types,
        n_interior_fixed_points=sum(0 < float(a) < 1 and 0 < float(b) < 1 for a, b in types),
        share_convex=share_convex, n_starts=len(starts), n_grid_starts=n_grid,
        n_plateau_starts=int(up.sum()), n_plateau_interior=int(up[:n_grid].sum()),
        n_falling=int((rising & (rate < 0)).any(axis=0).sum()),
        eps_min=float(eps.min()) if eps.size else float("nan"),
        eps_max=float(eps.max()) if eps.size else float("nan"),
        jsup_up=int(o["rising_sup"].sum()),
        jsup_ddot_max=float(np.max(sp.lambdify((J1, J2), S["Jsup_ddot_theta"])(A, B))),
        eq4_holds=algebra.all_hold(c, ["sup_Jsup_ddot", "sup_Jsup_ddot_theta"]),
        lines_hold=algebra.all_hold(c, ["sup_grad_Jsup", "sup_Jdot1_middle", "sup_Jdot1",
                                        "sup_dlogJ1", "sup_Jsup_dot", "sup_Jsup_dot_sos",
                                        "sup_grad_Jsup_dot", "sup_Jsup_ddot"]),
        rho=float(S["rho_sup"]), rho_printed_holds=algebra.find(c, "sup_rho_printed").holds,
        shown=[(bool(up[i]), o["path"][:, :, i], o["path_time"][:, i]) for i in keep])


def fixed_points_text(types: dict) -> str:
    """``"(0, 0): unstable, (0, 1/2): saddle, ..."``."""
    return ", ".join(f"({a}, {b}): {t}" for (a, b), t in types.items())


def checks_table(group: str) -> Markdown:
    """The derivation steps of one section (:data:`GROUPS`) as Markdown blocks: the step,
    whether it holds, the printed and the derived expression (long ones broken into lines)."""
    return Markdown(algebra.markdown_blocks(checks(), GROUPS[group]))


# ---------------------------------------------------------------- the chapter's parameters
# Seconds per grid cell and flatness level of B.3 and per supervised start of B.5, measured by
# ``benchmarks/estimate_rates.py`` (8e-5 s at n_grid 40 and 4e-3 s at sup_grid 12 on 2 loaded
# cores), rounded up.
GRID_SECONDS, SUP_SECONDS = 1e-4, 1e-2


PARAMS = declare(
    Param("eps_list", [0.1, 0.05, 0.01, 0.001, 0.0001],
          "flatness levels whose B.3 polygon is checked", low=0, high=0.125, low_open=True,
          high_open=True),
    Param("n_grid", 200, "grid cells per axis for the measured basin (deterministic orbits)",
          low=20, high=2000),
    Param("sampled_J0", [0.2, 0.5, 0.8],
          "initial performances J(theta0) of the sampled runs (simplex)", low=0, high=1,
          low_open=True, high_open=True),
    Param("n_runs", 100, "sampled learning runs per initial performance", low=1, high=100_000),
    Param("max_samples", 100000, "stop a sampled run after this many samples (App. A)", low=2),
    Param("eta", 0.1, "step size of the sampled runs (App. A)", low=0, low_open=True),
    Param("mc_samples", 100000, "Monte Carlo starts for P_nc (App. B.4)", low=100),
    Param("mc_radius", 0.001,
          "distance of the Monte Carlo starts from the origin (\"near the origin\")", low=0,
          high=1, low_open=True),
    Param("sup_grid", 30,
          "supervised-learning starts per axis, searched for plateaus (App. B.5)", low=2,
          high=500),
    Param("seed", 0, "seed of the sampled runs and the Monte Carlo draws", low=0),
)


def validate(**values) -> dict:
    """Parameters of ``06_appendix_b`` (App. B; :data:`PARAMS`) as a dict; raises ValueError
    before any work.

    Memory: the basin grid (``n_grid^2 / 4`` orbits, about 30 float64 arrays while they are
    integrated), the Monte Carlo starts (``mc_samples``, 6 float64 arrays), the supervised
    orbits (``sup_grid^2 + 2 sup_grid`` recorded paths) and the sampled runs (checked by each
    :class:`BanditConfig`).
    """
    cfg = PARAMS.check(values)
    n_grid, mc_samples, sup_grid = cfg["n_grid"], cfg["mc_samples"], cfg["sup_grid"]
    n_runs, seed = cfg["n_runs"], cfg["seed"]
    check_memory(f"n_grid={n_grid}", n_grid**2 / 4 * 8 * 30 + 200**2 * 8 * 4,
                 "n_grid^2 / 4 grid orbits x 30 float64 arrays, and chapter 01's 200 x 200 grid")
    check_memory(f"mc_samples={mc_samples}", mc_samples * 8 * 6,
                 "mc_samples starts x 6 float64 arrays")
    check_memory(f"sup_grid={sup_grid}", (sup_grid**2 + 2 * sup_grid) * 2000 * 24 * 4,
                 "(sup_grid^2 + 2 sup_grid) supervised orbits, about 2000 steps each, the path "
                 "and three derived arrays of 24 bytes per step")
    check_time(f"n_grid={n_grid}, eps_list, sup_grid={sup_grid}",
               n_grid**2 * len(cfg["eps_list"]) * GRID_SECONDS + sup_grid**2 * SUP_SECONDS,
               "n_grid^2 x eps levels x 0.1 ms (B.3 basins) + sup_grid^2 x 10 ms (B.5 orbits), "
               "measured by benchmarks/estimate_rates.py")
    for i, J0 in enumerate(cfg["sampled_J0"]):
        BanditConfig(J0=J0, n_runs=n_runs, seed=seed + i, init="simplex",
                     max_samples=cfg["max_samples"], eta=cfg["eta"])
    return cfg

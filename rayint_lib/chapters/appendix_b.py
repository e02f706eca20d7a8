"""Chapter 06_appendix_b: App. B re-derived by computer algebra, B.3 and B.4 measured.

Everything starts from the reduced parameters of Sec. 2.1, ``J1 = sigma(theta1 + theta3)``
and ``J2 = sigma(theta2 - theta3)``: gradients, interference, Eqs. (1)-(2), ``Jddot`` and
``Jdddot`` are differentiated in theta-space and only then written in (J1, J2). ``PRINTED``
holds our transcription of what the paper prints; :func:`checks` compares the two, step by
step, with the one :class:`~rayint_lib.model.algebra.Check` type of the library.

The chapter's claims are the statements only the appendix prints (the B.1 matrix and its
determinant, the factor 2 of Eq. 3, the B.3 polygon, ...); the Sec. 2 statements that the
appendix derives are chapter 01's claims, which this chapter checks with its own evidence.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
import sympy as sp
from IPython.display import Markdown
from matplotlib.path import Path

from ..book.plotting import SETTING_COLORS, new_figure
from ..model import algebra, dynamics, stats
from ..model.algebra import check
from ..model.config import BanditConfig, check_memory, check_time
from ..model.params import Param, declare
from ..model.simulate import simulate
from . import claims_of

NOTEBOOK = "06_appendix_b"

J1, J2 = sp.symbols("J1 J2", real=True)
THETA = sp.symbols("theta1:4", real=True)
_T1, _T2, _T3 = THETA


def q(J):
    """``J (1 - J)``, the on-policy coupling (Sec. 3.1)."""
    return J * (1 - J)


Q1, Q2 = q(J1), q(J2)


# ---------------------------------------------------------------- the claims of this chapter
CLAIMS, FINDINGS = claims_of(NOTEBOOK)



# ---------------------------------------------------------------- derivations from theta
def _grad(f):
    return sp.Matrix([sp.diff(f, t) for t in THETA])


def _to_J(expr):
    """Write a function of theta in (J1, J2) by ``theta1 = logit(J1) - theta3`` etc."""
    back = {_T1: sp.log(J1 / (1 - J1)) - _T3, _T2: sp.log(J2 / (1 - J2)) + _T3}
    return sp.cancel(sp.simplify(expr.subs(back)))


def chain(f, flow):
    """``fdot = <grad f, grad J>`` for ``f(J1, J2)``: the chain rule ``f_J1 J1dot + f_J2 J2dot``."""
    return sp.expand(sp.diff(f, J1) * flow[0] + sp.diff(f, J2) * flow[1])


def _sigmoids():
    return 1 / (1 + sp.exp(-(_T1 + _T3))), 1 / (1 + sp.exp(-(_T2 - _T3)))


@lru_cache(maxsize=None)
def rl_derivation() -> dict:
    """Sec. 2.1-2.3 and App. B.2 derived in theta-space, returned as functions of (J1, J2).

    Keys: ``grad_J1``, ``grad_J2`` (3-vectors), ``rho``, ``Jdot1``, ``Jdot2``, ``Jdot``,
    ``Jddot_theta`` (``<grad Jdot, grad J>`` in theta), ``Jddot`` (chain rule in J, equal),
    ``Jdddot`` (chain rule), ``P6 = Jddot / (1 - J1 - J2)``.
    """
    j1, j2 = _sigmoids()
    g1, g2 = _grad(j1), _grad(j2)
    g = g1 + g2
    n1, n2, cross = g1.dot(g1), g2.dot(g2), g1.dot(g2)
    rho = sp.simplify(cross / sp.sqrt(n1 * n2))  # sigma > 0 and 1 - sigma > 0 in theta-space
    jdot1, jdot2 = g1.dot(g), g2.dot(g)
    out = {
        "grad_J1": sp.Matrix([_to_J(c) for c in g1]),
        "grad_J2": sp.Matrix([_to_J(c) for c in g2]),
        "rho": _to_J(rho),
        "Jdot1": sp.factor(_to_J(jdot1)),
        "Jdot2": sp.factor(_to_J(jdot2)),
        "Jddot_theta": sp.expand(_to_J(_grad(jdot1 + jdot2).dot(g))),
    }
    flow = (out["Jdot1"], out["Jdot2"])
    out["Jdot"] = sp.expand(out["Jdot1"] + out["Jdot2"])
    out["Jddot"] = chain(out["Jdot"], flow)
    out["Jdddot"] = chain(out["Jddot"], flow)
    out["P6"] = sp.expand(sp.cancel(out["Jddot"] / (1 - J1 - J2)))
    return out


@lru_cache(maxsize=None)
def supervised_derivation() -> dict:
    """App. B.5 derived in theta-space: ``J_sup = log J1 + log J2`` trained by its gradient.

    Keys: ``grad_Jsup``, ``rho_sup`` (cosine of grad log J1 and grad log J2), ``rho_printed``
    (the printed ratio with ``||grad J_k||`` in the denominator), ``Jdot1``, ``Jdot2``
    (``<grad J_k, grad J_sup>``), ``Jsup_dot``, ``Jsup_ddot``, and for the performance
    ``J = J1 + J2`` under the same flow: ``Jdot``, ``Jddot``.
    """
    j1, j2 = _sigmoids()
    g1, g2 = _grad(j1), _grad(j2)
    l1, l2 = _grad(sp.log(j1)), _grad(sp.log(j2))
    gs = l1 + l2
    rho = sp.simplify(l1.dot(l2) / sp.sqrt(l1.dot(l1) * l2.dot(l2)))
    rho_printed = sp.simplify(l1.dot(l2) / sp.sqrt(g1.dot(g1) * g2.dot(g2)))
    jsup_dot = gs.dot(gs)
    out = {
        "grad_Jsup": sp.Matrix([_to_J(c) for c in gs]),
        "rho_sup": _to_J(rho),
        "rho_printed": _to_J(rho_printed),
        "Jdot1": sp.factor(_to_J(g1.dot(gs))),
        "Jdot2": sp.factor(_to_J(g2.dot(gs))),
        "Jsup_dot": sp.expand(_to_J(jsup_dot)),
        "Jsup_ddot_theta": sp.expand(_to_J(_grad(jsup_dot).dot(gs))),
    }
    flow = (out["Jdot1"], out["Jdot2"])
    out["Jsup_ddot"] = chain(out["Jsup_dot"], flow)
    out["Jdot"] = sp.expand(out["Jdot1"] + out["Jdot2"])
    out["Jddot"] = chain(out["Jdot"], flow)
    out["Jdddot"] = chain(out["Jddot"], flow)
    return out


# ---------------------------------------------------------------- what the paper prints
def _printed():
    h = sp.Rational(1, 2)
    five4 = sp.Rational(5, 4)
    bracket = (-8 * J1**6 + 8 * J1**5 * J2 + 20 * J1**5 - 20 * J1**4 * J2 - 16 * J1**4
               - 2 * J1**3 * J2**3 + 3 * J1**3 * J2**2 + 15 * J1**3 * J2 + 4 * J1**3
               + 3 * J1**2 * J2**3 - 4 * J1**2 * J2**2 - 3 * J1**2 * J2 + 8 * J1 * J2**5
               - 20 * J1 * J2**4 + 15 * J1 * J2**3 - 3 * J1 * J2**2 - 8 * J2**6 + 20 * J2**5
               - 16 * J2**4 + 4 * J2**3)
    a1, a2 = 2 * J1 - J2, 2 * J2 - J1  # the printed shorthand of line 6 (J_k for q_k)
    return {
        # Sec. 2.1-2.2
        "grad_J1": Q1 * sp.Matrix([1, 0, 1]),
        "grad_J2": Q2 * sp.Matrix([0, 1, -1]),
        "rho": -h,
        "Jdot1": 2 * J1**2 * (1 - J1)**2 - Q1 * Q2,
        "Jdot2": 2 * J2**2 * (1 - J2)**2 - Q1 * Q2,
        "eps_antidiagonal": 2 * J1**2 * (1 - J1)**2,
        # App. B.1
        "jacobian": sp.Matrix([[1 - 2 * J1, J2 - h], [J1 - h, 1 - 2 * J2]]),
        "det": five4 * (1 - 2 * J1) * (1 - 2 * J2),
        "trace": -2 * J1 - 2 * J2 + 2,
        "table": {(0, 0): (2, five4, "unstable"), (0, 1): (0, -five4, "saddle"),
                  (1, 0): (0, -five4, "saddle"), (1, 1): (-2, five4, "stable")},
        # App. B.2, line by line
        "B2_line3": 2 * Q1**2 - 2 * Q1 * Q2 + 2 * Q2**2,
        "B2_line4": (4 * Q1 * (1 - 2 * J1) - 2 * Q2 * (1 - 2 * J1),   # coefficients of grad J1,
                     4 * Q2 * (1 - 2 * J2) - 2 * Q1 * (1 - 2 * J2)),   # grad J2
        "B2_line5": (2 * (1 - 2 * J1) * (2 * Q1 - Q2) * 2 * Q1**2
                     + 2 * (1 - 2 * J2) * (-Q1 + 2 * Q2) * 2 * Q2**2
                     + 2 * ((1 - 2 * J1) * (2 * Q1 - Q2) + (1 - 2 * J2) * (-Q1 + 2 * Q2))
                     * (-Q1 * Q2)),
        "B2_line6_literal": (4 * (1 - 2 * J1) * a1 * J1**2 + 4 * (1 - 2 * J2) * a2 * J1**2
                             - 2 * J1 * J2 * ((1 - 2 * J1) * a1 + (1 - 2 * J2) * a2)),
        "B2_bracket": bracket,
        "B2_line7": 2 * (1 - J1 - J2) * bracket,
        "P6_antidiagonal": -(J1 - 1)**2 * J1**2 * (30 * J1**2 - 30 * J1 + 7),
        "plateau_boundaries": ((15 - sp.sqrt(15)) / 30, (15 + sp.sqrt(15)) / 30),
        # App. B.4
        "null_cline_derivatives": (2, 1),
        "P_nc": 4 / sp.pi * sp.atan(h),
        # App. B.5 and Eq. (4)
        "sup_grad_Jsup": (1 - J1) * sp.Matrix([1, 0, 1]) + (1 - J2) * sp.Matrix([0, 1, -1]),
        "sup_rho": -h,
        "sup_Jdot1": J1 * (1 - J1) * (1 - 2 * J1 + J2),
        "sup_Jdot1_middle": 2 * J1 * (1 - J1)**2 - J1 * (1 - J1) * (1 - J2),
        "sup_dlogJ1": 2 * (1 - J1)**2 - (1 - J1) * (1 - J2),
        "sup_Jsup_dot": 2 * (1 - J1)**2 - 2 * (1 - J1) * (1 - J2) + 2 * (1 - J2)**2,
        "sup_Jsup_dot_sos": 2 * (J1 - J2)**2 + 2 * (1 - J1) * (1 - J2),
        "sup_grad_Jsup_dot": (4 * J1 - 2 * J2 - 2, 4 * J2 - 2 * J1 - 2),  # of grad J_k
        "sup_Jsup_ddot": (-2 * J1 * (1 - J1) * (1 - 2 * J1 + J2)**2
                          - 2 * J2 * (1 - J2) * (1 - 2 * J2 + J1)**2),
    }


PRINTED = _printed()


# ---------------------------------------------------------------- App. B.1
def fixed_points(flow):
    """Zeros of a J-space field in the closed unit square (exact, via ``sympy.solve``)."""
    sols = sp.solve(list(flow), [J1, J2], dict=True)
    pts = {(s[J1], s[J2]) for s in sols if s[J1].is_real and s[J2].is_real}
    return sorted(p for p in pts if 0 <= p[0] <= 1 and 0 <= p[1] <= 1)


def jacobian(flow):
    """Jacobian ``d(F1, F2)/d(J1, J2)`` of a J-space field."""
    return sp.Matrix([[sp.diff(f, v) for v in (J1, J2)] for f in flow])


def logit_field(flow):
    """``(J1dot / q1, J2dot / q2)``: the rates of ``logit J_k`` (half its Jacobian is the
    printed B.1 matrix)."""
    return tuple(sp.cancel(f / qq) for f, qq in zip(flow, (Q1, Q2)))


def classify(trace, det):
    """Linear type from trace and determinant (node / focus / saddle; stable / unstable)."""
    trace, det = float(trace), float(det)
    if det < 0:
        return "saddle"
    if det == 0:
        return "degenerate"
    kind = "node" if trace**2 - 4 * det >= 0 else "focus"
    if trace > 0:
        return f"unstable {kind}"
    if trace < 0:
        return f"stable {kind}"
    return "centre"


def half_logit_jacobian():
    """Half the Jacobian of the logit rates, derived from theta: our reading of the B.1 matrix."""
    R = rl_derivation()
    return sp.simplify(jacobian(logit_field((R["Jdot1"], R["Jdot2"]))) / 2)


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
def antidiagonal(expr):
    """``expr`` on ``J2 = 1 - J1``, factored."""
    return sp.factor(expr.subs(J2, 1 - J1))


def plateau_boundaries():
    """Roots in (0, 1) of ``P6(J1, 1 - J1) / (J1^2 (1 - J1)^2)`` (App. B.2), exact."""
    p = sp.cancel(rl_derivation()["P6"].subs(J2, 1 - J1) / (J1**2 * (1 - J1)**2))
    return tuple(sorted((r for r in sp.solve(p, J1) if 0 < r < 1), key=float))


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


def plot_p6(acc: Acceleration):
    """Figure B1: ``P6`` on the anti-diagonal, printed and from our derivation."""
    x = np.linspace(0, 1, 401)
    printed = sp.lambdify(J1, PRINTED["P6_antidiagonal"])(x)
    ours = sp.lambdify(J1, antidiagonal(rl_derivation()["P6"]))(x)
    fig, axes = new_figure(ncols=1, width=6.4, height=3.6)
    ax = axes[0, 0]
    ax.plot(x, printed, color=SETTING_COLORS["on_policy"],
            label=r"printed: $-(J_1-1)^2J_1^2(30J_1^2-30J_1+7)$")
    ax.plot(x, ours, "--", color="k", label=r"$\ddot J/(1-J_1-J_2)$ on the anti-diagonal (ours)")
    for a, b in [(0, acc.low), (acc.high, 1)]:
        ax.axvspan(a, b, color=SETTING_COLORS["on_policy"], alpha=0.1)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel(r"$J_1$ on the anti-diagonal $J_2 = 1 - J_1$")
    ax.set_ylabel(r"$P_6(J_1, 1 - J_1)$")
    ax.legend(loc="lower center")
    return fig


# ---------------------------------------------------------------- App. B.3
def notch_threshold():
    """The ``eps`` above which the B.3 exit point lies below ``J2 = 1/2`` (polygon with a notch).

    At ``J2 = 1/2`` the null cline ``J1dot = 0`` reaches its largest ``J1 = (1 - 1/sqrt 2)/2``;
    the bound ``J1[2] <= (1 + J1[1] - J2[1]) / 2`` gives ``a``, and ``eps = 2 a^2 (1 - a)^2``.
    """
    j1 = (1 - 1 / sp.sqrt(2)) / 2
    a = (1 + j1 - sp.Rational(1, 2)) / 2
    return sp.nsimplify(sp.expand(2 * a**2 * (1 - a)**2))


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


def plot_basins(basins: Basins):
    """Figure B2: the measured basin, the null cline and the B.3 polygons."""
    n, pts, flat = basins.n_grid, basins.points, basins.flatness
    fig, axes = new_figure(ncols=2, width=5.0, height=4.6)
    ax = axes[0, 0]
    g = np.full((n, n), np.nan)
    idx = np.floor(pts * n).astype(int)
    g[idx[:, 1], idx[:, 0]] = np.log10(np.maximum(flat, 1e-12))
    im = ax.imshow(g, origin="lower", extent=(0, 1, 0, 1), cmap="viridis", vmin=-8,
                   vmax=np.log10(0.125))
    fig.colorbar(im, ax=ax, label=r"$\log_{10}\epsilon$ of the plateau reached")
    jj = np.linspace(0, 1, 400)
    for i, b in enumerate(basins.rows.values()):
        poly = np.vstack([b["polygon"], b["polygon"][:1]])
        ax.plot(poly[:, 0], poly[:, 1], color=SETTING_COLORS["on_policy"], lw=1.2,
                label="B.3 polygons" if i == 0 else None)
    ax.set_title("deterministic orbits")
    ax = axes[0, 1]
    e0 = max(basins.rows)
    b0 = basins.rows[e0]
    inb = flat <= e0
    ax.scatter(pts[inb, 0], pts[inb, 1], s=1, color="orange",
               label=rf"measured basin, $\epsilon = {e0:g}$")
    poly = np.vstack([b0["polygon"], b0["polygon"][:1]])
    ax.plot(poly[:, 0], poly[:, 1], color=SETTING_COLORS["on_policy"], lw=1.5,
            label="printed vertex list")
    four = b0["polygon"][[0, 1, 2, 3, 0]]
    ax.plot(four[:, 0], four[:, 1], "--", color="k", lw=1, label="4 vertices")
    ax.axhline(0.5, color="grey", lw=0.6, ls=":")
    ax.set_title(rf"$\epsilon = {e0:g}$: the notch")
    for ax in axes[0]:
        ax.plot(dynamics.null_cline_J1(jj), jj, color=SETTING_COLORS["tabular"], lw=1.5,
                label=r"null cline $\dot J_1 = 0$")
        ax.plot(jj, 1 - jj, color="k", lw=0.8)
        ax.set(xlim=(0, 0.5), ylim=(0, 1), xlabel=r"$J_1$", ylabel=r"$J_2$")
        ax.legend(loc="lower right", fontsize="x-small")
    return fig


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
def null_cline_slopes_at_origin():
    """``dJ2/dJ1`` at (0, 0) of the null clines ``J1dot = 0`` and ``J2dot = 0`` (implicit
    differentiation of the clines of Sec. 2.4, divided by ``q1 q2``)."""
    out = []
    for g in (2 * Q1 - Q2, Q1 - 2 * Q2):
        slope = -sp.diff(g, J1) / sp.diff(g, J2)
        out.append(sp.nsimplify(slope.subs({J1: 0, J2: 0})))
    return tuple(out)


def p_nc_from_slopes(slopes=None):
    """App. B.4: ``P_nc`` = share of directions in the positive quadrant under either null cline.

    The cline ``J1dot = 0`` leaves the origin with slope ``s1`` (> 1): directions steeper than
    it are in the WTA region of J2; the cline ``J2dot = 0`` has slope ``s2`` (< 1): directions
    flatter than it are in the WTA region of J1.
    """
    s1, s2 = slopes or null_cline_slopes_at_origin()
    return sp.simplify((sp.atan(1 / s1) + sp.atan(s2)) / (sp.pi / 2))


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
def inflections_on_orbits(path, jddot, jdot):
    """Concave-to-convex inflections of ``J(t)`` along orbits (Definition 2).

    ``path``: ``[steps + 1, 2, starts]`` from ``dynamics.follow_orbits(..., path=True)`` (NaN
    after an orbit stops); ``jddot``, ``jdot``: sympy expressions in (J1, J2). Returns
    ``(rising, rate)``, ``[steps, starts]``: where ``jddot`` changes sign from negative to
    positive between two steps, and ``jdot`` there (interpolated linearly in the step).
    Definition 2 also asks ``0 <= jdot <= eps``: an inflection with ``jdot < 0`` is not a
    plateau (J is falling).
    """
    P1, P2 = path[:, 0], path[:, 1]
    with np.errstate(invalid="ignore"):
        acc = np.broadcast_to(sp.lambdify((J1, J2), jddot, "numpy")(P1, P2), P1.shape)
        rate = np.broadcast_to(sp.lambdify((J1, J2), jdot, "numpy")(P1, P2), P1.shape)
    s = np.sign(acc)
    rising = (s[:-1] < 0) & (s[1:] > 0)
    w = np.where(rising, -acc[:-1] / np.where(rising, acc[1:] - acc[:-1], 1.0), 0.0)
    return rising, np.where(rising, rate[:-1] + w * (rate[1:] - rate[:-1]), np.nan)


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
    ``J_sup`` along the orbits (``dynamics.follow_orbits``) from a ``sup_grid``-per-axis grid
    plus starts near ``J1 = 0``, followed until ``J >= J_end``."""
    S, c = supervised_derivation(), checks()
    flow = (S["Jdot1"], S["Jdot2"])
    jac = jacobian(flow)
    types = {}
    for a, b in fixed_points(flow):
        corner = a in (0, 1) and b in (0, 1)  # Jacobian degenerate there: use the flow
        m = jac.subs({J1: a, J2: b})
        types[(a, b)] = (dynamics.classify_corner(dynamics.jdot_supervised, float(a), float(b))
                         if corner else classify(m.trace(), m.det()))
    gg = (np.arange(400) + 0.5) / 400
    A, B = np.meshgrid(gg, gg)
    share_convex = float(np.mean(sp.lambdify((J1, J2), S["Jddot"])(A, B) > 0))
    gs = (np.arange(sup_grid) + 0.5) / sup_grid
    Aa, Bb = np.meshgrid(gs, gs)
    edge = np.linspace(0.02, 0.98, sup_grid)
    starts = np.vstack([np.column_stack([Aa.ravel(), Bb.ravel()]),
                        np.column_stack([np.full(sup_grid, 1e-3), edge]),
                        np.column_stack([np.full(sup_grid, 1e-6), edge])])
    n_grid = sup_grid**2
    orbits = dynamics.follow_orbits(starts[:, 0], starts[:, 1], J_end, dynamics.jdot_supervised,
                                    path=True)
    rising, rate = inflections_on_orbits(orbits["path"], S["Jddot"], S["Jdot"])
    plateau = rising & (rate >= 0)
    up = plateau.any(axis=0)
    eps = rate[plateau]
    up_sup, _ = inflections_on_orbits(orbits["path"], S["Jsup_ddot"], S["Jsup_dot"])
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
        jsup_up=int(up_sup.sum()),
        jsup_ddot_max=float(np.max(sp.lambdify((J1, J2), S["Jsup_ddot_theta"])(A, B))),
        eq4_holds=algebra.all_hold(c, ["sup_Jsup_ddot", "sup_Jsup_ddot_theta"]),
        lines_hold=algebra.all_hold(c, ["sup_grad_Jsup", "sup_Jdot1_middle", "sup_Jdot1",
                                        "sup_dlogJ1", "sup_Jsup_dot", "sup_Jsup_dot_sos",
                                        "sup_grad_Jsup_dot", "sup_Jsup_ddot"]),
        rho=float(S["rho_sup"]), rho_printed_holds=algebra.find(c, "sup_rho_printed").holds,
        shown=[(bool(up[i]), orbits["path"][:, :, i], orbits["path_time"][:, i]) for i in keep])


def fixed_points_text(types: dict) -> str:
    """``"(0, 0): unstable, (0, 1/2): saddle, ..."``."""
    return ", ".join(f"({a}, {b}): {t}" for (a, b), t in types.items())


def plot_supervised(sup: Supervised):
    """Figure B3: the supervised flow, where J accelerates, and orbits near the edge."""
    S = supervised_derivation()
    gg = (np.arange(400) + 0.5) / 400
    A, B = np.meshgrid(gg, gg)
    fig, axes = new_figure(ncols=2, width=5.0, height=4.2)
    ax = axes[0, 0]
    ax.contourf(A, B, np.sign(sp.lambdify((J1, J2), S["Jddot"])(A, B)), levels=[-1.5, 0, 1.5],
                colors=["#f3f3f3", "#fde9a9"])
    U, V = sp.lambdify((J1, J2), [S["Jdot1"], S["Jdot2"]])(A[::25, ::25], B[::25, ::25])
    ax.quiver(A[::25, ::25], B[::25, ::25], U, V, color="grey", width=0.003)
    for plateau, path, _ in sup.shown:
        ax.plot(path[:, 0], path[:, 1], color=SETTING_COLORS["supervised"] if plateau else "k",
                lw=1)
    ax.plot([0, 0.5], [0.5, 0], "x", color="k", ms=8, mew=2, label="boundary saddles")
    ax.set(xlabel=r"$J_1$", ylabel=r"$J_2$", xlim=(0, 1), ylim=(0, 1),
           title=r"supervised flow; shaded: $\ddot J > 0$")
    ax.legend(loc="lower right", fontsize="x-small")
    ax = axes[0, 1]
    for plateau, path, time in sup.shown:
        ax.plot(time, path.sum(axis=1), color=SETTING_COLORS["supervised"] if plateau else "k",
                lw=1)
    ax.set(xscale="log", xlabel="time (continuous, expected updates)",
           ylabel=r"$J = J_1 + J_2$", title="individual learning curves")
    return fig


# ---------------------------------------------------------------- the printed steps, checked
def _to_J_grad(f):
    """``grad_theta f(J1, J2)`` = ``f_J1 grad J1 + f_J2 grad J2`` as a 3-vector in (J1, J2)."""
    R = rl_derivation()
    return sp.diff(f, J1) * R["grad_J1"] + sp.diff(f, J2) * R["grad_J2"]


def _line6_read_with_q():
    """Line 6 of B.2 with ``J_k`` read as ``q_k`` and the second ``J1^2`` as ``q2^2``."""
    a1, a2 = 2 * Q1 - Q2, 2 * Q2 - Q1
    return (4 * (1 - 2 * J1) * a1 * Q1**2 + 4 * (1 - 2 * J2) * a2 * Q2**2
            - 2 * Q1 * Q2 * ((1 - 2 * J1) * a1 + (1 - 2 * J2) * a2))


@lru_cache(maxsize=None)
def checks() -> tuple[algebra.Check, ...]:
    """Every printed step of Sec. 2.1-2.5 and App. B.1, B.2, B.4, B.5 against our derivation."""
    P, R, S = PRINTED, rl_derivation(), supervised_derivation()
    ours = half_logit_jacobian()
    flow = (R["Jdot1"], R["Jdot2"])
    c = [
        check("grad_J1", "2.1", r"\nabla J_1", P["grad_J1"], R["grad_J1"]),
        check("grad_J2", "2.1", r"\nabla J_2", P["grad_J2"], R["grad_J2"]),
        check("rho", "2.1", r"\rho", P["rho"], R["rho"]),
        check("Jdot1", "2.2", r"\dot J_1 \text{ (Eq. 1)}", P["Jdot1"], R["Jdot1"]),
        check("Jdot2", "2.2", r"\dot J_2 \text{ (Eq. 2)}", P["Jdot2"], R["Jdot2"]),
        check("eps_antidiagonal", "2.3", r"\epsilon = \dot J\,\vert_{J_2 = 1 - J_1}",
              P["eps_antidiagonal"], sp.factor(R["Jdot"].subs(J2, 1 - J1))),
        # B.1
        check("jacobian_eqs12", "B.1", r"\partial(\dot J_1, \dot J_2)/\partial(J_1, J_2)",
              P["jacobian"], sp.simplify(jacobian(flow)),
              "the Jacobian of Eqs. 1-2 is a different matrix; it vanishes at all four corners"),
        check("jacobian_logit", "B.1",
              r"\tfrac12\,\partial(\dot J_1/q_1, \dot J_2/q_2)/\partial(J_1, J_2)",
              P["jacobian"], ours, "our reading of the printed matrix"),
        check("det", "B.1", r"\det", P["det"], sp.factor(ours.det()),
              "the determinant of the matrix is 3/4 (1-2J1)(1-2J2), not 5/4 (...)"),
        check("trace", "B.1", r"\operatorname{tr}", P["trace"], ours.trace()),
        # B.2 line by line
        check("B2_line3", "B.2", r"\dot J", P["B2_line3"], R["Jdot"]),
        check("B2_line4", "B.2", r"\nabla \dot J",
              P["B2_line4"][0] * R["grad_J1"] + P["B2_line4"][1] * R["grad_J2"],
              _to_J_grad(R["Jdot"])),
        check("B2_line5", "B.2", r"\langle \nabla \dot J, \nabla J\rangle \text{ (norms)}",
              P["B2_line5"], R["Jddot"]),
        check("B2_line6_literal", "B.2", r"\text{line 6 as printed}", P["B2_line6_literal"],
              R["Jddot"], "prints J_k for q_k = J_k(1-J_k) and J_1^2 where q_2^2 belongs"),
        check("B2_line6_read", "B.2", r"\text{line 6, } J_k \to q_k,\ J_1^2 \to q_2^2"
              r"\text{ in term 2}", _line6_read_with_q(), R["Jddot"], "our reading of line 6"),
        check("B2_line7", "B.2", r"\ddot J = 2(1 - J_1 - J_2)[\dots]", P["B2_line7"],
              R["Jddot"]),
        check("B2_eq3", "B.2", r"\ddot J = (1 - J_1 - J_2) P_6,\ P_6 = [\dots]",
              (1 - J1 - J2) * P["B2_bracket"], R["Jddot"],
              "off by the factor 2 printed one line above"),
        check("P6_antidiagonal_bracket", "B.2", r"[\dots]_{J_2 = 1 - J_1}",
              P["P6_antidiagonal"], antidiagonal(sp.cancel(R["Jddot"] / (2 * (1 - J1 - J2)))),
              "P6 read as Jddot / (2 (1 - J1 - J2)), the printed bracket"),
        check("P6_antidiagonal_eq3", "B.2",
              r"P_6(J_1, 1 - J_1),\ P_6 := \ddot J/(1 - J_1 - J_2)", P["P6_antidiagonal"],
              antidiagonal(R["P6"]), "with Eq. (3) as printed, P6 is twice the printed one"),
        check("Jdddot_antidiagonal", "B.2", r"\dddot J\,\vert_{J_2 = 1 - J_1} = -\dot J\, P_6",
              sp.S(0), antidiagonal(R["Jdddot"] + R["Jdot"] * R["P6"]),
              "so Jdddot > 0 exactly where P6 < 0 (Definition 2)"),
        check("plateau_boundaries", "B.2", r"\text{plateau interval ends}",
              sp.Matrix(P["plateau_boundaries"]), sp.Matrix(plateau_boundaries())),
        # B.4
        check("null_cline_slopes", "B.4", r"dJ_2/dJ_1|_{(0,0)} \text{ of the null clines}",
              sp.Matrix([2, sp.Rational(1, 2)]), sp.Matrix(null_cline_slopes_at_origin()),
              "printed as derivatives 2 and 1 of the two sides: slope 2 of J1dot=0, 1/2 of "
              "J2dot=0"),
        check("P_nc", "B.4", r"P_{nc}", P["P_nc"], p_nc_from_slopes()),
        # B.5
        check("sup_grad_Jsup", "B.5", r"\nabla J_{sup}", P["sup_grad_Jsup"], S["grad_Jsup"]),
        check("sup_rho", "B.5", r"\rho_{sup} \text{ (cosine)}", P["sup_rho"], S["rho_sup"]),
        check("sup_rho_printed", "B.5", r"\rho_{sup} \text{ as printed (denominator }"
              r"\|\nabla J_k\|)", P["sup_rho"], S["rho_printed"],
              "mismatched denominator: the printed ratio is -1/(2 J1 J2)"),
        check("sup_Jdot1_middle", "B.5", r"\dot J_1 = \langle\nabla J_1, \nabla J_{sup}\rangle",
              P["sup_Jdot1_middle"], S["Jdot1"],
              r"printed with \nabla J; it is the gradient of J_sup that drives the flow"),
        check("sup_Jdot1", "B.5", r"\dot J_1 \text{ factored}", P["sup_Jdot1"], S["Jdot1"]),
        check("sup_dlogJ1", "B.5", r"\tfrac{d}{dt}\log J_1 = \dot J_1/J_1", P["sup_dlogJ1"],
              sp.cancel(S["Jdot1"] / J1), r"printed as 'log \dot J_1'"),
        check("sup_Jsup_dot", "B.5", r"\dot J_{sup} = \|\nabla J_{sup}\|^2", P["sup_Jsup_dot"],
              S["Jsup_dot"], r"printed as '\dot J_sup = log J1 + log J2 = ...'"),
        check("sup_Jsup_dot_sos", "B.5", r"\dot J_{sup} = 2(J_1 - J_2)^2 + 2(1 - J_1)(1 - J_2)",
              P["sup_Jsup_dot_sos"], S["Jsup_dot"]),
        check("sup_grad_Jsup_dot", "B.5", r"\nabla \dot J_{sup}",
              P["sup_grad_Jsup_dot"][0] * R["grad_J1"] + P["sup_grad_Jsup_dot"][1] * R["grad_J2"],
              _to_J_grad(S["Jsup_dot"])),
        check("sup_Jsup_ddot", "B.5", r"\ddot J_{sup} \text{ (Eq. 4)}", P["sup_Jsup_ddot"],
              S["Jsup_ddot"]),
        check("sup_Jsup_ddot_theta", "B.5", r"\ddot J_{sup}\text{, chain rule = theta-space}",
              S["Jsup_ddot"], S["Jsup_ddot_theta"]),
        check("rl_Jddot_theta", "B.2", r"\ddot J\text{, chain rule = theta-space}", R["Jddot"],
              R["Jddot_theta"]),
    ]
    return tuple(c)


GROUPS = {
    "2.1-2.2": ["grad_J1", "grad_J2", "rho", "Jdot1", "Jdot2", "rl_Jddot_theta"],
    "B.1": ["jacobian_eqs12", "jacobian_logit", "det", "trace"],
    "B.2": ["B2_line3", "B2_line4", "B2_line5", "B2_line6_literal", "B2_line6_read", "B2_line7",
            "B2_eq3", "P6_antidiagonal_bracket", "P6_antidiagonal_eq3", "Jdddot_antidiagonal",
            "plateau_boundaries", "eps_antidiagonal"],
    "B.4": ["null_cline_slopes", "P_nc"],
    "B.5": ["sup_grad_Jsup", "sup_rho", "sup_rho_printed", "sup_Jdot1_middle", "sup_Jdot1",
            "sup_dlogJ1", "sup_Jsup_dot", "sup_Jsup_dot_sos", "sup_grad_Jsup_dot",
            "sup_Jsup_ddot", "sup_Jsup_ddot_theta"],
}


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

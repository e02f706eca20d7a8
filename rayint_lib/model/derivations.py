"""App. B's derivations by computer algebra, from theta (Sec. 2.1-2.5, App. B.1-B.5).

Everything starts from the reduced parameters of Sec. 2.1, ``J1 = sigma(theta1 + theta3)``
and ``J2 = sigma(theta2 - theta3)``: gradients, interference, Eqs. (1)-(2), ``Jddot`` and
``Jdddot`` are differentiated in theta-space and only then written in (J1, J2). The exact
analysis of the resulting flows (fixed points, Jacobians, the plateau interval of B.2, the
null-cline slopes and ``P_nc`` of B.4, the orbits of B.5 and their inflections) works on those
expressions. What the paper prints, and each printed step checked against these
derivations, is :mod:`rayint_lib.model.appendix_b_checks`.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from . import dynamics

J1, J2 = sp.symbols("J1 J2", real=True)
THETA = sp.symbols("theta1:4", real=True)
_T1, _T2, _T3 = THETA


def q(J):
    """``J (1 - J)``, the on-policy coupling (Sec. 3.1)."""
    return J * (1 - J)


Q1, Q2 = q(J1), q(J2)


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


def grad_theta(f):
    """``grad_theta f(J1, J2)`` = ``f_J1 grad J1 + f_J2 grad J2`` as a 3-vector in (J1, J2)."""
    R = rl_derivation()
    return sp.diff(f, J1) * R["grad_J1"] + sp.diff(f, J2) * R["grad_J2"]



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


def fixed_point_types(flow, field) -> dict:
    """``{(J1, J2): type}`` of the zeros of a J-space field in the closed square: a corner is
    classified from the numerical ``field`` around it (``dynamics.classify_corner``, the
    Jacobian is degenerate there), any other point from its Jacobian (:func:`classify`)."""
    jac = jacobian(flow)
    types = {}
    for a, b in fixed_points(flow):
        m = jac.subs({J1: a, J2: b})
        types[(a, b)] = (dynamics.classify_corner(field, float(a), float(b))
                         if a in (0, 1) and b in (0, 1) else classify(m.trace(), m.det()))
    return types


def half_logit_jacobian():
    """Half the Jacobian of the logit rates, derived from theta: our reading of the B.1 matrix."""
    R = rl_derivation()
    return sp.simplify(jacobian(logit_field((R["Jdot1"], R["Jdot2"]))) / 2)


# ---------------------------------------------------------------- App. B.2 and B.3
def antidiagonal(expr):
    """``expr`` on ``J2 = 1 - J1``, factored."""
    return sp.factor(expr.subs(J2, 1 - J1))


def plateau_boundaries():
    """Roots in (0, 1) of ``P6(J1, 1 - J1) / (J1^2 (1 - J1)^2)`` (App. B.2), exact."""
    p = sp.cancel(rl_derivation()["P6"].subs(J2, 1 - J1) / (J1**2 * (1 - J1)**2))
    return tuple(sorted((r for r in sp.solve(p, J1) if 0 < r < 1), key=float))


def notch_threshold():
    """The ``eps`` above which the B.3 exit point lies below ``J2 = 1/2`` (polygon with a notch).

    At ``J2 = 1/2`` the null cline ``J1dot = 0`` reaches its largest ``J1 = (1 - 1/sqrt 2)/2``;
    the bound ``J1[2] <= (1 + J1[1] - J2[1]) / 2`` gives ``a``, and ``eps = 2 a^2 (1 - a)^2``.
    """
    j1 = (1 - 1 / sp.sqrt(2)) / 2
    a = (1 + j1 - sp.Rational(1, 2)) / 2
    return sp.nsimplify(sp.expand(2 * a**2 * (1 - a)**2))


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


def cell_centres(n):
    """``(A, B)``: the centres of the ``n x n`` cells of the unit square, as a meshgrid."""
    g = (np.arange(n) + 0.5) / n
    return np.meshgrid(g, g)


def supervised_orbits(sup_grid, J_end=1.98) -> dict:
    """App. B.5's orbits under the supervised flow, and where ``J`` and ``J_sup`` inflect.

    Starts: the cell centres of a ``sup_grid``-per-axis grid (the first ``sup_grid^2``), then
    ``sup_grid`` starts at ``J1 = 1e-3`` and at ``J1 = 1e-6`` with ``J2`` in [0.02, 0.98];
    each followed until ``J >= J_end`` (``dynamics.follow_orbits``, paths recorded). Returns
    ``starts``, ``path``, ``path_time`` and, from :func:`inflections_on_orbits`, ``rising`` and
    ``rate`` for ``J = J1 + J2`` and ``rising_sup`` for ``J_sup``.
    """
    S = supervised_derivation()
    Aa, Bb = cell_centres(sup_grid)
    edge = np.linspace(0.02, 0.98, sup_grid)
    starts = np.vstack([np.column_stack([Aa.ravel(), Bb.ravel()]),
                        np.column_stack([np.full(sup_grid, 1e-3), edge]),
                        np.column_stack([np.full(sup_grid, 1e-6), edge])])
    orbits = dynamics.follow_orbits(starts[:, 0], starts[:, 1], J_end, dynamics.jdot_supervised,
                                    path=True)
    rising, rate = inflections_on_orbits(orbits["path"], S["Jddot"], S["Jdot"])
    rising_sup, _ = inflections_on_orbits(orbits["path"], S["Jsup_ddot"], S["Jsup_dot"])
    return {"starts": starts, "path": orbits["path"], "path_time": orbits["path_time"],
            "rising": rising, "rate": rate, "rising_sup": rising_sup}

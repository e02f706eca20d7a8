"""Appendix B by computer algebra: each printed derivation re-derived with sympy (App. B.1-B.5).

Everything starts from the reduced parameters of Sec. 2.1, ``J1 = sigma(theta1 + theta3)``
and ``J2 = sigma(theta2 - theta3)``: gradients, interference, Eqs. (1)-(2), ``Jddot`` and
``Jdddot`` are differentiated in theta-space and only then written in (J1, J2).
``PRINTED`` holds our transcription of what the paper prints; :func:`checks` compares the
two, step by step. Equality is decided by ``sympy.cancel`` of the difference (exact for
rational functions), never by comparing strings.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from ..model.config import check_float, check_int

J1, J2 = sp.symbols("J1 J2", real=True)
THETA = sp.symbols("theta1:4", real=True)
_T1, _T2, _T3 = THETA


def q(J):
    """``J (1 - J)``, the on-policy coupling (Sec. 3.1)."""
    return J * (1 - J)


Q1, Q2 = q(J1), q(J2)


def same(a, b) -> bool:
    """``a == b`` identically (rational functions of J1, J2: exact)."""
    return sp.cancel(sp.together(sp.expand(a - b))) == 0


def _grad(f):
    return sp.Matrix([sp.diff(f, t) for t in THETA])


def _to_J(expr):
    """Write a function of theta in (J1, J2) by ``theta1 = logit(J1) - theta3`` etc."""
    back = {_T1: sp.log(J1 / (1 - J1)) - _T3, _T2: sp.log(J2 / (1 - J2)) + _T3}
    return sp.cancel(sp.simplify(expr.subs(back)))


def chain(f, field):
    """``fdot = <grad f, grad J>`` for ``f(J1, J2)``: the chain rule ``f_J1 J1dot + f_J2 J2dot``."""
    return sp.expand(sp.diff(f, J1) * field[0] + sp.diff(f, J2) * field[1])


@lru_cache(maxsize=None)
def rl_derivation() -> dict:
    """Sec. 2.1-2.3 and App. B.2 derived in theta-space, returned as functions of (J1, J2).

    Keys: ``grad_J1``, ``grad_J2`` (3-vectors), ``rho``, ``Jdot1``, ``Jdot2``, ``Jdot``,
    ``Jddot_theta`` (``<grad Jdot, grad J>`` in theta), ``Jddot`` (chain rule in J, equal),
    ``Jdddot`` (chain rule), ``P6 = Jddot / (1 - J1 - J2)``.
    """
    j1 = 1 / (1 + sp.exp(-(_T1 + _T3)))
    j2 = 1 / (1 + sp.exp(-(_T2 - _T3)))
    g1, g2 = _grad(j1), _grad(j2)
    g = g1 + g2
    n1, n2, cross = g1.dot(g1), g2.dot(g2), g1.dot(g2)
    rho = sp.simplify(cross / sp.sqrt(n1 * n2))  # sigma > 0 and 1 - sigma > 0 in theta-space
    jdot1, jdot2 = g1.dot(g), g2.dot(g)
    jddot_theta = _grad(jdot1 + jdot2).dot(g)
    out = {
        "grad_J1": sp.Matrix([_to_J(c) for c in g1]),
        "grad_J2": sp.Matrix([_to_J(c) for c in g2]),
        "rho": _to_J(rho),
        "Jdot1": sp.factor(_to_J(jdot1)),
        "Jdot2": sp.factor(_to_J(jdot2)),
        "Jddot_theta": sp.expand(_to_J(jddot_theta)),
    }
    field = (out["Jdot1"], out["Jdot2"])
    out["Jdot"] = sp.expand(out["Jdot1"] + out["Jdot2"])
    out["Jddot"] = chain(out["Jdot"], field)
    out["Jdddot"] = chain(out["Jddot"], field)
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
    j1 = 1 / (1 + sp.exp(-(_T1 + _T3)))
    j2 = 1 / (1 + sp.exp(-(_T2 - _T3)))
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
    field = (out["Jdot1"], out["Jdot2"])
    out["Jsup_ddot"] = chain(out["Jsup_dot"], field)
    out["Jdot"] = sp.expand(out["Jdot1"] + out["Jdot2"])
    out["Jddot"] = chain(out["Jdot"], field)
    out["Jdddot"] = chain(out["Jddot"], field)
    return out


# ---------------------------------------------------------------- what the paper prints
def _printed():
    h = sp.Rational(1, 2)
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
        "det": sp.Rational(5, 4) * (1 - 2 * J1) * (1 - 2 * J2),
        "trace": -2 * J1 - 2 * J2 + 2,
        "table": {(0, 0): (2, sp.Rational(5, 4), "unstable"), (0, 1): (0, -sp.Rational(5, 4), "saddle"),
                  (1, 0): (0, -sp.Rational(5, 4), "saddle"), (1, 1): (-2, sp.Rational(5, 4), "stable")},
        # App. B.2, line by line
        "B2_line3": 2 * Q1**2 - 2 * Q1 * Q2 + 2 * Q2**2,
        "B2_line4": (4 * Q1 * (1 - 2 * J1) - 2 * Q2 * (1 - 2 * J1),   # coefficients of grad J1,
                     4 * Q2 * (1 - 2 * J2) - 2 * Q1 * (1 - 2 * J2)),   # grad J2
        "B2_line5": (2 * (1 - 2 * J1) * (2 * Q1 - Q2) * 2 * Q1**2
                     + 2 * (1 - 2 * J2) * (-Q1 + 2 * Q2) * 2 * Q2**2
                     + 2 * ((1 - 2 * J1) * (2 * Q1 - Q2) + (1 - 2 * J2) * (-Q1 + 2 * Q2)) * (-Q1 * Q2)),
        "B2_line6_literal": (4 * (1 - 2 * J1) * a1 * J1**2 + 4 * (1 - 2 * J2) * a2 * J1**2
                             - 2 * J1 * J2 * ((1 - 2 * J1) * a1 + (1 - 2 * J2) * a2)),
        "B2_bracket": bracket,
        "B2_line7": 2 * (1 - J1 - J2) * bracket,
        "P6_antidiagonal": -(J1 - 1)**2 * J1**2 * (30 * J1**2 - 30 * J1 + 7),
        "plateau_boundaries": ((15 - sp.sqrt(15)) / 30, (15 + sp.sqrt(15)) / 30),
        # App. B.4
        "null_cline_slopes": (2, 1),
        "P_nc": 4 / sp.pi * sp.atan(h),
        # App. B.5 and Eq. (4)
        "sup_grad_Jsup": (1 - J1) * sp.Matrix([1, 0, 1]) + (1 - J2) * sp.Matrix([0, 1, -1]),
        "sup_rho": -h,
        "sup_Jdot1": J1 * (1 - J1) * (1 - 2 * J1 + J2),
        "sup_Jdot1_middle": 2 * J1 * (1 - J1)**2 - J1 * (1 - J1) * (1 - J2),
        "sup_dlogJ1": 2 * (1 - J1)**2 - (1 - J1) * (1 - J2),
        "sup_Jsup_dot": 2 * (1 - J1)**2 - 2 * (1 - J1) * (1 - J2) + 2 * (1 - J2)**2,
        "sup_Jsup_dot_sos": 2 * (J1 - J2)**2 + 2 * (1 - J1) * (1 - J2),
        "sup_grad_Jsup_dot": (4 * J1 - 2 * J2 - 2, 4 * J2 - 2 * J1 - 2),  # coefficients of grad J_k
        "sup_Jsup_ddot": -2 * J1 * (1 - J1) * (1 - 2 * J1 + J2)**2 - 2 * J2 * (1 - J2) * (1 - 2 * J2 + J1)**2,
    }


PRINTED = _printed()


# ---------------------------------------------------------------- App. B.1
def fixed_points(field):
    """Zeros of a J-space field in the closed unit square (exact, via ``sympy.solve``)."""
    sols = sp.solve(list(field), [J1, J2], dict=True)
    pts = {(s[J1], s[J2]) for s in sols if s[J1].is_real and s[J2].is_real}
    return sorted(p for p in pts if 0 <= p[0] <= 1 and 0 <= p[1] <= 1)


def jacobian(field):
    """Jacobian ``d(F1, F2)/d(J1, J2)`` of a J-space field."""
    return sp.Matrix([[sp.diff(f, v) for v in (J1, J2)] for f in field])


def logit_field(field):
    """``(J1dot / q1, J2dot / q2)``: the rates of ``logit J_k`` (the printed B.1 matrix is half its Jacobian)."""
    return tuple(sp.cancel(f / qq) for f, qq in zip(field, (Q1, Q2)))


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


# ---------------------------------------------------------------- App. B.2
def antidiagonal(expr):
    """``expr`` on ``J2 = 1 - J1``, factored."""
    return sp.factor(expr.subs(J2, 1 - J1))


def plateau_boundaries():
    """Roots in (0, 1) of ``P6(J1, 1 - J1) / (J1^2 (1 - J1)^2)`` (App. B.2), exact."""
    p = sp.cancel(rl_derivation()["P6"].subs(J2, 1 - J1) / (J1**2 * (1 - J1)**2))
    return tuple(sorted((r for r in sp.solve(p, J1) if 0 < r < 1), key=float))


# ---------------------------------------------------------------- App. B.4
def null_cline_slopes_at_origin():
    """``dJ2/dJ1`` at (0, 0) of the null clines ``J1dot = 0`` and ``J2dot = 0`` (implicit differentiation)."""
    out = []
    for g in (2 * Q1 - Q2, Q1 - 2 * Q2):  # the null clines divided by q1 q2 (Sec. 2.4)
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
    return sp.simplify((sp.atan(1 / s1) + sp.atan(s2)) / (sp.pi / 2))  # pi/2 - atan(s) = atan(1/s), s > 0


def p_nc_monte_carlo(radius, n, rng, field=None):
    """Share of starts at distance ``radius`` from (0, 0), angle uniform in [0, pi/2], in a WTA region."""
    from ..model.dynamics import jdot_rl, winner_take_all

    phi = rng.uniform(0, np.pi / 2, n)
    return float(np.mean(winner_take_all(radius * np.cos(phi), radius * np.sin(phi), field or jdot_rl)))


# ---------------------------------------------------------------- App. B.5 and inflections
def inflections_along_flow(field, jddot, starts, dt=0.02, n_steps=4000, jdot=None):
    """Count sign changes of ``jddot`` along the flow of ``field`` from each start (RK4 in time).

    ``field``: pair of sympy expressions (J1dot, J2dot); ``jddot``: sympy expression. Returns
    ``(up, down, eps)``: per start, the number of changes from negative to positive (concave
    to convex, Definition 2) and from positive to negative, and the smallest ``jdot`` (a
    sympy expression) at an up-change (the plateau's flatness; NaN if none or no ``jdot``).
    Use for flows without flat plateaus (time steps, not arc length).
    """
    f = sp.lambdify((J1, J2), list(field), "numpy")
    g = sp.lambdify((J1, J2), jddot, "numpy")
    x = np.array(starts, dtype=float)

    def v(p):
        return np.array(f(p[:, 0], p[:, 1]), dtype=float).T

    up = np.zeros(len(x), dtype=int)
    down = np.zeros(len(x), dtype=int)
    tol = 1e-12
    h = sp.lambdify((J1, J2), jdot if jdot is not None else sp.nan, "numpy")
    eps = np.full(len(x), np.inf)
    sign = np.sign(np.where(np.abs(g(x[:, 0], x[:, 1])) < tol, 0, g(x[:, 0], x[:, 1])))
    for _ in range(n_steps):
        k1 = v(x)
        k2 = v(x + dt / 2 * k1)
        k3 = v(x + dt / 2 * k2)
        k4 = v(x + dt * k3)
        x = np.clip(x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4), 0, 1)
        val = g(x[:, 0], x[:, 1])
        new = np.sign(np.where(np.abs(val) < tol, 0, val))
        rising = (sign < 0) & (new > 0)
        if rising.any():
            eps[rising] = np.minimum(eps[rising], np.abs(h(x[rising, 0], x[rising, 1])))
        up += rising
        down += (sign > 0) & (new < 0)
        sign = np.where(new != 0, new, sign)
    return up, down, np.where(np.isinf(eps), np.nan, eps)


# ---------------------------------------------------------------- the comparison
@dataclass(frozen=True)
class Check:
    """One printed step next to its derivation."""

    id: str
    section: str
    step: str
    printed: object
    derived: object
    equal: bool
    note: str = ""


def _eq(a, b):
    if isinstance(a, sp.MatrixBase):
        return all(same(x, y) for x, y in zip(a, b))
    return same(a, b)


@lru_cache(maxsize=None)
def checks() -> tuple[Check, ...]:
    """Every printed step of Sec. 2.1-2.5 and App. B.1, B.2, B.4, B.5 against our derivation."""
    P, R, S = PRINTED, rl_derivation(), supervised_derivation()
    out = []

    def add(id_, sec, step, printed, derived, note="", equal=None):
        out.append(Check(id_, sec, step, printed, derived, _eq(printed, derived) if equal is None else equal, note))

    add("grad_J1", "2.1", r"\nabla J_1", P["grad_J1"], R["grad_J1"])
    add("grad_J2", "2.1", r"\nabla J_2", P["grad_J2"], R["grad_J2"])
    add("rho", "2.1", r"\rho", P["rho"], R["rho"])
    add("Jdot1", "2.2", r"\dot J_1 \text{ (Eq. 1)}", P["Jdot1"], R["Jdot1"])
    add("Jdot2", "2.2", r"\dot J_2 \text{ (Eq. 2)}", P["Jdot2"], R["Jdot2"])
    add("eps_antidiagonal", "2.3", r"\epsilon = \dot J\,\vert_{J_2 = 1 - J_1}", P["eps_antidiagonal"],
        sp.factor(R["Jdot"].subs(J2, 1 - J1)))
    # B.1
    field = (R["Jdot1"], R["Jdot2"])
    jac = jacobian(field)
    half_logit_jac = jacobian(logit_field(field)) / 2
    add("jacobian_eqs12", "B.1", r"\partial(\dot J_1, \dot J_2)/\partial(J_1, J_2)", P["jacobian"],
        sp.simplify(jac), "the Jacobian of Eqs. 1-2 is a different matrix; it vanishes at all four corners")
    add("jacobian_logit", "B.1", r"\tfrac12\,\partial(\dot J_1/q_1, \dot J_2/q_2)/\partial(J_1, J_2)",
        P["jacobian"], half_logit_jac, "our reading of the printed matrix")
    add("det", "B.1", r"\det", P["det"], sp.factor(P["jacobian"].det()),
        "the determinant of the printed matrix is 3/4 (1-2J1)(1-2J2), not 5/4 (...)")
    add("trace", "B.1", r"\operatorname{tr}", P["trace"], P["jacobian"].trace())
    # B.2 line by line
    add("B2_line3", "B.2", r"\dot J", P["B2_line3"], R["Jdot"])
    grad_jdot = _to_J_grad(R["Jdot"])
    printed_grad = P["B2_line4"][0] * R["grad_J1"] + P["B2_line4"][1] * R["grad_J2"]
    add("B2_line4", "B.2", r"\nabla \dot J", printed_grad, grad_jdot)
    add("B2_line5", "B.2", r"\langle \nabla \dot J, \nabla J\rangle \text{ (norms)}", P["B2_line5"], R["Jddot"])
    add("B2_line6_literal", "B.2", r"\text{line 6 as printed}", P["B2_line6_literal"], R["Jddot"],
        "prints J_k for q_k = J_k(1-J_k) and J_1^2 where q_2^2 belongs")
    fixed6 = _line6_read_with_q()
    add("B2_line6_read", "B.2", r"\text{line 6, } J_k \to q_k,\ J_1^2 \to q_2^2 \text{ in term 2}", fixed6,
        R["Jddot"], "our reading of line 6")
    add("B2_line7", "B.2", r"\ddot J = 2(1 - J_1 - J_2)[\dots]", P["B2_line7"], R["Jddot"])
    add("B2_eq3", "B.2", r"\ddot J = (1 - J_1 - J_2) P_6,\ P_6 = [\dots]", (1 - J1 - J2) * P["B2_bracket"],
        R["Jddot"], "off by the factor 2 printed one line above")
    add("P6_antidiagonal_bracket", "B.2", r"[\dots]_{J_2 = 1 - J_1}", P["P6_antidiagonal"],
        antidiagonal(P["B2_bracket"]), "the printed P6 on the anti-diagonal is the bracket, without the 2")
    add("P6_antidiagonal_eq3", "B.2", r"P_6(J_1, 1 - J_1),\ P_6 := \ddot J/(1 - J_1 - J_2)", P["P6_antidiagonal"],
        antidiagonal(R["P6"]), "with Eq. (3) as printed, P6 is twice the printed polynomial")
    add("Jdddot_antidiagonal", "B.2", r"\dddot J\,\vert_{J_2 = 1 - J_1} = -\dot J\, P_6", sp.S(0),
        antidiagonal(R["Jdddot"] + R["Jdot"] * R["P6"]), "so Jdddot > 0 exactly where P6 < 0 (Definition 2)")
    b = plateau_boundaries()
    add("plateau_boundaries", "B.2", r"\text{plateau interval ends}", sp.Matrix(P["plateau_boundaries"]),
        sp.Matrix(b))
    # B.4
    add("null_cline_slopes", "B.4", r"dJ_2/dJ_1|_{(0,0)} \text{ of the null clines}",
        sp.Matrix([2, sp.Rational(1, 2)]), sp.Matrix(null_cline_slopes_at_origin()),
        "printed as derivatives 2 and 1 of the two sides: slope 2 of J1dot=0, 1/2 of J2dot=0")
    add("P_nc", "B.4", r"P_{nc}", P["P_nc"], p_nc_from_slopes())
    # B.5
    add("sup_grad_Jsup", "B.5", r"\nabla J_{sup}", P["sup_grad_Jsup"], S["grad_Jsup"])
    add("sup_rho", "B.5", r"\rho_{sup} \text{ (cosine)}", P["sup_rho"], S["rho_sup"])
    add("sup_rho_printed", "B.5", r"\rho_{sup} \text{ as printed (denominator } \|\nabla J_k\|)", P["sup_rho"],
        S["rho_printed"], "mismatched denominator: the printed ratio is -1/(2 J1 J2)")
    add("sup_Jdot1_middle", "B.5", r"\dot J_1 = \langle\nabla J_1, \nabla J_{sup}\rangle", P["sup_Jdot1_middle"],
        S["Jdot1"], r"printed with \nabla J; it is the gradient of J_sup that drives the flow")
    add("sup_Jdot1", "B.5", r"\dot J_1 \text{ factored}", P["sup_Jdot1"], S["Jdot1"])
    add("sup_dlogJ1", "B.5", r"\tfrac{d}{dt}\log J_1 = \dot J_1/J_1", P["sup_dlogJ1"], sp.cancel(S["Jdot1"] / J1),
        r"printed as 'log \dot J_1'")
    add("sup_Jsup_dot", "B.5", r"\dot J_{sup} = \|\nabla J_{sup}\|^2", P["sup_Jsup_dot"], S["Jsup_dot"],
        r"printed as '\dot J_sup = log J1 + log J2 = ...'")
    add("sup_Jsup_dot_sos", "B.5", r"\dot J_{sup} = 2(J_1 - J_2)^2 + 2(1 - J_1)(1 - J_2)", P["sup_Jsup_dot_sos"],
        S["Jsup_dot"])
    printed_grad_sup = P["sup_grad_Jsup_dot"][0] * R["grad_J1"] + P["sup_grad_Jsup_dot"][1] * R["grad_J2"]
    add("sup_grad_Jsup_dot", "B.5", r"\nabla \dot J_{sup}", printed_grad_sup, _to_J_grad(S["Jsup_dot"]))
    add("sup_Jsup_ddot", "B.5", r"\ddot J_{sup} \text{ (Eq. 4)}", P["sup_Jsup_ddot"], S["Jsup_ddot"])
    add("sup_Jsup_ddot_theta", "B.5", r"\ddot J_{sup}\text{, chain rule = theta-space}", S["Jsup_ddot"],
        S["Jsup_ddot_theta"])
    add("rl_Jddot_theta", "B.2", r"\ddot J\text{, chain rule = theta-space}", R["Jddot"], R["Jddot_theta"])
    return tuple(out)


def _to_J_grad(f):
    """``grad_theta f(J1, J2)`` = ``f_J1 grad J1 + f_J2 grad J2`` as a 3-vector in (J1, J2)."""
    R = rl_derivation()
    return sp.diff(f, J1) * R["grad_J1"] + sp.diff(f, J2) * R["grad_J2"]


def _line6_read_with_q():
    """Line 6 of B.2 with ``J_k`` read as ``q_k`` and the second ``J1^2`` as ``q2^2``."""
    a1, a2 = 2 * Q1 - Q2, 2 * Q2 - Q1
    return (4 * (1 - 2 * J1) * a1 * Q1**2 + 4 * (1 - 2 * J2) * a2 * Q2**2
            - 2 * Q1 * Q2 * ((1 - 2 * J1) * a1 + (1 - 2 * J2) * a2))


def check(id_) -> Check:
    """The :class:`Check` named ``id_``."""
    for c in checks():
        if c.id == id_:
            return c
    raise ValueError(f"unknown check {id_!r}; known: {[c.id for c in checks()]}")


def markdown_table(ids=None) -> str:
    """The checks as a Markdown table with LaTeX (printed | derived | equal)."""
    rows = ["| | step | printed | derived | same |", "|---|---|---|---|---|"]
    for c in checks():
        if ids is not None and c.id not in ids:
            continue
        math = [_cell(c.step), _cell(_tex(c.printed)), _cell(_tex(c.derived))]
        rows.append(f"| {c.section} | ${math[0]}$ | ${math[1]}$ | ${math[2]}$ | "
                    f"{'yes' if c.equal else '**no**'} |")
    return "\n".join(rows)


def _cell(tex):
    """LaTeX safe inside a Markdown table cell: a bare ``|`` would end the cell."""
    return tex.replace(r"\|", r"\Vert ").replace("|", r"\vert ")


def _tex(expr):
    if isinstance(expr, sp.MatrixBase) and expr.shape[1] == 1 and expr.shape[0] == 3:
        common = sp.factor(sp.gcd(list(expr)))
        if common != 0 and common != 1:
            return sp.latex(common) + r"\,\left[" + ", ".join(sp.latex(sp.factor(x / common)) for x in expr) + r"\right]^{\top}"
    if isinstance(expr, sp.MatrixBase):
        return sp.latex(expr.applyfunc(sp.factor), mat_delim="[").replace("\n", " ")
    return sp.latex(sp.factor(expr)).replace("\n", " ")


# ---------------------------------------------------------------- App. B.3 (numerical)
def polygon_area(vertices):
    """Shoelace area of a simple polygon."""
    x, y = np.asarray(vertices, dtype=float).T
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def upper_triangle_grid(n):
    """Cell centres of an ``n x n`` grid of the unit square with ``J1 < J2`` and ``J1 + J2 < 1``.

    By the symmetry J1 <-> J2 of Eqs. (1)-(2) this half holds the basin of the saddle (0, 1).
    Returns ``(points [m, 2], cell_area)``.
    """
    g = (np.arange(n) + 0.5) / n
    a, b = np.meshgrid(g, g, indexing="ij")
    keep = (a < b) & (a + b < 1)
    return np.column_stack([a[keep], b[keep]]), 1.0 / n**2


def basin_check(eps, n_grid=200, flatness=None):
    """App. B.3: is the lower-bound polygon of the ``eps``-plateau basin inside the measured basin?

    The measured basin: grid starts whose deterministic orbit crosses the anti-diagonal at a
    plateau of flatness ``<= eps`` (``dynamics.plateau_flatness_of_start``). Also checks the
    polygon without its fifth vertex (the notch that appears when the exit point lies below
    ``J2 = 1/2``). ``flatness``: precomputed flatness of the grid starts (reuse across eps).
    """
    from matplotlib.path import Path

    from ..model.dynamics import basin_polygon, plateau_flatness_of_start

    pts, cell = upper_triangle_grid(n_grid)
    f = plateau_flatness_of_start(pts[:, 0], pts[:, 1]) if flatness is None else flatness
    poly = basin_polygon(eps)
    out = {"eps": eps, "polygon": poly, "exit_J2": float(poly[3, 1]), "notch": bool(poly[3, 1] < 0.5)}
    in_basin = f <= eps
    for name, verts in (("printed", poly), ("four_vertices", poly[:4])):
        inside = Path(verts).contains_points(pts, radius=-1e-9)
        out[f"{name}_n_inside"] = int(inside.sum())
        out[f"{name}_inside_basin"] = float(np.mean(in_basin[inside])) if inside.any() else float("nan")
        out[f"{name}_area"] = polygon_area(verts)
    out["basin_area"] = float(in_basin.sum() * cell)
    out["coverage"] = out["printed_area"] / out["basin_area"]
    return out


def notch_threshold():
    """The ``eps`` above which the B.3 exit point lies below ``J2 = 1/2`` (polygon with a notch).

    At ``J2 = 1/2`` the null cline ``J1dot = 0`` reaches its largest ``J1 = (1 - 1/sqrt 2)/2``;
    the bound ``J1[2] <= (1 + J1[1] - J2[1]) / 2`` there gives ``a``, and ``eps = 2 a^2 (1 - a)^2``.
    """
    j1 = (1 - 1 / sp.sqrt(2)) / 2
    a = (1 + j1 - sp.Rational(1, 2)) / 2
    return sp.nsimplify(sp.expand(2 * a**2 * (1 - a)**2))


def sampled_starts_and_flatness(J0s, n_runs, seed, max_samples=100_000, eta=0.1):
    """Sampled on-policy runs (``simulate``, one sample per context) from ``simplex`` starts at each J0.

    Returns ``(starts [m, 2], flatness [m])`` with each start folded to ``J1 <= J2`` (the
    problem is symmetric under swapping the contexts) and the flatness divided by 2: the
    simulator trains the full (W, b), whose flow is the reduced flow of App. B sped up by 2.
    """
    from ..model.config import BanditConfig
    from ..model.simulate import simulate

    starts, flat = [], []
    for i, J0 in enumerate(J0s):
        runs = simulate(BanditConfig(J0=J0, n_runs=n_runs, seed=seed + i, init="simplex",
                                     max_samples=max_samples, eta=eta))
        starts.append(np.sort(runs.initial, axis=1))
        flat.append(runs.flatness / 2)
    return np.concatenate(starts), np.concatenate(flat)


def sampled_basin_check(eps, starts, flatness):
    """Share of sampled runs with flattest plateau ``<= eps``, inside and outside the B.3 polygon."""
    from matplotlib.path import Path

    from ..model.dynamics import basin_polygon

    inside = Path(basin_polygon(eps)).contains_points(starts)
    hit = np.nan_to_num(flatness, nan=np.inf) <= eps
    return {"eps": eps, "n_inside": int(inside.sum()), "n_outside": int((~inside).sum()),
            "hit_inside": float(hit[inside].mean()) if inside.any() else float("nan"),
            "hit_outside": float(hit[~inside].mean()) if (~inside).any() else float("nan")}


# ---------------------------------------------------------------- the chapter's parameters
NOTEBOOK = "06_appendix_b"


def validate(eps_list, n_grid, sampled_J0, n_runs, max_samples, eta, mc_samples, mc_radius,
                        sup_grid, seed):
    """Parameters of ``06_appendix_b`` (App. B); raises ValueError before any work."""
    if not isinstance(eps_list, (list, tuple)) or not eps_list:
        raise ValueError(f"eps_list must be a non-empty list of flatness levels, got {eps_list!r}")
    for e in eps_list:
        check_float("eps_list[i]", e, 0, 0.125, low_open=True, high_open=True)
    check_int("n_grid", n_grid, 20, 2000)
    if not isinstance(sampled_J0, (list, tuple)):
        raise ValueError(f"sampled_J0 must be a list of initial performances, got {sampled_J0!r}")
    for j in sampled_J0:
        check_float("sampled_J0[i]", j, 0, 1, low_open=True, high_open=True)
    check_int("n_runs", n_runs, 1, 100_000)
    check_int("max_samples", max_samples, 2)
    check_float("eta", eta, 0, None, low_open=True)
    check_int("mc_samples", mc_samples, 100)
    check_float("mc_radius", mc_radius, 0, 1, low_open=True)
    check_int("sup_grid", sup_grid, 2, 500)
    check_int("seed", seed, 0)
    return {"eps_list": [float(e) for e in eps_list], "sampled_J0": [float(j) for j in sampled_J0]}

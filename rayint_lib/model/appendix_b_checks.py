"""App. B as printed, and every printed step checked against the derivation from theta.

``PRINTED`` holds our transcription of what the paper prints (Sec. 2.1-2.5, App. B.1, B.2,
B.4, B.5) as sympy expressions; :func:`checks` compares each with the same quantity derived
in :mod:`rayint_lib.model.derivations`, with the library's one
:class:`~rayint_lib.model.algebra.Check` type; :data:`GROUPS` orders the checks by section.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from . import algebra
from .algebra import check
from .derivations import (
    J1,
    J2,
    Q1,
    Q2,
    antidiagonal,
    grad_theta,
    half_logit_jacobian,
    jacobian,
    null_cline_slopes_at_origin,
    p_nc_from_slopes,
    plateau_boundaries,
    rl_derivation,
    supervised_derivation,
)


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
              grad_theta(R["Jdot"])),
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
              grad_theta(S["Jsup_dot"])),
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


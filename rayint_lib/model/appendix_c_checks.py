"""App. C (C.1, C.2) and Sec. 3.1's formulas re-derived for generic f_k by computer algebra.

The derivation is exact, not a comparison of strings. Scalars are built from ``J_1, J_2``
(symbols), ``f_k(J_k)`` (undefined sympy functions, so ``f_k'`` stays generic) and the
components of ``v_k`` (symbols in ``d`` dimensions). The gradient of any such scalar ``E`` is
assembled by the chain rule

    grad E = sum_k dE/dJ_k f_k(J_k) v_k + sum_{k,i} dE/dv_{k,i} M_k[i, :]^T,

with ``grad J_k = f_k(J_k) v_k`` (Eq. 5) and ``M_k`` the Jacobian ``dv_k/dtheta`` (generic
symbols: the "grad v_k" of App. C). Each printed line of App. C is then rebuilt from the
same symbols and compared with the derivation by the library's one
:class:`~rayint_lib.model.algebra.Check` type.
"""
from __future__ import annotations

import sympy as sp

from .algebra import check

J1, J2 = sp.symbols("J_1 J_2", real=True)
f1, f2 = sp.Function("f_1", positive=True), sp.Function("f_2", positive=True)


class FactoredSymbols:
    """Symbols of the factored model in ``d`` parameter dimensions (App. C.1)."""

    def __init__(self, d=3):
        self.d = d
        self.J = (J1, J2)
        self.F = (f1(J1), f2(J2))
        self.dF = (sp.diff(self.F[0], J1), sp.diff(self.F[1], J2))
        self.v = tuple(sp.Matrix(sp.symbols(f"v_{k}_1:{d + 1}", real=True)) for k in (1, 2))
        self.M = tuple(sp.Matrix(d, d, sp.symbols(f"m_{k}_1:{d + 1}_1:{d + 1}", real=True))
                       for k in (1, 2))
        self.norm = tuple(sp.sqrt(v.dot(v)) for v in self.v)
        self.rho = self.v[0].dot(self.v[1]) / (self.norm[0] * self.norm[1])
        self.gradJk = tuple(F * v for F, v in zip(self.F, self.v))
        self.gradJ = self.gradJk[0] + self.gradJk[1]

    def grad(self, E):
        """``grad_theta E`` by the chain rule above (a ``d x 1`` matrix)."""
        out = sp.zeros(self.d, 1)
        for k in range(2):
            out += sp.diff(E, self.J[k]) * self.gradJk[k]
            for i in range(self.d):
                out += sp.diff(E, self.v[k][i]) * self.M[k][i, :].T
        return out

    def jdot_k(self, k):
        """``Jdot_k = <grad J_k, grad J>``."""
        return self.gradJk[k].dot(self.gradJ)

    def jdot(self):
        """``Jdot = <grad J, grad J>``."""
        return self.gradJ.dot(self.gradJ)

    def jddot(self):
        """``Jddot = <grad Jdot, grad J>`` (Eq. 3's definition), exact."""
        return self.grad(self.jdot()).dot(self.gradJ)

    def no_grad_v(self, E):
        """``E`` with every ``grad v_k`` entry set to zero (the approximation of App. C)."""
        return E.subs({m: 0 for M in self.M for m in M})


def check_c1(d=3):
    """Every displayed line of App. C.1 (and Sec. 3.1's Jddot approximation and WTA test)."""
    S = FactoredSymbols(d)
    F1, F2 = S.F
    d1, d2 = S.dF
    n1, n2 = S.norm
    v1, v2 = S.v
    M1, M2 = S.M
    rho = S.rho
    gJ1, gJ2 = S.gradJk
    gram = gJ1.dot(gJ2) / (sp.sqrt(gJ1.dot(gJ1)) * sp.sqrt(gJ2.dot(gJ2)))
    jd1, jd = S.jdot_k(0), S.jdot()
    g = S.grad(jd)
    printed_g = (2 * n1**2 * d1 * F1 * gJ1 + 2 * n2**2 * d2 * F2 * gJ2
                 + 2 * rho * n1 * n2 * d1 * F2 * gJ1 + 2 * rho * n1 * n2 * d2 * F1 * gJ2
                 + 2 * F1**2 * M1.T * v1 + 2 * F2**2 * M2.T * v2
                 + 2 * F1 * F2 * M1.T * v2 + 2 * F1 * F2 * M2.T * v1)
    at0 = {F1: 0}
    jdd = S.jddot()
    return [
        check("C1_rho", "C.1", "rho = v1.v2 / (|v1| |v2|)", rho, sp.simplify(gram),
              "needs f_k > 0 (the f_k cancel)"),
        check("C1_jdot1", "C.1", "J1dot = |v1|^2 f1^2 + rho |v1||v2| f1 f2",
              n1**2 * F1**2 + rho * n1 * n2 * F1 * F2, jd1),
        check("C1_jdot1_factored", "C.1", "J1dot = |v1| f1 (|v1| f1 + rho |v2| f2)",
              n1 * F1 * (n1 * F1 + rho * n2 * F2), jd1),
        check("C1_jdot", "C.1", "Jdot = |v1|^2 f1^2 + |v2|^2 f2^2 + 2 rho |v1||v2| f1 f2",
              n1**2 * F1**2 + n2**2 * F2**2 + 2 * rho * n1 * n2 * F1 * F2, jd),
        check("C1_grad_jdot", "C.1", "grad Jdot, all eight terms (v_j^T grad v_k read as "
              "(dv_k/dtheta)^T v_j)", printed_g, g),
        check("C1_grad_jdot_J1_0", "C.1", "grad Jdot at f1(J1) = 0",
              2 * n2**2 * d2 * F2 * gJ2 + 2 * F2**2 * M2.T * v2, g.subs(at0)),
        check("C1_jddot_J1_0", "C.1",
              "Jddot at f1(J1) = 0 = 2|v2|^4 f2' f2^3 + 2 f2^3 v2^T grad v2 v2",
              2 * n2**4 * d2 * F2**3 + 2 * F2**3 * (v2.T * M2 * v2)[0], jdd.subs(at0)),
        check("C1_jddot_J1_0_approx", "C.1 / 3.1",
              "Jddot at J1 = 0 ~ 2 f2^3 f2' |v2|^4 when grad v_k = 0",
              2 * n2**4 * d2 * F2**3, S.no_grad_v(jdd.subs(at0))),
        check("C1_jddot_J2_1", "C.1 / 3.1", "by symmetry, Jddot at f2(J2) = 0 ~ 2 f1^3 f1' |v1|^4",
              2 * n1**4 * d1 * F1**3 + 2 * F1**3 * (v1.T * M1 * v1)[0], jdd.subs({F2: 0})),
        check("S31_wta", "3.1", "J1dot = f1 |v1| (f1 |v1| + rho f2 |v2|), so J1dot <= 0 iff "
              "f1|v1| + rho f2|v2| <= 0 (f1 > 0)", F1**2 * n1**2 + F1 * F2 * v1.dot(v2),
              F1 * n1 * (F1 * n1 + rho * F2 * n2)),
    ]


def check_c2(d=3):
    """Every displayed line of App. C.2 (``grad v_k`` dropped) and its conclusion."""
    S = FactoredSymbols(d)
    F1, F2 = S.F
    d1, d2 = S.dF
    n1, n2 = S.norm
    rho = S.rho
    gJ1, gJ2 = S.gradJk
    jd1, jd2 = S.jdot_k(0), S.jdot_k(1)
    g = S.no_grad_v(S.grad(S.jdot()))
    jdd = S.no_grad_v(S.jddot())
    return [
        check("C2_grad_jdot_a", "C.2",
              "grad Jdot = 2|v1|(|v1| f1 + rho |v2| f2) f1' grad J1 + (same, 2)",
              2 * n1 * (n1 * F1 + rho * n2 * F2) * d1 * gJ1
              + 2 * n2 * (n2 * F2 + rho * n1 * F1) * d2 * gJ2, g),
        check("C2_grad_jdot_b", "C.2",
              "grad Jdot = 2 J1dot/f1 f1' grad J1 + 2 J2dot/f2 f2' grad J2",
              2 * jd1 / F1 * d1 * gJ1 + 2 * jd2 / F2 * d2 * gJ2, g),
        check("C2_jddot_a", "C.2",
              "Jddot = 2 J1dot/f1 f1' |grad J1|^2 + ... + 2 [...] grad J1^T grad J2",
              2 * jd1 / F1 * d1 * gJ1.dot(gJ1) + 2 * jd2 / F2 * d2 * gJ2.dot(gJ2)
              + 2 * (jd1 / F1 * d1 + jd2 / F2 * d2) * gJ1.dot(gJ2), jdd),
        check("C2_jddot_b", "C.2", "Jddot = 2|v1|^2 J1dot f1 f1' + 2|v2|^2 J2dot f2 f2' "
              "+ 2 rho |v1||v2| [J1dot f2 f1' + J2dot f1 f2']",
              2 * n1**2 * jd1 * F1 * d1 + 2 * n2**2 * jd2 * F2 * d2
              + 2 * rho * n1 * n2 * (jd1 * F2 * d1 + jd2 * F1 * d2), jdd),
        check("C2_jddot_c", "C.2", "Jddot = 2 J1dot f1' |v1|(|v1| f1 + rho |v2| f2) + ... "
              "(the '...' completed by symmetry)",
              2 * jd1 * d1 * n1 * (n1 * F1 + rho * n2 * F2)
              + 2 * jd2 * d2 * n2 * (n2 * F2 + rho * n1 * F1), jdd),
        check("C2_jddot_final", "C.2", "Jddot = 2 f1'/f1 J1dot^2 + 2 f2'/f2 J2dot^2",
              2 * d1 / F1 * jd1**2 + 2 * d2 / F2 * jd2**2, jdd),
    ]


def check_exact_minus_approx(d=3):
    """The exact ``Jddot`` minus App. C.2's form: the neglected ``grad v_k`` part, in closed form.

    Returns ``(neglected, expected)`` where ``expected = sum_{k,j} f_k f_j <grad(v_k . v_j),
    grad J>`` written with the Jacobians ``M_k``; their difference is zero.
    """
    S = FactoredSymbols(d)
    d1, d2 = S.dF
    jd1, jd2 = S.jdot_k(0), S.jdot_k(1)
    neglected = S.jddot() - (2 * d1 / S.F[0] * jd1**2 + 2 * d2 / S.F[1] * jd2**2)
    expected = 0
    for k in range(2):
        for j in range(2):
            grad_dot = S.M[k].T * S.v[j] + S.M[j].T * S.v[k]   # grad (v_k . v_j)
            expected += S.F[k] * S.F[j] * grad_dot.dot(S.gradJ)
    return neglected, expected


def _bandit_2x2():
    """Eqs. (1)-(2) from the factored model with ``f = u(1-u)``, ``v1 = (1,0,1)``,
    ``v2 = (0,1,-1)``: ``(derived, printed)``, each the 2-vector (J1dot, J2dot)."""
    q1, q2 = J1 * (1 - J1), J2 * (1 - J2)
    v1, v2 = sp.Matrix([1, 0, 1]), sp.Matrix([0, 1, -1])
    gJ = q1 * v1 + q2 * v2
    derived = sp.Matrix([(q1 * v1).dot(gJ), (q2 * v2).dot(gJ)])
    printed = sp.Matrix([2 * q1**2 - q1 * q2, 2 * q2**2 - q1 * q2])
    return derived, printed


def check_bandit_2x2():
    """Eqs. (1)-(2) from the factored model: the two differences (derived minus printed),
    simplified; both are zero."""
    derived, printed = _bandit_2x2()
    return tuple(sp.simplify(a - b) for a, b in zip(derived, printed))


def all_checks(d=3):
    """C.1 and C.2 checks, plus the exact split of the neglected terms and the 2x2 bandit."""
    neg, exp = check_exact_minus_approx(d)
    derived, printed = _bandit_2x2()
    return check_c1(d) + check_c2(d) + [
        check("C_neglected", "C.1-C.2",
              "exact Jddot - C.2 form = sum_kj f_k f_j <grad(v_k.v_j), grad J>", exp, neg),
        check("S31_bandit", "2.2 / 3.1",
              "f = u(1-u), v1 = (1,0,1), v2 = (0,1,-1) give Eqs. (1)-(2)", printed, derived),
    ]

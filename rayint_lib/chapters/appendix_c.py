"""Chapter 07_appendix_c: App. C (C.1, C.2) and Sec. 3.1's formulas re-derived, generic f_k.

The derivation is exact, not a comparison of strings. Scalars are built from ``J_1, J_2``
(symbols), ``f_k(J_k)`` (undefined sympy functions, so ``f_k'`` stays generic) and the
components of ``v_k`` (symbols in ``d`` dimensions). The gradient of any such scalar ``E`` is
assembled by the chain rule

    grad E = sum_k dE/dJ_k f_k(J_k) v_k + sum_{k,i} dE/dv_{k,i} M_k[i, :]^T,

with ``grad J_k = f_k(J_k) v_k`` (Eq. 5) and ``M_k`` the Jacobian ``dv_k/dtheta`` (generic
symbols: the "grad v_k" of App. C). Each printed line of App. C is then rebuilt from the
same symbols and compared with the derivation by the library's one
:class:`~rayint_lib.model.algebra.Check` type.

Claims: the statements only the appendix prints. "grad v_k is negligible near the saddle" is
chapter 02's claim ``S31_grad_v`` (Sec. 3.1 says it too); this chapter adds its evidence.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import sympy as sp
from IPython.display import Markdown

from ..book.plotting import new_figure
from ..model import factored as F
from ..model.algebra import check
from ..model.config import check_memory
from ..model.params import Param, declare
from . import claims_of

NOTEBOOK = "07_appendix_c"

J1, J2 = sp.symbols("J_1 J_2", real=True)
f1, f2 = sp.Function("f_1", positive=True), sp.Function("f_2", positive=True)

CLAIMS, FINDINGS = claims_of(NOTEBOOK)

class Setup:
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
    S = Setup(d)
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
    S = Setup(d)
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
    S = Setup(d)
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


def checks_frame(checks) -> pd.DataFrame:
    """The derivation rows (id, section, printed line in words, identity or not); the generic
    expressions themselves are too long to print."""
    return pd.DataFrame([{"id": c.id, "section": c.section, "printed statement": c.step,
                          "verified": c.holds, "note": c.note} for c in checks])


def exact_at_zero_markdown(d=3) -> Markdown:
    """C.1's exact ``Jddot`` at ``f1(J1) = 0``, with the norms and ``v^T grad v v`` as symbols."""
    S = Setup(d)
    f, df = S.F[1], S.dF[1]
    n2sq = sp.Symbol(r"\|v_2\|^2")
    vmv = sp.Symbol(r"v_2^\top \nabla v_2\, v_2")
    expr = 2 * n2sq**2 * df * f**3 + 2 * f**3 * vmv
    return Markdown(f"$$\\ddot J\\big|_{{f_1(J_1) = 0}} = {sp.latex(expr)}$$")


# ---------------------------------------------------------------- C.2 numerically
def couplings(powers, mix_fraction):
    """The couplings of the chapter: on-policy, ``u^p (1 - u)``, the mixture, supervised."""
    out = {"on_policy": F.coupling("on_policy")}
    out.update({c.name: c for c in (F.coupling("power", p=p) for p in powers)
                if c.name != "power_1"})
    out["mixture"] = F.coupling("mixture", alpha=mix_fraction)
    out["supervised"] = F.coupling("supervised")
    return out


@dataclass
class NullClines:
    """App. C.2's conclusion at each height, per coupling."""

    table: pd.DataFrame
    heights: np.ndarray
    holds_near_saddle_all: bool     # every f with f(0) = 0, every J2 >= 0.9 with both clines
    frac_heights_on_policy: float   # heights in [0.55, 0.999] where it holds (on-policy)
    saddle_supervised: bool         # does f = 1 - u (meets C.1's conditions) give a saddle?
    saddle_with_f0: bool            # every f with f(0) = 0 gives a saddle at (0, 1)


def c2_null_clines(couplings_, n_heights, xi) -> NullClines:
    """Where the sign change of ``Jddot`` lies, at ``n_heights`` heights ``J2 in [0.55,
    0.999]``, for each coupling (``factored.between_null_clines``)."""
    heights = np.linspace(0.55, 0.999, n_heights)
    rows = []
    for name, c in couplings_.items():
        m = F.FactoredModel(c)
        r = F.between_null_clines(m, heights, J1_max=0.999)
        both = np.isfinite(r["a"]) & np.isfinite(r["b"])
        signs = both & (r["jddot_a"] < 0) & (r["jddot_b"] > 0)
        inside = signs & (r["zero"] >= np.minimum(r["a"], r["b"])) & (
            r["zero"] <= np.maximum(r["a"], r["b"]))
        near = both & (heights >= 0.9)
        lo, hi = m.saddle_signs(xi)
        rows.append({"f": name, "f(0)": c.at_zero, "heights with both null clines": int(both.sum()),
                     "C.2 signs (of those)": int(signs.sum()),
                     "zero between (of those)": int(inside.sum()),
                     "heights J2 >= 0.9 with both": int(near.sum()),
                     "holds at all J2 >= 0.9 with both": bool(near.any() and inside[near].all()),
                     "saddle at (0, 1)": bool(F.statements(m, xi=xi)["saddle"]),
                     "Jddot(0,1-xi)": lo, "Jddot(xi,1)": hi})
    table = pd.DataFrame(rows).set_index("f")
    zero_f = table[table["f(0)"] == 0]
    return NullClines(
        table=table, heights=heights,
        holds_near_saddle_all=bool(zero_f["holds at all J2 >= 0.9 with both"].all()),
        frac_heights_on_policy=float(table.loc["on_policy", "zero between (of those)"]
                                     / n_heights),
        saddle_supervised=bool(table.loc["supervised", "saddle at (0, 1)"]),
        saddle_with_f0=bool(zero_f["saddle at (0, 1)"].all()))


def plot_null_clines(couplings_, names):
    """Figure C1: sign of ``Jddot`` near the saddle (0, 1) with the two null clines."""
    fig, axes = new_figure(len(names), width=3.9, height=3.7)
    X, Y = np.meshgrid(np.linspace(0.001, 0.6, 200), np.linspace(0.5, 0.999, 200))
    for ax, name in zip(axes[0], names):
        m = F.FactoredModel(couplings_[name])
        jdd = m.jddot(np.stack([X, Y], -1))
        ax.pcolormesh(X, Y, np.sign(jdd), cmap="coolwarm", vmin=-2, vmax=2, shading="auto")
        d1, d2 = m.field(X, Y)
        ax.contour(X, Y, d1, levels=[0], colors="green", linewidths=1.5)
        ax.contour(X, Y, d2, levels=[0], colors="darkgreen", linewidths=1.5, linestyles="--")
        ax.contour(X, Y, jdd, levels=[0], colors="k", linewidths=1)
        ax.set(title=couplings_[name].label, xlabel="$J_1$")
    axes[0, 0].set_ylabel("$J_2$")
    return fig


@dataclass
class Neglected:
    """The ``grad v_k`` terms in (2 x n) shared-bias bandits near the saddle."""

    table: pd.DataFrame
    n2_max: float            # relative size for n = 2 (zero up to rounding)
    max_rel: float           # largest relative size at the test points, n > 2
    shift_max: float         # largest shift of the inflection point (fraction of the segment)
    signs_hold: bool         # C.1's signs hold for every bandit


def neglected_terms(bandit_actions, skews, xi) -> Neglected:
    """Exact against App. C's ``Jddot`` along the segment (0, 1 - xi) -> (xi, 1)."""
    rows = []
    for n in bandit_actions:
        for s in skews:
            ss, ex, ap = F.bandit_segment(xi, n, s)
            ends = [0, -1]
            rows.append({"n": n, "skew": s,
                         "max rel. neglected at test points":
                             float((np.abs(ex - ap)[ends] / np.abs(ap)[ends]).max()),
                         "signs of C.1 hold": bool(ex[0] < 0 < ex[-1]),
                         "inflection shift": abs(F.first_zero(ss, ex) - F.first_zero(ss, ap))})
    table = pd.DataFrame(rows)
    ex2, ap2 = F.bandit_segment(xi, 2)[1:]
    return Neglected(table, float(np.abs(ex2 - ap2).max() / np.abs(ap2).max()),
                     float(table["max rel. neglected at test points"].max()),
                     float(table["inflection shift"].max()),
                     bool(table["signs of C.1 hold"].all()))


# ---------------------------------------------------------------- the chapter's parameters
PARAMS = declare(
    Param("d", 3, "dimension of theta in the symbolic derivation (identities are "
          "dimension-free; 1..5)", low=1, high=5),
    Param("mix_fraction", 0.1, "fraction of uniform actions of the mixture coupling (Fig. 6)",
          low=0, high=1, low_open=True),
    Param("powers", [1.0, 2.0],
          "exponents p of the couplings u^p (1 - u) checked numerically (>= 1)", low=1,
          high=10),
    Param("xi", 0.01, "distance from the saddle of the test points (0, 1 - xi), (xi, 1)",
          low=0, high=0.25, low_open=True),
    Param("bandit_actions", [3, 5, 10],
          "n of the (2 x n) shared-bias bandits used for the grad v_k terms", low=2, high=100),
    Param("skews", [0.0, 1.0, 3.0],
          "how unevenly the wrong arms share 1 - J_k (0 means equal shares)", low=0, high=10),
    Param("n_heights", 40, "heights J2 at which C.2's null-cline argument is checked", low=2,
          high=1000),
    Param("seed", 0, "nothing here is random; recorded for provenance", low=0),
)


def validate(**values) -> dict:
    """Parameters of ``07_appendix_c`` (App. C.1-C.2; :data:`PARAMS`); returns them as a
    dict.

    Memory: C.2's search evaluates ``Jddot`` on 4001 points per height and coupling; the
    bandit segments hold ``401 x n`` logits per (n, skew).
    """
    cfg = PARAMS.check(values)
    n_heights = cfg["n_heights"]
    check_memory(f"n_heights={n_heights}", 4001 * 8 * 20 * (len(cfg["powers"]) + 3),
                 "4001 points x 20 float64 arrays per coupling, one height at a time")
    check_memory(f"bandit_actions={cfg['bandit_actions']}",
                 401 * 2 * max(cfg["bandit_actions"]) * 8 * 30,
                 "401 segment points x 2 contexts x n actions x 30 float64 arrays")
    return cfg

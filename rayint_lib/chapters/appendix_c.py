"""Chapter 07_appendix_c: App. C (C.1, C.2) and Sec. 3.1's formulas re-derived, generic f_k.

The derivation with generic ``f_k``, ``v_k`` and ``grad v_k`` and the check of every printed
line are :mod:`rayint_lib.model.appendix_c_checks`; this module shows them, tests C.2's
conclusion numerically for each coupling, measures the neglected ``grad v_k`` terms in
(2 x n) bandits (:mod:`rayint_lib.model.neglected`, shared with chapter 02), declares the
parameters and reads its claims (``claims/07_appendix_c.yaml``); the figure is drawn by
:mod:`.appendix_c_figures`.

Claims: the statements only the appendix prints. "grad v_k is negligible near the saddle" is
chapter 02's claim ``S31_grad_v`` (Sec. 3.1 says it too); this chapter adds its evidence.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import sympy as sp
from IPython.display import Markdown

from ..model import factored as F
from ..model.appendix_c_checks import FactoredSymbols
from ..model.config import check_memory
from ..model.neglected import largest_on_segment, segment_rows
from ..model.params import Param, declare
from . import claims_of

NOTEBOOK = "07_appendix_c"

CLAIMS, FINDINGS = claims_of(NOTEBOOK)


def checks_frame(checks) -> pd.DataFrame:
    """The derivation rows (id, section, printed line in words, identity or not); the generic
    expressions themselves are too long to print."""
    return pd.DataFrame([{"id": c.id, "section": c.section, "printed statement": c.step,
                          "verified": c.holds, "note": c.note} for c in checks])


def exact_at_zero_markdown(d=3) -> Markdown:
    """C.1's exact ``Jddot`` at ``f1(J1) = 0``, with the norms and ``v^T grad v v`` as symbols."""
    S = FactoredSymbols(d)
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


@dataclass
class Neglected:
    """The ``grad v_k`` terms in (2 x n) shared-bias bandits near the saddle."""

    table: pd.DataFrame
    n2_max: float            # relative size for n = 2 (zero up to rounding)
    max_rel: float           # largest relative size at the test points, n > 2
    shift_max: float         # largest shift of the inflection point (fraction of the segment)
    signs_hold: bool         # C.1's signs hold for every bandit


def neglected_terms(bandit_actions, skews, xi) -> Neglected:
    """Exact against App. C's ``Jddot`` along the segment (0, 1 - xi) -> (xi, 1)
    (:func:`rayint_lib.model.neglected.segment_rows`, as chapter 02)."""
    table = pd.DataFrame([
        {"n": r["n"], "skew": r["skew"],
         "max rel. neglected at test points":
             float(np.max([r["rel. neglected at (0,1-xi)"], r["rel. neglected at (xi,1)"]])),
         "signs of C.1 hold": r["signs as C.1"],
         "inflection shift": abs(r["inflection, exact"] - r["inflection, C.2 form"])}
        for r in segment_rows(bandit_actions, skews, xi)])
    return Neglected(table, largest_on_segment(xi, 2),
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

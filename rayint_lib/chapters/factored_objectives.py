"""Chapter 02_factored_objectives: factored objectives (Sec. 3.1, Fig. 6) and the statements
of Sec. 3.2 that the factored model decides (saddle counts, plateaus and WTA regions for
K > 2, basins beyond the WTA regions).

Everything the notebook shows is computed here from :mod:`rayint_lib.model.factored` (and
:mod:`rayint_lib.model.update_coupling`); the notebook glues the numbers and scores
:data:`CLAIMS` (data: ``claims/02_factored_objectives.yaml``). The figures are drawn by
:mod:`.factored_objectives_figures`.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from ..model import dynamics, stats
from ..model import factored as F
from ..model.config import check_memory, check_time
from ..model.neglected import segment_rows
from ..model.params import Param, declare
from ..model.update_coupling import coupling_from_updates
from . import claims_of

NOTEBOOK = "02_factored_objectives"

CHECK_GRID = 60          # points per side of the Eqs. (1)-(3) comparison
MAP_GRID = 99            # points per side of the grad-v map (Fig. 3.1c)
WTA_GRID = 400           # cells per side of the WTA-area quadrature (rho sweep)
GRAD_V_XIS = (0.01, 0.05, 0.1)   # "near the saddle": the distances tried for grad v


PARAMS = declare(
    Param("mix_fraction", 0.1,
          "fraction of uniform random actions mixed into on-policy data (Fig. 6: 10%)",
          low=0, high=1, low_open=True),
    Param("n_actions", 2,
          "actions of the bandit behind the mixture's f (a uniform action is right w.p. 1/n)",
          low=2, high=1000),
    Param("powers", [1.0, 2.0, 3.0],
          "exponents p of the family f(u) = u^p (1 - u) (>= 1: f smooth at 0)", low=1,
          high=10),
    Param("rho", -0.5, "interference between two components (the 2x2 bandit's -1/2)", low=-1,
          high=1, low_open=True, high_open=True),
    Param("xi", 0.01, "distance of the test points (0, 1 - xi) and (xi, 1) from the saddle "
          "(0, 1)", low=0, high=0.25, low_open=True),
    Param("bandit_actions", [3, 5, 10],
          "n of the (2 x n) shared-bias bandits in which v_k depends on theta", low=2, high=100),
    Param("skews", [0.0, 1.0, 3.0],
          "how unevenly the wrong arms share 1 - J_k (0 means equal shares)", low=0, high=10),
    Param("t_max", 10000.0, "length of the deterministic learning curves (continuous time)",
          low=10, high=1e7),
    Param("rhos", [-0.9, -0.5, -0.2, -0.05, 0.0, 0.2, 0.5, 0.9],
          "interferences swept for the WTA area", low=-1, high=1, low_open=True,
          high_open=True),
    Param("K_values", [2, 3, 4, 5, 6], "numbers of fully interfering components (Sec. 3.2)",
          low=2, high=8),
    Param("n_starts", 1000, "low-performance starts per K for the basin-beyond-WTA Monte Carlo",
          low=10, high=10**6),
    Param("basin_K", [2, 3], "K of those starts; the first (Fig. 2's K = 2) decides the claim",
          low=2, high=8),
    Param("basin_eps", 0.1,
          "flatness of the plateau whose basin is compared with WTA (Fig. 2: 0.1)", low=0,
          high=1, low_open=True),
    Param("seed", 0, "seed of the random starts of the basin Monte Carlo", low=0),
)


def validate(**values) -> dict:
    """Parameters of ``02_factored_objectives`` (Sec. 3.1, 3.2, Fig. 6; :data:`PARAMS`);
    returns them as a dict, after estimating the memory of the grids and samples."""
    P = PARAMS.check(values)
    if len(set(P["K_values"])) < 3:
        raise ValueError(f"K_values needs at least three different K to measure a growth; "
                         f"got {P['K_values']!r}")
    n_max, K_max, B_max = max(P["bandit_actions"]), max(P["K_values"]), max(P["basin_K"])
    check_memory("bandit_actions", 12 * MAP_GRID**2 * 2 * n_max * 8,
                 f"{MAP_GRID}^2 grid x 2 contexts x n actions x 8 bytes, 12 arrays")
    check_memory("K_values", 12 * 3**K_max * K_max * 8,
                 "3^K directions around a fixed point x K x 8 bytes, 12 arrays")
    check_memory("n_starts, basin_K", 40 * P["n_starts"] * B_max * 8,
                 "starts x K x 8 bytes, 40 arrays of the orbit integrator")
    check_time("n_starts, basin_K", P["n_starts"] * sum(k * k for k in P["basin_K"]) * 1e-3,
               "about 1 ms per start and K^2, measured for K = 2, 3")
    check_time("K_values", sum(2**K * K * K * 3**K for K in P["K_values"]) * 2e-7,
               "fixed points x saddle pairs x 3^K directions")
    return P


# --- Figure 6: the coupling functions ----------------------------------------------------

def couplings(P):
    """The coupling functions of Fig. 6 and the family ``u^p (1 - u)``: ``{name: Coupling}``."""
    out = {"on_policy": F.coupling("on_policy"), "supervised": F.coupling("supervised"),
           "mixture": F.coupling("mixture", alpha=P["mix_fraction"], n_actions=P["n_actions"])}
    for p in P["powers"]:
        c = F.coupling("power", p=p)
        if c.expr != out["on_policy"].expr:
            out[c.name] = c
    return out


def mixture_check(P):
    """``f_mix(0)`` derived (sympy) and read off the update rule
    (:func:`rayint_lib.model.update_coupling.coupling_from_updates`),
    and the largest gap between the two over ``u`` in (0, 1)."""
    mix = couplings(P)["mixture"]
    u = np.linspace(1e-9, 1 - 1e-6, 201)
    kw = {"n_actions": P["n_actions"], "mix_fraction": P["mix_fraction"]}
    measured = coupling_from_updates("mixture", u, **kw)
    return {"f_mix_at_zero": mix.at_zero,
            "f_mix_expected_at_zero": P["mix_fraction"] / P["n_actions"],
            "mix_percent": 100 * P["mix_fraction"],
            "f_mix_at_zero_updates": float(measured[0]),
            "f_on_policy_at_zero_updates": float(coupling_from_updates("on_policy", 1e-9, **kw)[0]),
            "f_mix_max_gap": float(np.abs(measured - mix(u)).max())}


# --- the factored model and the bandit -------------------------------------------------

def bandit_agreement():
    """Largest differences of the factored model from Eqs. (1)-(2), Eq. (3) and Sec. 2.5 on a
    60 x 60 grid of the square."""
    g = np.linspace(0.005, 0.995, CHECK_GRID)
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    on, sup = F.coupling("on_policy"), F.coupling("supervised")
    bandit = F.FactoredModel(on, norms=(np.sqrt(2), np.sqrt(2)), rho=-0.5)
    eq12 = np.stack(dynamics.jdot_rl(grid[:, 0], grid[:, 1]), -1)
    eq_sup = np.stack(dynamics.jdot_supervised(grid[:, 0], grid[:, 1]), -1)
    return {"max_err_eq12": float(np.abs(bandit.jdot(grid) - eq12).max()),
            "max_err_eq3": float(np.abs(bandit.jddot(grid)
                                        - dynamics.jddot_rl(grid[:, 0], grid[:, 1])).max()),
            "max_err_supervised": float(np.abs(F.FactoredModel(sup, g=on).jdot(grid)
                                               - eq_sup).max())}


def statements_table(P):
    """Sec. 3.1's three statements for every coupling function (one row each), plus
    Definition 2 on the segment (0, 1 - xi) -> (xi, 1): an inflection with ``Jdddot > 0``."""
    rows = []
    for name, c in couplings(P).items():
        model = F.FactoredModel(c, rho=P["rho"])
        s = F.statements(model, xi=P["xi"])
        d2 = F.plateau_between(model, [0.0, 1 - P["xi"]], [P["xi"], 1.0])
        rows.append({"f": name, "f(0)": s["f1_at_zero"], "corner": s["corner_type"],
                     "saddle": s["saddle"], "Jddot(0,1-xi)": s["jddot_below"],
                     "Jddot(xi,1)": s["jddot_right"], "plateau": s["plateau"],
                     "plateau (Def. 2)": d2["plateau"], "eps at inflection": d2["eps"],
                     "inflection J1": s["inflection_J1"],
                     "WTA width near saddle": s["wta_width_near_saddle"],
                     "WTA width at J2=1/2": s["wta_width_middle"], "WTA strip": s["wta_strip"]})
    return pd.DataFrame(rows).set_index("f")


def statement_values(stmt, P):
    """Glued values of :func:`statements_table` (names unchanged from before the split)."""
    yes = {True: "yes", False: "no"}
    out = {f"{key}_{name}": yes[bool(stmt.loc[name, col])] for name in stmt.index
           for key, col in (("saddle", "saddle"), ("plateau", "plateau"),
                            ("wta_strip", "WTA strip"))}
    zero, pos = stmt[stmt["f(0)"] == 0], stmt[stmt["f(0)"] > 0]
    mix = F.FactoredModel(couplings(P)["mixture"], rho=P["rho"])
    out.update(n_f_zero=len(zero), n_f_positive=len(pos),
               all_three_hold_f0_zero=yes[bool(zero[["saddle", "plateau", "WTA strip"]]
                                               .all().all())],
               mix_min_jdot_corner=float(mix.jdot_total([0.0, 1.0])),
               plateau_def2_all_f0_zero=yes[bool(zero["plateau (Def. 2)"].all())],
               eps_inflection_on_policy=float(stmt.loc["on_policy", "eps at inflection"]))
    return out


CURVE_START = (0.02, 0.18)   # J(theta0) = 0.2 = K/10, imbalanced (inside J2's WTA region)
CURVE_LEARNERS = {"on_policy": "on-policy", "mixture": "mixture", "supervised": "supervised"}


def learning_curves(P):
    """Deterministic curves of the 2x2 bandit whose update factor is each learner's ``f``
    (the performance gradient stays ``u(1-u) v_k``): ``{learner: (t, J)}``."""
    c = couplings(P)
    return {key: F.learning_curves(F.FactoredModel(c[key], g=c["on_policy"], rho=P["rho"]),
                                   CURVE_START, t_max=P["t_max"]) for key in CURVE_LEARNERS}


def time_to(t, J, level=1.9):
    """First time at which ``J = sum_k J_k`` reaches ``level`` (NaN if never)."""
    hit = np.flatnonzero(J.sum(1) >= level)
    return float(t[hit[0]]) if hit.size else float("nan")


def curve_values(curves):
    t_on, t_mix, t_sup = (time_to(*curves[k]) for k in CURVE_LEARNERS)
    return {"t_solve_on_policy": t_on, "t_solve_mixture": t_mix, "t_solve_supervised": t_sup,
            "speedup_mixture": t_on / t_mix}


# --- is grad v_k negligible near the saddle? ---------------------------------------------

def neglected_table(P, xi=None):
    """Exact ``Jddot`` against App. C.2's form (``grad v_k`` dropped) in the (2 x n)
    shared-bias bandits, at the two test points of Sec. 3.1 and along the segment
    (:func:`rayint_lib.model.neglected.segment_rows`), with the shift of the inflection."""
    xi = P["xi"] if xi is None else xi
    rows = segment_rows(P["bandit_actions"], P["skews"], xi)
    near = pd.DataFrame(rows)
    near["shift"] = (near["inflection, exact"] - near["inflection, C.2 form"]).abs()
    return near


def max_neglected(near):
    """Largest neglected part relative to ``Jddot`` at the two test points (all bandits)."""
    return float(near[["rel. neglected at (0,1-xi)", "rel. neglected at (xi,1)"]].max().max())


def neglected_values(near):
    return {"neglected_rel_near_saddle_max": max_neglected(near),
            "inflection_shift_max": float(near["shift"].max()),
            "signs_hold_all_bandits": "yes" if near["signs as C.1"].all() else "no"}


def grad_v_readings(P):
    """The claim's value at each distance ``xi`` of :data:`GRAD_V_XIS` (how near is 'near')."""
    return {f"xi = {x:g}": max_neglected(neglected_table(P, x)) for x in GRAD_V_XIS}


def neglected_map(n, skew):
    """``(X, Y, exact, approx, relative neglected)`` on a 99 x 99 grid of the square."""
    g = np.linspace(0.01, 0.99, MAP_GRID)
    X, Y = np.meshgrid(g, g)
    ex, ap, ne = F.neglected_terms(X, Y, n, skew)
    return X, Y, ex, ap, np.abs(ne) / np.maximum(np.abs(ex), np.abs(ap))


def neglected_share(P):
    """Fig. 3.1c's reading: the fraction of the square where the neglected terms exceed half
    of ``Jddot`` (first ``n`` of ``bandit_actions``, first skew: equal shares)."""
    n_map = P["bandit_actions"][0]
    rel = neglected_map(n_map, P["skews"][0])[-1]
    return {"frac_square_bad_equal_split": float((rel > 0.5).mean()), "n_map": n_map}


# --- WTA regions need rho < 0 (Sec. 3.1) -------------------------------------------------

def wta_rho_sweep(P):
    """WTA area of the square (400 x 400 midpoint rule) and the strip width next to the
    saddle (``J2 = 1 - 10 xi``) for every ``rho`` of the sweep and every coupling with
    ``f(0) = 0`` (and, for comparison, the mixture)."""
    rows = []
    for name, c in couplings(P).items():
        if name == "supervised":
            continue
        for r in P["rhos"]:
            model = F.FactoredModel(c, rho=r)
            rows.append({"f": name, "f(0)": c.at_zero, "rho": r,
                         "WTA area": F.wta_area(model, WTA_GRID),
                         "strip width near saddle":
                             float(model.wta_strip_width(1 - 10 * P["xi"]))})
    return pd.DataFrame(rows)


def wta_rho_values(sweep):
    zero = sweep[sweep["f(0)"] == 0]
    neg, nonneg = zero[zero["rho"] < 0], zero[zero["rho"] >= 0]
    return {"wta_area_rho_nonneg_max": float(nonneg["WTA area"].max()) if len(nonneg) else 0.0,
            "wta_area_rho_neg_min": float(neg["WTA area"].min()) if len(neg) else np.nan,
            "wta_strip_rho_neg_min": float(np.nan_to_num(neg["strip width near saddle"],
                                                         nan=1.0).min()) if len(neg) else np.nan,
            "n_rho_neg": int(neg["rho"].nunique()), "n_rho_nonneg": int(nonneg["rho"].nunique())}


# --- more than two components (Sec. 3.2) -------------------------------------------------

def saddle_counts(P):
    """Fixed points of the fully interfering K-component model by type, for every ``K`` of
    ``K_values`` (all components on-policy), and at ``K = max(K_values)`` for ``m`` on-policy
    components (``f(0) = 0``) with the rest supervised (``f(0) > 0``)."""
    rows = []
    K_max = max(P["K_values"])
    cases = [(K, K) for K in sorted(set(P["K_values"]))]
    cases += [(K_max, m) for m in range(1, K_max)]
    for K, m in cases:
        census = F.saddle_census(F.fully_interfering(K, rho=P["rho"], n_zero=m))
        types = Counter(census["types"])
        rows.append({"K": K, "m (f(0)=0)": m, "fixed points": len(census["points"]),
                     "saddles": census["n_saddles"], "stable": types["stable"],
                     "unstable": types["unstable"], "non-isolated": len(census["free_sets"]),
                     "2^m - 2": 2**m - 2, "2^m - 1": 2**m - 1})
    return pd.DataFrame(rows)


def saddle_values(counts):
    allK = counts[counts["K"] == counts["m (f(0)=0)"]]
    fixK = counts[counts["K"] == counts["K"].max()]
    ratios = allK["saddles"].to_numpy()[1:] / allK["saddles"].to_numpy()[:-1]
    diffs = np.diff(allK["saddles"].to_numpy())
    return {"saddle_growth_factor": F.difference_factor(allK["saddles"]),
            "saddle_growth_factor_fixed_K": F.difference_factor(fixK["saddles"]),
            "saddle_loglinear_factor": F.growth_factor(allK["m (f(0)=0)"], allK["saddles"]),
            "saddle_difference_ratios": ", ".join(f"{x:.3g}" for x in diffs[1:] / diffs[:-1]),
            "saddle_last_ratio": float(ratios[-1]),
            "saddles_K_max": int(allK["saddles"].iloc[-1]), "K_max": int(allK["K"].iloc[-1]),
            "saddles_match_2K_minus_2": "yes" if (allK["saddles"] == allK["2^m - 2"]).all()
            else "no",
            "non_isolated_fixed_points": int(counts["non-isolated"].sum())}


def plateaus_K(P):
    """Sec. 3.1's plateau test at every saddle of the fully interfering model, ``K > 2``
    (one row per K: saddle/pair counts, how many pass the sign test and Definition 2)."""
    rows = []
    for K in sorted(k for k in set(P["K_values"]) if k > 2):
        r = pd.DataFrame(F.plateaus_near_saddles(F.fully_interfering(K, rho=P["rho"]),
                                                 xi=P["xi"]))
        rows.append({"K": K, "saddles": r["saddle"].nunique(), "pairs (i at 0, j at 1)": len(r),
                     "sign test": int(r["signs"].sum()),
                     "plateau (Def. 2)": int(r["plateau"].sum()),
                     "largest eps": float(r["eps"].max())})
    return pd.DataFrame(rows)


def wta_K(P):
    """WTA strips next to the faces of the fully interfering model, ``K > 2``: for each ``k``
    the largest ``w`` with ``J_k = 1/2``, every other ``J_j = w`` WTA for ``k``."""
    rows = []
    for K in sorted(k for k in set(P["K_values"]) if k > 2):
        model = F.fully_interfering(K, rho=P["rho"])
        widths = [F.wta_face_width(model, k) for k in range(K)]
        rows.append({"K": K, "rho_kj": P["rho"] / (K - 1), "min width": min(widths),
                     "max width": max(widths)})
    return pd.DataFrame(rows)


def k_values(plat, wta):
    return {"n_saddle_pairs_K": int(plat["pairs (i at 0, j at 1)"].sum()),
            "n_plateau_pairs_K": int(plat["plateau (Def. 2)"].sum()),
            "eps_plateau_K_max": float(plat["largest eps"].max()),
            "wta_width_K_min": float(wta["min width"].min()),
            "wta_width_K_max_K": float(wta["min width"].iloc[-1])}


def basins(P):
    """Do the basins of eps-plateaus extend beyond the WTA regions? For each ``K`` of
    ``basin_K``: ``n_starts`` low-performance starts (``J(theta0) = K/10``, uniform on the
    simplex), their WTA flags and the flatness of their orbits
    (:func:`rayint_lib.model.factored.basins_beyond_wta`)."""
    rng = np.random.default_rng(P["seed"])
    return {K: F.basins_beyond_wta(F.fully_interfering(K, rho=P["rho"]), P["n_starts"], rng,
                                   eps=P["basin_eps"]) for K in P["basin_K"]}


def beyond_fraction(b, eps):
    """Among starts whose orbit crosses a plateau with ``Jdot <= eps``, the fraction that
    starts outside every WTA region (Wilson interval)."""
    hits = b["flatness"] <= eps
    return stats.fraction(~b["wta"][hits])


def basin_table(runs, P):
    rows = []
    for K, b in runs.items():
        for eps in sorted({P["basin_eps"], 1e-2, 1e-3}, reverse=True):
            hits = b["flatness"] <= eps
            rows.append({"K": K, "eps": eps, "starts": len(b["wta"]),
                         "WTA at start": f"{stats.fraction(b['wta']):.3f}",
                         "orbit crosses an eps-plateau": f"{stats.fraction(hits):.3f}",
                         "of those, start outside WTA": f"{beyond_fraction(b, eps):.3f}"})
    return pd.DataFrame(rows)


def basin_values(runs, P):
    K0 = P["basin_K"][0]
    b = runs[K0]
    out = {"basin_K": K0, "basin_eps": P["basin_eps"], "n_starts": P["n_starts"],
           "frac_wta_start": stats.fraction(b["wta"]),
           "frac_hits_plateau": stats.fraction(b["flatness"] <= P["basin_eps"]),
           "frac_basin_beyond_wta": beyond_fraction(b, P["basin_eps"])}
    for K in P["basin_K"][1:]:
        out[f"frac_basin_beyond_wta_K{K}"] = beyond_fraction(runs[K], P["basin_eps"])
        out[f"frac_wta_start_K{K}"] = stats.fraction(runs[K]["wta"])
    return out


def basin_readings(runs, P):
    """The beyond-WTA fraction under other plateau depths ``eps`` and other ``K``."""
    K0 = P["basin_K"][0]
    out = {f"K = {K0}, eps = {e:g}": beyond_fraction(runs[K0], e)
           for e in sorted({P["basin_eps"], 1e-2, 1e-3}, reverse=True)}
    out.update({f"K = {K}, eps = {P['basin_eps']:g}": beyond_fraction(runs[K], P["basin_eps"])
                for K in P["basin_K"][1:]})
    return out


# --- the paper's statements and the book's own findings ------------------------------------

CLAIMS, FINDINGS = claims_of(NOTEBOOK)


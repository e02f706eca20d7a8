"""Chapter 05_appendix_a: how much a plateau slows learning (Fig. 8), how often it is hit
(Fig. 5), and whether step sizes and optimizers avoid it (Fig. 9).

The deterministic numerics (orbits of Eqs. 1-2, the balanced run, the flatness of a 10x
slowdown, the plateau each start meets) are :mod:`rayint_lib.model.slowdown`; Figs. 8 and 9
run the simulator (:func:`rayint_lib.model.simulate.simulate`). This module declares the
parameters, assembles each figure's results and glued values, and reads its claims
(``claims/05_appendix_a.yaml``); the figures are drawn by :mod:`.appendix_a_figures`. Fig. 9
measures each optimizer's flatness from its own progress (the slope of its learning curve), at
the step size chosen on tuning runs of another seed (:mod:`rayint_lib.model.tuning`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model.config import OPTIMIZERS, BanditConfig, check_int, check_memory
from ..model.dynamics import plateau_intervals
from ..model.params import Param, declare
from ..model.simulate import simulate
from ..model.slowdown import (
    balanced_time,
    draw_starts,
    eps_at_slowdown,
    eps_at_slowdown_scatter,
    fit_slowdown_exponent,
    log10,
    orbits,
    plateau_flatness,
    simulated_slowdown,
    slowdown_curve,
    to_steps,
)
from ..model.stats import Estimate, fraction, median
from ..model.tuning import best_step_size, tuning_seed
from . import claims_of

NOTEBOOK = "05_appendix_a"
INITS = ("simplex", "angular", "logit")


# ------------------------------------------------------------------------------ claims

CLAIMS, FINDINGS = claims_of(NOTEBOOK)


# ---------------------------------------------------------------------------- settings

@dataclass(frozen=True)
class Setup:
    """Validated parameters of ``05_appendix_a`` and the simulator configurations."""

    eta: float
    J0: float
    J_end: float
    factor: float
    init: str
    J0_list: list
    n_starts: int
    bad_eps: float
    seed: int
    deterministic: BanditConfig      # Fig. 8: expected updates
    sampled: dict                    # Fig. 9 left: {eta: SGD config}, exact expected rate
    grid: dict                       # Fig. 9 right: {(optimizer, eta): config}, curve slope
    tuning: dict                     # the same grid on the tuning seed, tune_runs runs each
    optimizers: list
    optimizer_etas: list

    @property
    def n_orbits(self) -> int:
        """Deterministic orbits of Fig. 5: every start rule and every J(theta0)."""
        return len(INITS) * (len(self.J0_list) + (self.J0 not in self.J0_list)) * self.n_starts


PARAMS = declare(
    Param("eta", 0.1, "step size of the deterministic runs (Fig. 8) and the shared one of "
          "Fig. 9, right", low=0, low_open=True),
    Param("J0", 0.2, "J(theta0) of Fig. 8 and of the headline fraction of Fig. 5 (\"near "
          "(0,0)\"; K/10)", low=0, high=1, low_open=True, high_open=True),
    Param("J_end", 1.9, "\"near (1,1)\": a run is done once J reaches J_end (the paper's stop "
          "rule: K - 0.1)", low=1, high=2, low_open=True, high_open=True),
    Param("slowdown_factor", 10.0,
          "the dashed line: learning this many times slower than the balanced run", low=1,
          high=1000, low_open=True),
    Param("init", "angular", "how theta0 is drawn for a given J(theta0): simplex | angular | "
          "logit", choices=INITS),
    Param("J0_list", [0.02, 0.05, 0.1, 0.2, 0.4, 0.8], "initial performances of Fig. 5", low=0,
          high=1, low_open=True, high_open=True),
    Param("n_starts", 1000, "deterministic orbits per J(theta0) and per init (Fig. 5)", low=1,
          high=1_000_000),
    Param("n_runs_deterministic", 300, "simulator runs with expected updates (Fig. 8)", low=1),
    Param("n_runs", 200, "sampled runs per step size and per optimizer and step size (Fig. 9)",
          low=1),
    Param("etas", [0.01, 0.1, 1.0], "step sizes of SGD in Fig. 9, left", low=0, high=10,
          low_open=True),
    Param("optimizers", ["sgd", "momentum", "rmsprop", "adam"],
          "optimizers of Fig. 9, right", choices=OPTIMIZERS),
    Param("optimizer_etas", [0.01, 0.03, 0.1],
          "step-size grid per optimizer (tuning runs choose one)", low=0, high=10,
          low_open=True),
    Param("tune_runs", 50, "tuning runs (seed + 1) per optimizer and step size that choose "
          "its step size", low=2, high=100_000),
    Param("curve_window", 300,
          "updates per slope of the own-progress flatness of Fig. 9, right", low=1),
    Param("bad_eps", 1e-5, "\"bad plateau\" threshold used in the Fig. 9 summary (Fig. 3's "
          "1e-5)", low=0, high=1, low_open=True),
    Param("max_samples", 100000, "stop a run after this many samples (K per update)", low=2),
    Param("seed", 0, "seed of every random draw on this page", low=0),
)


def validate(**values) -> Setup:
    """Parameters of ``05_appendix_a`` (App. A, Figs. 5, 8, 9; :data:`PARAMS`) ->
    :class:`Setup`; raises ValueError naming the parameter before any work, memory
    estimated."""
    v = PARAMS.check(values)
    eta, J0, J_end, init, seed = v["eta"], v["J0"], v["J_end"], v["init"], v["seed"]
    n_runs, max_samples, optimizers = v["n_runs"], v["max_samples"], v["optimizers"]
    tune_runs = v["tune_runs"]
    check_int("curve_window", v["curve_window"], 1, max_samples // 2)
    if len(set(optimizers)) != len(optimizers):
        raise ValueError(f"optimizers must not repeat a name; got {optimizers}")
    base = BanditConfig(K=2, n=2, eta=eta, J0=J0, n_runs=n_runs, max_samples=max_samples,
                        seed=seed, init=init, solved_margin=2 - J_end)
    own = base.replace(flatness_measure="curve", window=v["curve_window"])
    grid_etas = sorted(set(v["optimizer_etas"]) | {eta})
    grid = {(o, e): own.replace(optimizer=o, eta=e) for o in optimizers for e in grid_etas}
    setup = Setup(eta=eta, J0=J0, J_end=J_end, factor=v["slowdown_factor"], init=init,
                  J0_list=v["J0_list"], n_starts=v["n_starts"], bad_eps=v["bad_eps"], seed=seed,
                  deterministic=base.replace(batch="expected",
                                             n_runs=v["n_runs_deterministic"]),
                  sampled={e: base.replace(eta=e) for e in v["etas"]},
                  grid=grid, tuning={key: c.replace(n_runs=tune_runs, seed=tuning_seed(seed))
                                     for key, c in grid.items()},
                  optimizers=optimizers, optimizer_etas=v["optimizer_etas"])
    reported = [grid[(o, e)] for o in optimizers for e in grid_etas[:2]]  # shared, chosen
    configs = [setup.deterministic, *setup.sampled.values(), *reported, *setup.tuning.values()]
    check_memory(f"n_runs={n_runs}, tune_runs={tune_runs}, etas, optimizers, "
                 f"optimizer_etas, n_runs_deterministic={v['n_runs_deterministic']}",
                 sum(c.memory_bytes() for c in configs),
                 f"{len(configs)} simulator configurations kept at once, each runs x "
                 "(checkpoints x K + optimizer state) x 8 bytes")
    check_memory(f"n_starts={setup.n_starts}, J0_list", setup.n_orbits * 40 * 8,
                 "orbits of Fig. 5 x 40 floats (state, four RK4 stages, results)")
    return setup


def simulate_each(configs):
    """``{key: simulate(config)}`` for a dict of configs; equal configs share one run."""
    done, out = {}, {}
    for key, cfg in configs.items():
        if cfg not in done:
            done[cfg] = simulate(cfg)
        out[key] = done[cfg]
    return out


# --------------------------------------------------------------------------- Figure 8


def figure8(setup: Setup) -> dict:
    """Fig. 8: the ODE curve from ``J0`` (reduced units), its 10x flatness and exponent, and
    the simulator's expected-update runs (full units) with the same reading."""
    T_bal = balanced_time(setup.J0, setup.J_end)
    curve = slowdown_curve(setup.J0, setup.J_end)
    eps_10x = eps_at_slowdown(curve, setup.factor)
    exponent, prefactor = fit_slowdown_exponent(curve["eps"], curve["time"] - T_bal)
    runs = simulate(setup.deterministic)
    eps_sim, ratio_sim, solved = simulated_slowdown(runs, setup.J_end)
    eps_sim_full = eps_at_slowdown_scatter(eps_sim[solved], ratio_sim[solved], setup.factor,
                                           n_boot=2000)
    return {"T_bal": T_bal, "curve": curve, "eps_10x": eps_10x, "exponent": exponent,
            "prefactor": prefactor, "runs": runs, "eps_sim": eps_sim, "solved": solved,
            "eps_10x_sim_full": eps_sim_full}


def figure8_glue(setup: Setup, f8: dict) -> dict:
    """Glued names of Fig. 8 (those of the book before intervals, plus the intervals)."""
    return {"a_J0": setup.J0, "a_J_end": setup.J_end, "a_eta": setup.eta,
            "a_T_bal": f8["T_bal"], "a_factor": setup.factor,
            "a_steps_bal_full": float(to_steps(f8["T_bal"], setup.eta, "full")),
            "a_steps_bal_red": float(to_steps(f8["T_bal"], setup.eta, "reduced")),
            "eps_10x_slowdown": f8["eps_10x"], "eps_10x_slowdown_full": 2 * f8["eps_10x"],
            "eps_10x_sim_full": f8["eps_10x_sim_full"], "slowdown_exponent": f8["exponent"],
            "a_prefactor": f8["prefactor"], "a_sim_solved": fraction(f8["solved"]),
            "a_eps_curve_min": float(np.nanmin(f8["curve"]["eps"])),
            "a_n_det": f8["eps_sim"].size}


def eps10x_readings(f8: dict) -> dict:
    """``A-eps10x`` under the paper's open choice of parameters (log10 eps)."""
    return {"simulator, full (W, b)": log10(f8["eps_10x_sim_full"]),
            "ODE, full (W, b)": log10(2 * f8["eps_10x"]),
            "ODE, reduced (theta1..3)": log10(f8["eps_10x"])}


def near_table(setup: Setup, n_points=40) -> pd.DataFrame:
    """The 10x flatness for other readings of "near (0, 0)" and "near (1, 1)"; one
    vectorised orbit integration per end point."""
    J0s = (setup.J0 / 4, setup.J0, min(2 * setup.J0, 0.9))
    share = np.geomspace(1e-4, 1.0, n_points)
    rows = []
    for j_end in (1.8, setup.J_end, 1.98):
        J1 = np.array([j0 / 2 * share for j0 in J0s])
        o = orbits(J1, np.array(J0s)[:, None] - J1, j_end)
        for k, j0 in enumerate(J0s):
            curve = {"eps": o["eps"][k], "ratio": o["time"][k] / balanced_time(j0, j_end)}
            e = eps_at_slowdown(curve, setup.factor)
            rows.append({"J(theta0)": j0, "J_end": j_end, "balanced updates (full)": float(
                to_steps(balanced_time(j0, j_end), setup.eta, "full")),
                "eps (reduced)": e, "eps (full)": 2 * e})
    return pd.DataFrame(rows).sort_values(["J(theta0)", "J_end"], ignore_index=True)


# --------------------------------------------------------------------------- Figure 5

def figure5(setup: Setup, eps_10x: float, runs_det) -> dict:
    """Fig. 5: the flatness each random start meets, for every start rule and J(theta0).

    Starts are drawn in a fixed order from one Generator (``setup.seed``) and integrated in
    one vectorised call. Returns ``eps`` (``{(init, J0): [n_starts]}``), ``frac`` (Wilson
    :class:`Estimate` of the fraction at least ``factor`` x slow, same keys) and the
    readings of ``A-half-at-0.2``.
    """
    rng = np.random.default_rng(setup.seed)
    J0s = list(setup.J0_list) + ([setup.J0] if setup.J0 not in setup.J0_list else [])
    keys = [(i, j0) for i in INITS for j0 in J0s]
    starts = np.stack([draw_starts(j0, i, setup.n_starts, rng) for i, j0 in keys])
    flat = plateau_flatness(starts)
    eps = dict(zip(keys, flat))
    frac = {key: fraction(e <= eps_10x) for key, e in eps.items()}
    own = eps[(setup.init, setup.J0)]
    det = np.nan_to_num(runs_det.flatness, nan=np.inf)
    readings = {f"init = {i}": frac[(i, setup.J0)] for i in INITS}
    readings.update({
        "simulator, expected updates": fraction(det <= 2 * eps_10x),
        "dashed line at 1e-4, reduced units": fraction(own <= 1e-4),
        "dashed line at 1e-4, full units": fraction(own <= 0.5e-4)})
    return {"eps": eps, "frac": frac, "readings": readings}


def figure5_glue(setup: Setup, f5: dict) -> dict:
    frac, r = f5["frac"], f5["readings"]
    at_J0 = {i: frac[(i, setup.J0)] for i in INITS}
    lo, hi = min(at_J0.values(), key=float), max(at_J0.values(), key=float)
    return {"frac_J0_0.2_flatter_than_10x": frac[(setup.init, setup.J0)],
            **{f"a_frac_{i}": e for i, e in at_J0.items()}, "a_frac_min": lo, "a_frac_max": hi,
            "a_plateau_a": plateau_intervals(), "a_n_starts": setup.n_starts,
            "a_init": setup.init, "a_frac_sim": r["simulator, expected updates"],
            "a_frac_paper_units": r["dashed line at 1e-4, reduced units"],
            "a_frac_full_units": r["dashed line at 1e-4, full units"]}


def fraction_table(setup: Setup, f5: dict) -> pd.DataFrame:
    """Fraction of starts at least ``factor`` x slow, by J(theta0) and start rule, as text
    ``value [low, high]``."""
    return pd.DataFrame({i: [f"{f5['frac'][(i, j0)]:.3f}" for j0 in setup.J0_list]
                         for i in INITS}, index=pd.Index(setup.J0_list, name="J(theta0)"))


def lower_J0_worse(setup: Setup, f5: dict, slack=0.02) -> bool:
    """``A-lower-J0-worse``: for every start rule the fraction is non-increasing in J(theta0)
    (up to ``slack``), and the lowest J(theta0)'s interval lies above the highest's."""
    J0s = sorted(setup.J0_list)
    for i in INITS:
        f = [f5["frac"][(i, j0)] for j0 in J0s]
        if np.any(np.diff([x.value for x in f]) > slack) or not f[0].low > f[-1].high:
            return False
    return len(J0s) > 1


# --------------------------------------------------------------------------- Figure 9

@dataclass
class Row:
    """One setting of Fig. 9 with its measured fractions and median (95% intervals)."""

    runs: object
    bad: Estimate        # P(flattest plateau <= bad_eps)
    solved: Estimate
    median: Estimate     # samples to solve (unsolved = never)


def _row(runs, bad_eps) -> Row:
    flat = np.nan_to_num(runs.flatness, nan=np.inf)
    return Row(runs, fraction(flat <= bad_eps), fraction(runs.solved),
               median(runs.samples_to_solve))


def best_eta(rows: dict) -> float:
    """The best step size of one optimizer from ``{eta: Row}`` of its tuning runs
    (:func:`rayint_lib.model.tuning.best_step_size`: the highest fraction solved up to its
    Wilson interval, then the fewest median samples to solve)."""
    return best_step_size({e: r.solved for e, r in rows.items()},
                          {e: r.median for e, r in rows.items()})


def figure9(setup: Setup) -> dict:
    """Fig. 9: SGD at several step sizes (exact expected rate, as Fig. 3), and every
    optimizer measured by its own progress (curve slope / eta) at the shared step size and
    at the one chosen on its tuning runs (``tune_runs`` runs of the tuning seed per grid
    point, never the reported runs).

    Returns ``eta`` (``{eta: Row}``), ``tuning`` (``{(optimizer, eta): Row}`` of the tuning
    runs), ``best_eta`` (``{optimizer: eta}``, chosen on them), ``shared`` and ``best``
    (``{optimizer: Row}`` of the reported runs at the shared and at the chosen step size)
    and ``table``.
    """
    tuning = {key: _row(r, setup.bad_eps) for key, r in simulate_each(setup.tuning).items()}
    best = {o: best_eta({e: r for (oo, e), r in tuning.items() if oo == o})
            for o in setup.optimizers}
    configs = {("eta", e): c for e, c in setup.sampled.items()}
    configs.update({("grid", (o, e)): setup.grid[(o, e)] for o in setup.optimizers
                    for e in (setup.eta, best[o])})
    rows = {key: _row(r, setup.bad_eps) for key, r in simulate_each(configs).items()}
    out = {"eta": {e: rows[("eta", e)] for e in setup.sampled}, "tuning": tuning,
           "best_eta": best,
           "shared": {o: rows[("grid", (o, setup.eta))] for o in setup.optimizers},
           "best": {o: rows[("grid", (o, best[o]))] for o in setup.optimizers}}
    out["table"] = figure9_table(setup, out)
    return out


def figure9_table(setup: Setup, f9: dict) -> pd.DataFrame:
    rows = [("SGD, step sizes (expected rate)", f"eta={e:g}", r) for e, r in f9["eta"].items()]
    for o in setup.optimizers:
        rows.append(("optimizers, shared eta (own progress)", f"{o}, eta={setup.eta:g}",
                     f9["shared"][o]))
        rows.append(("optimizers, chosen eta (own progress)", f"{o}, eta={f9['best_eta'][o]:g}",
                     f9["best"][o]))
    return pd.DataFrame([{"comparison": c, "setting": s,
                          f"P(eps <= {setup.bad_eps:g})": f"{r.bad:.3f}",
                          "solved": f"{r.solved:.3f}", "median samples": f"{r.median:.0f}"}
                         for c, s, r in rows])


def grid_table(setup: Setup, f9: dict) -> pd.DataFrame:
    """Every optimizer on its step-size grid, tuning runs: fraction solved and median
    samples, and the step size they choose."""
    return pd.DataFrame([{"optimizer": o, "eta": e, "solved": f"{r.solved:.3f}",
                          "median samples": f"{r.median:.0f}",
                          f"P(eps <= {setup.bad_eps:g})": f"{r.bad:.3f}",
                          "chosen": "yes" if f9["best_eta"][o] == e else ""}
                         for (o, e), r in f9["tuning"].items()])


def figure9_glue(setup: Setup, f9: dict) -> dict:
    """Glued names of Fig. 9: the settings' fractions and medians with their intervals, the
    step size chosen per optimizer on the tuning runs and the seeds that tune and report,
    and the readings of :func:`figure9_phrases`."""
    shown = {f"eta={e:g}": r for e, r in f9["eta"].items()}
    shown.update({o: r for o, r in f9["shared"].items()})
    bad = sorted(shown.values(), key=lambda r: r.bad.value)
    worst = min(shown, key=lambda k: shown[k].solved.value)
    every = bad[0].bad.value > 0
    out = {"a_bad_eps": setup.bad_eps, "a_max_samples": setup.deterministic.max_samples,
           "a_bad_min": bad[0].bad, "a_bad_max": bad[-1].bad,
           "a_fig9_phrase": "every step size and every optimizer tested meets them" if every
           else "at least one setting tested avoids them",
           "a_worst_solver": worst, "a_worst_solved": shown[worst].solved,
           "a_curve_window": setup.grid[(setup.optimizers[0], setup.eta)].window,
           "a_seed": setup.seed, "a_tune_seed": tuning_seed(setup.seed),
           "a_tune_runs": next(iter(setup.tuning.values())).n_runs,
           "a_n_runs": setup.grid[(setup.optimizers[0], setup.eta)].n_runs,
           **figure9_phrases(setup, f9)}
    for e, r in f9["eta"].items():
        out.update({f"a_bad_eta_{e}": r.bad, f"a_solved_eta_{e}": r.solved})
    for o in setup.optimizers:
        s, b = f9["shared"][o], f9["best"][o]
        out.update({f"a_bad_opt_{o}": s.bad, f"a_solved_opt_{o}": s.solved,
                    f"a_median_opt_{o}": s.median, f"a_eta_best_{o}": f9["best_eta"][o],
                    f"a_bad_best_{o}": b.bad, f"a_solved_best_{o}": b.solved,
                    f"a_median_best_{o}": b.median})
    best_bad = [f9["best"][o].bad for o in setup.optimizers]
    out["a_bad_best_min"] = min(best_bad, key=float)
    out["a_bad_best_max"] = max(best_bad, key=float)
    return out


def figure9_phrases(setup: Setup, f9: dict) -> dict:
    """The prose's readings of Fig. 9, computed: the optimizer that meets flat plateaus least
    often at its chosen step size (``a_fewest_best``), those the shared step size made look
    worse (their fraction's interval above the one at the chosen step size;
    ``a_shared_worse``), whether one optimizer solves the fewest tuning runs at every step
    size of the grid (``a_worst_everywhere``) and whether any chosen setting avoids flat
    plateaus (``a_best_phrase``)."""
    best, shared, opts = f9["best"], f9["shared"], setup.optimizers
    worse = [o for o in opts if shared[o].bad.low > best[o].bad.high]
    etas = sorted({e for _, e in f9["tuning"]})
    fewest = {min(opts, key=lambda o: f9["tuning"][(o, e)].solved.value) for e in etas}
    worst = fewest.pop() if len(fewest) == 1 and len(opts) > 1 else None
    return {"a_fewest_best": min(opts, key=lambda o: best[o].bad.value),
            "a_shared_worse": " and ".join(worse) or "no optimizer",
            "a_worst_everywhere": f"{worst} solves the fewest runs at every step size of the "
            "grid, so its failure is not only a matter of step size" if worst else
            "no single optimizer solves the fewest runs at every step size of the grid",
            "a_best_phrase": "No optimizer removes the flat plateaus" if persists(best) else
            "At least one optimizer avoids them at its chosen step size"}


def persists(best: dict) -> bool:
    """Flat plateaus persist: every optimizer's fraction meeting one, at its chosen step
    size (``{optimizer: Row}``), has a 95% interval above 0."""
    return all(r.bad.low > 0 for r in best.values())


def fig9_answer(setup: Setup, f9: dict) -> tuple[str, Estimate]:
    """The book's answer to ``A-fig9-optimizers``, from the measured rows, and its value: the
    lowest fraction of runs meeting a flat plateau, over optimizers at their chosen step size."""
    best = f9["best"]
    every = persists(best)
    parts = ", ".join(f"{o} (eta {f9['best_eta'][o]:g}) {r.bad:.2f}" for o, r in best.items())
    lowest = min((r.bad for r in best.values()), key=float)
    return (("Yes: " if every else "Not for every optimizer: ")
            + f"P(eps <= {setup.bad_eps:g}) at the step size chosen on the tuning runs: "
            + parts), lowest

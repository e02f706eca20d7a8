"""Chapter 01_minimal_bandit: the minimal bandit of Sec. 2 (Figs. 1-3).

The computations of the chapter, its figures and its claims. The (2 x 2) dynamics come from
:mod:`rayint_lib.model.dynamics` (closed form) and, independently, from the expected updates
of :mod:`rayint_lib.model.updates` (``component_rates``); learning runs from
:func:`rayint_lib.model.simulate.simulate`. Every number from random runs carries a 95%
interval (:mod:`rayint_lib.model.stats`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from ..book.claims import Claim
from ..model import bandit, dynamics, stats
from ..model.config import FLATNESS_MEASURES, INITS, BanditConfig, check_memory, check_time
from ..model.expected_flow import field_from_updates
from ..model.params import Param, declare
from ..model.simulate import BanditRuns, simulate
from ..model.staircase import performance, stall_at_one
from ..model.updates import component_rates
from . import claims_of

NOTEBOOK = "01_minimal_bandit"
EPS = 1e-5                      # the flatness level of Fig. 3's headline
BASIN_EPS = 0.1                 # the plateau whose basin Fig. 2 draws
MC_RADIUS = 1e-3                # radius of the Monte Carlo starts of App. B.4
ORBIT_STEPS = 4000              # path length assumed by the memory estimate of orbit paths


BANDIT_FIELDS = ("K", "n", "eta", "J0", "n_runs", "max_samples", "seed", "init",
                 "flatness_measure")   # the parameters held by Settings.bandit
PARAMS = declare(
    Param("K", 2, "contexts", low=1),
    Param("n", 2, "actions, at least K", low=2),
    Param("eta", 0.1, "step size (App. A)", low=0, low_open=True),
    Param("J0", None, "initial total performance J(theta0); None means K/10 (App. A)", float,
          low=0, low_open=True),
    Param("n_runs", 1000, "learning runs per ablation setting of Figure 3", low=1),
    Param("max_samples", 100_000, "stop a run after this many samples (K per update; App. A)",
          low=1),
    Param("seed", 0, "seed of the random generator", low=0),
    Param("init", "angular", "how theta0 is drawn for a given J0: angular | simplex | logit",
          choices=INITS),
    Param("flatness_measure", "expected",
          "expected: rate of the expected update; curve: slope of J(t)",
          choices=FLATNESS_MEASURES),
    Param("n_trajectories", 30, "sample trajectories per column of Figure 1", low=1,
          high=10_000),
    Param("n_runs_onpolicy", 20_000, "on-policy runs of Figure 3 (its headline claim)", low=1),
    Param("n_runs_alt", 1000, "runs per alternative reading of the open choices", low=1),
    Param("mix_fraction", 0.1,
          "uniform share of the mixture behaviour (Fig. 6): 0.9 pi + 0.1 unif.", low=0, high=1),
    Param("n_grid", 200, "grid of starts per side for the basins (Fig. 2) and Sec. 2.5",
          low=20, high=2000),
    Param("n_mc", 200_000, "Monte Carlo starts for the chance of a WTA start (App. B.4)",
          low=100),
    Param("n_orbits", 30, "grid of orbit starts per side for Sec. 2.4 and Sec. 2.6 basins",
          low=4, high=400),
)


@dataclass(frozen=True)
class Settings(PARAMS.record("Parameters", drop=BANDIT_FIELDS)):
    """The validated parameters: the chapter's own (:data:`PARAMS`) and the base
    :class:`BanditConfig` that holds the others."""

    bandit: BanditConfig

    def __getattr__(self, name):          # cfg.K, cfg.eta, ... read the base config
        if name.startswith("__") or "bandit" not in self.__dict__:   # (copy, pickle)
            raise AttributeError(name)
        return getattr(self.__dict__["bandit"], name)

    @property
    def config_2x2(self) -> BanditConfig:
        """Figures 1 and 2 are about the (2 x 2) bandit whatever K and n are."""
        c = self.bandit
        return c.replace(K=2, n=2, J0=c.J0 if c.K == 2 else 0.2, n_runs=self.n_trajectories,
                         n_checkpoints=400)


def validate(**values) -> Settings:
    """Parameters of ``01_minimal_bandit`` (Sec. 2; :data:`PARAMS`) -> :class:`Settings`;
    raises ``ValueError`` naming the parameter before any work, memory estimates included."""
    v = PARAMS.check(values)
    base = BanditConfig(**{k: v[k] for k in BANDIT_FIELDS})
    s = Settings(bandit=base, **PARAMS.values_of(v, Settings))
    n_grid, n_mc, n_orbits, n_runs_onpolicy = s.n_grid, s.n_mc, s.n_orbits, s.n_runs_onpolicy
    # the simulations validate (and estimate) themselves when their configs are built
    base.replace(n_runs=n_runs_onpolicy)
    base.replace(n_runs=n_runs_onpolicy, logit_scale=0.0)   # Fig. 3's second wrong-arm reading
    base.replace(n_runs=s.n_runs_alt, learner="mixture", mix_fraction=s.mix_fraction)
    s.config_2x2
    # the chapter's own arrays: grids with their orbits, Monte Carlo samples, orbit paths
    check_memory(f"n_grid={n_grid}", n_grid**2 * 8 * 24,
                 "n_grid^2 starts x 24 float64 arrays (grid, orbit state, RK4 stages)")
    check_memory(f"n_mc={n_mc}", n_mc * 8 * 8, "n_mc angles x 8 float64 arrays")
    check_memory(f"n_orbits={n_orbits}", n_orbits**2 * ORBIT_STEPS * 8 * 8,
                 f"n_orbits^2 starts x {ORBIT_STEPS} RK4 steps x 8 float64 (orbit paths)")
    check_memory(f"n_runs_onpolicy={n_runs_onpolicy}", n_runs_onpolicy * 8 * 16,
                 "runs x 16 float64 per-run summaries")
    check_time(f"n_grid={n_grid}, n_orbits={n_orbits}",
               n_grid**2 * GRID_SECONDS + n_orbits**2 * ORBIT_SECONDS,
               "n_grid^2 x 0.3 ms (basins, Sec. 2.5) + n_orbits^2 x 50 ms (WTA exits, tabular "
               "basins), measured by benchmarks/estimate_rates.py")
    return s


# Seconds per grid cell (basins and the supervised grid) and per orbit start (WTA exits and
# tabular basins), measured by ``benchmarks/estimate_rates.py`` at n_grid 40-80 and n_orbits
# 10-20 on 2 loaded cores (1.1e-4 and 0.043 s at the smallest sizes, where fixed costs weigh
# most), rounded up: upper estimates for larger grids.
GRID_SECONDS, ORBIT_SECONDS = 3e-4, 0.05


# ---------------------------------------------------------------- Sec. 2.1-2.2
def interference_check(K, n, seed):
    """Definition 1 at random parameters: analytic cosines, finite differences, tabular."""
    rng = np.random.default_rng(seed)
    logits = 3 * rng.standard_normal((2000, 2, 2))
    rho = bandit.interference(logits)[:, 0, 1]
    G = bandit.finite_difference_gradients(logits[:200], "shared_bias")
    rho_fd = (G[:, 0] * G[:, 1]).sum(-1) / np.linalg.norm(G, axis=-1).prod(-1)
    logits_Kn = 3 * rng.standard_normal((500, K, n))
    off = ~np.eye(K, dtype=bool)
    rho_Kn = bandit.interference(logits_Kn)[:, off] if K > 1 else np.array([np.nan])
    return {"rho_2x2": float(rho.mean()), "rho_spread": float(np.ptp(rho)),
            "rho_fd_error": float(np.abs(rho_fd - rho[:200]).max()),
            "rho_tabular": float(np.abs(bandit.interference(logits, "tabular")[:, 0, 1]).max()),
            "rho_Kn_mean": float(np.mean(rho_Kn))}


def eq12_check(seed, h=1e-7):
    """Eqs. (1)-(2) against an explicit small gradient step in the reduced parameters theta."""
    theta = np.random.default_rng(seed).normal(scale=2, size=(1000, 3))

    def J(t):
        return expit(t[:, 0] + t[:, 2]), expit(t[:, 1] - t[:, 2])

    J1, J2 = J(theta)
    q1, q2 = J1 * (1 - J1), J2 * (1 - J2)
    grad = np.stack([q1, q2, q1 - q2], axis=1)             # grad J in theta (Sec. 2.1)
    S1, S2 = J(theta + h * grad)
    e1, e2 = dynamics.jdot_rl(J1, J2)
    return float(max(np.abs((S1 - J1) / h - e1).max(), np.abs((S2 - J2) / h - e2).max()))


# ---------------------------------------------------------------- Sec. 2.3
def plateau_check(seed, n=2000, h=1e-6):
    """Eq. (3) and the flatness on the anti-diagonal, each against an independent number."""
    rng = np.random.default_rng(seed)
    J1, J2 = rng.uniform(0.01, 0.99, n), rng.uniform(0.01, 0.99, n)
    a = np.linspace(0.001, 0.999, 999)
    rate = component_rates(bandit.logits_2x2(a, 1 - a), "on_policy", "shared_bias").sum(-1) / 2
    return {"jddot_error": float(np.abs(dynamics.jddot_along_flow(J1, J2)
                                        - dynamics.jddot_rl(J1, J2)).max()),
            "antidiag_jddot": float(np.abs(dynamics.jddot_rl(a, 1 - a)).max()),
            "flat_formula_error": float(np.abs(rate - 2 * a**2 * (1 - a)**2).max()),
            "plateau_edge": float(dynamics.plateau_intervals()),
            "plateau_edge_paper": float((15 - np.sqrt(15)) / 30)}


# ---------------------------------------------------------------- Sec. 2.4
def basins(n_grid, eps=BASIN_EPS):
    """The basin of the ``eps``-plateau near (0, 1) and the App. B.3 polygon (one routine:
    :func:`rayint_lib.model.dynamics.basin_check`)."""
    return dynamics.basin_check(eps, n_grid)


def wta_starts(cfg: Settings):
    """Sec. 2.4 and App. B.4: the chance of starting in a WTA region."""
    rng = np.random.default_rng(cfg.seed)
    start = bandit.right_arm_probs(bandit.initial_logits(2, 2, 0.2, 20_000, rng, init=cfg.init))
    g = (np.arange(cfg.n_grid) + 0.5) / cfg.n_grid
    G1, G2 = np.meshgrid(g, g)
    tabular = field_from_updates("on_policy", "tabular")
    return {"p_wta_monte_carlo": dynamics.p_nc_monte_carlo(MC_RADIUS, cfg.n_mc, rng),
            "p_wta_quadrature": dynamics.p_nc_quadrature(1e-6),
            "p_wta_closed_form": float(dynamics.p_nc_closed_form()),
            "p_wta_at_J0": stats.fraction(dynamics.winner_take_all(start[:, 0], start[:, 1])),
            "p_wta_tabular": float(dynamics.winner_take_all(G1, G2, tabular).mean())}


def wta_exit_check(n_orbits):
    """Sec. 2.4: orbits from every WTA start of an ``n_orbits`` grid, followed until they
    leave the region: has the other component decreased?"""
    g = (np.arange(n_orbits) + 0.5) / n_orbits
    G1, G2 = (x.ravel() for x in np.meshgrid(g, g))
    keep = dynamics.winner_take_all(G1, G2) & (G1 + G2 < 1.8)
    out = dynamics.wta_exits(G1[keep], G2[keep], J_end=1.99)
    left = out["left"]
    drop = (out["loser_start"] - out["loser_exit"])[left]
    return {"n_wta_orbits": int(keep.sum()), "n_wta_left": int(left.sum()),
            "wta_frac_decreased": float(np.mean(drop > 0)),
            "wta_min_decrease": float(drop.min()),
            "wta_min_winner_exit": float(out["winner_exit"][left].min())}


def tabular_basins(n_orbits, eps_list=(BASIN_EPS, 1e-3, EPS), radii=(1e-2, 1e-3)):
    """Sec. 2.6: plateau basins of the tabular and the shared-bias dynamics, both read off the
    orbits with Definition 2 (:func:`rayint_lib.model.dynamics.plateaus_along_orbits`).

    Returns a table with, per field and eps, the basin's area (upper half of the square below
    the anti-diagonal, doubled by symmetry) and the share of directions from the origin whose
    start at each radius lies in the basin.
    """
    pts, cell = dynamics.upper_triangle_grid(n_orbits)
    phi = np.pi / 4 + (np.arange(64) + 0.5) / 64 * np.pi / 4
    rows = []
    for name, field in (("shared bias", dynamics.jdot_rl), ("tabular", dynamics.jdot_tabular)):
        flat = np.nan_to_num(dynamics.plateaus_along_orbits(pts[:, 0], pts[:, 1], field),
                             nan=np.inf)
        near = {r: np.nan_to_num(dynamics.plateaus_along_orbits(r * np.cos(phi),
                                                                r * np.sin(phi), field),
                                 nan=np.inf) for r in radii}
        for eps in eps_list:
            row = {"dynamics": name, "eps": eps, "basin area": 2 * cell * np.sum(flat <= eps)}
            row.update({f"share at radius {r:g}": float(np.mean(near[r] <= eps))
                        for r in radii})
            rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- Sec. 2.5
# ---------------------------------------------------------------- Figure 1
FIG1_COLUMNS = (("on_policy", "shared_bias", "RL with function approximation"),
                ("on_policy", "tabular", "tabular RL"),
                ("supervised", "shared_bias", "supervised learning"))


def figure1_runs(cfg: Settings) -> dict[str, BanditRuns]:
    """The sample runs of Figure 1, one batch per column."""
    c = cfg.config_2x2
    return {title: simulate(c.replace(learner=learner, policy=policy))
            for learner, policy, title in FIG1_COLUMNS}


def figure1_summary(runs: dict[str, BanditRuns]) -> dict:
    """Glued values of Figure 1: medians of samples to solve and of the time at J = 1."""
    keys = dict(zip((t for *_, t in FIG1_COLUMNS), ("rl", "tab", "sup")))
    out = {}
    for title, r in runs.items():
        k = keys[title]
        stall = stall_at_one(r)
        out[f"median_{k}"] = stats.median(r.samples_to_solve)
        stall = stall[np.isfinite(stall)]
        out[f"stall_{k}_median"] = stats.median(stall if stall.size else [np.nan])
        out[f"stall_{k}_max"] = float(stall.max()) if stall.size else float("nan")
        out[f"performance_{k}_median"] = stats.median(performance(r))
    return out


# ---------------------------------------------------------------- Figure 2
# ---------------------------------------------------------------- Figure 3
FIG3_SETTINGS = {"on_policy": dict(learner="on_policy", policy="shared_bias"),
                 "tabular": dict(learner="on_policy", policy="tabular"),
                 "separate": dict(learner="on_policy", policy="separate"),
                 "off_policy": dict(learner="off_policy", policy="shared_bias"),
                 "mixture": dict(learner="mixture", policy="shared_bias"),
                 "supervised": dict(learner="supervised", policy="shared_bias")}


def figure3_runs(cfg: Settings) -> dict[str, BanditRuns]:
    """The learning runs of Figure 3: on-policy with ``n_runs_onpolicy`` runs (the headline
    claim), the ablations and the 10% mixture with ``n_runs``."""
    out = {}
    for name, s in FIG3_SETTINGS.items():
        n_runs = cfg.n_runs_onpolicy if name == "on_policy" else cfg.n_runs
        out[name] = simulate(cfg.bandit.replace(n_runs=n_runs, mix_fraction=cfg.mix_fraction,
                                                **s))
    return out


def figure3_summary(runs: dict[str, BanditRuns]) -> tuple[dict, pd.DataFrame]:
    """Glued fractions (``frac_<setting>_eps_le_1e-5``, with intervals) and the table."""
    names = {"on_policy": "onpolicy", "off_policy": "offpolicy"}
    frac = {k: stats.fraction(r.flat(EPS)) for k, r in runs.items()}
    glued = {f"frac_{names.get(k, k)}_eps_le_1e-5": f for k, f in frac.items()}
    table = pd.DataFrame({k: {"runs": r.config.n_runs, "fraction eps <= 1e-5": f"{frac[k]:.3f}",
                              "solved": f"{stats.fraction(r.solved):.3f}",
                              "median samples to solve": f"{stats.median(r.samples_to_solve):.0f}"}
                          for k, r in runs.items()}).T
    return glued, table


def imbalance(runs: BanditRuns):
    """Fig. 3's caption: flat-plateau fractions of the most imbalanced and the most balanced
    third of starts (``|J1 - J2|`` at theta0)."""
    K = runs.config.K
    gap = np.ptp(runs.initial, axis=1) if K > 1 else np.zeros(runs.config.n_runs)
    lo, hi = np.quantile(gap, [1 / 3, 2 / 3])
    hit = runs.flat(EPS)
    return {"frac_flat_imbalanced": stats.fraction(hit[gap >= hi]),
            "frac_flat_balanced": stats.fraction(hit[gap <= lo])}


def deepest_plateaus(runs: BanditRuns, level=1e-8) -> dict:
    """Fig. 3's on-policy runs flatter than ``level``: their share, the share of them solved,
    and the median of their smallest component ``min_k J_k(theta0)`` against the others'."""
    deep = np.nan_to_num(runs.flatness, nan=np.inf) < level
    smallest = runs.initial.min(axis=1)
    return {"frac_below_1e-8": stats.fraction(deep),
            "solved_below_1e-8": stats.fraction(runs.solved[deep]),
            "minJ0_below_1e-8": stats.median(smallest[deep]),
            "minJ0_others": stats.median(smallest[~deep])}


def readings(cfg: Settings, main: BanditRuns):
    """The open choices of Fig. 3, each changed alone (``n_runs_alt`` runs, same seed), and
    the factor 2 between full and reduced parameters read off the main runs.

    Returns ``(on_policy, extra)``: ``{reading: Estimate}`` of the on-policy fraction with
    eps <= 1e-5, and the off-policy rows (no weights, importance weights).
    """
    base = cfg.bandit.replace(n_runs=cfg.n_runs_alt)
    variants = {
        "theta0 angular (ours)": base,
        "theta0 simplex": base.replace(init="simplex"),
        "theta0 logit (network + offset)": base.replace(init="logit"),
        "flatness: slope of J(t), window 10": base.replace(flatness_measure="curve", window=10),
        "flatness: slope of J(t), window 100": base.replace(flatness_measure="curve",
                                                            window=100),
        "start zone J0 + 0.02 K": base.replace(start_margin=0.02),
        "start zone J0 + 0.2 K": base.replace(start_margin=0.2),
    }
    on = {name: stats.fraction(simulate(c).flat(EPS)) for name, c in variants.items()}
    on["reduced parameters (rates / 2)"] = stats.fraction(main.flat(2 * EPS))
    extra = {name: stats.fraction(simulate(base.replace(learner="off_policy",
                                                        off_policy_weighting=w)).flat(EPS))
             for name, w in (("off-policy, no weights (ours)", "none"),
                             ("off-policy, importance weights", "importance"))}
    return on, extra


def wrong_arm_readings(main: BanditRuns) -> dict:
    """Fig. 3's headline under both readings of theta0's wrong-arm logits, each with the runs
    of ``main``: i.i.d. N(0, 1) (ours, ``main``) and all zero (the paper says neither).
    ``{reading: Estimate}`` of the fraction with eps <= 1e-5."""
    zero = simulate(main.config.replace(logit_scale=0.0))
    return {"wrong-arm logits N(0, 1) (ours)": stats.fraction(main.flat(EPS)),
            "wrong-arm logits 0": stats.fraction(zero.flat(EPS))}


def reproduced_under(claim: Claim, measured: dict) -> list[str]:
    """The readings under which ``claim`` is reproduced."""
    return [name for name, m in measured.items() if claim.verdict(m) == "reproduced"]


def readings_table(on: dict, extra: dict) -> pd.DataFrame:
    return pd.DataFrame({"fraction eps <= 1e-5 [95% interval]":
                         {k: f"{v:.3f}" for k, v in {**on, **extra}.items()}})


# ---------------------------------------------------------------- claims
CLAIMS, FINDINGS = claims_of(NOTEBOOK)


def tabular_summary(tab: pd.DataFrame) -> dict:
    """Sec. 2.6 read off :func:`tabular_basins`: is every tabular basin smaller, and does any
    reach the origin (share of directions at radius 1e-3 in the 1e-5 basin)? ``readings``:
    the same question at each flatness and radius."""
    wide = tab.pivot(index="eps", columns="dynamics")["basin area"]
    tabular = tab[tab["dynamics"] == "tabular"].set_index("eps")
    shares = [c for c in tab.columns if c.startswith("share at radius")]
    return {"smaller": bool((wide["tabular"] < wide["shared bias"]).all()),
            "tab_area_eps01": float(wide["tabular"][BASIN_EPS]),
            "rl_area_eps01": float(wide["shared bias"][BASIN_EPS]),
            "tab_share_origin": float(tabular.loc[EPS, "share at radius 0.001"]),
            "readings": {f"eps {e:g}, {c[6:]}": bool(tabular.loc[e, c] == 0)
                         for e in tabular.index for c in shares}}

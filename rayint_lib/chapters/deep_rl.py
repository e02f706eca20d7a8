"""Chapter 03b_deep_rl: the "deep" of the title (App. A's MLP sentence, Sec. 3.3).

Part 1 trains the (K x n) bandit of Sec. 2 with ReLU MLP policies of several depths and
widths (:mod:`rayint_lib.model.deep.bandit`) and measures Figure 3's flatness per
architecture, with the separate-network and supervised controls, and checks that the
depth-0 network reproduces the linear simulator (:mod:`rayint_lib.model.simulate`).
Part 2 (:mod:`.deep_rl_rooms`, figures in :mod:`.deep_rl_figures`; re-exported here for the
notebook) trains an actor-critic on the K-room corridor task in the coupling regime
(:mod:`rayint_lib.model.deep.rooms`, :mod:`rayint_lib.model.deep.agent`) with the controls of
Sec. 3.3 and the interference and coupling measures of :mod:`rayint_lib.model.deep.measures`.
This module validates the parameters and scores the claims of both parts.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from ..book.claims import Claim, Finding, registry
from ..book.page import show  # noqa: F401  (the notebook calls ch.show)
from ..model import stats
from ..model.config import BanditConfig, check_int, check_memory, check_time, short
from ..model.params import Param, declare
from .deep_rl_figures import arch_label, plot_bandit_cdf, plot_rooms, plot_rooms_curves  # noqa: F401
from .deep_rl_figures import plot_measures as plot_rooms_measures  # noqa: F401
from .deep_rl_rooms import initial_J as rooms_initial_J  # noqa: F401
from .deep_rl_rooms import mixture_gain as rooms_mixture_gain  # noqa: F401
from .deep_rl_rooms import regime as rooms_regime  # noqa: F401
from .deep_rl_rooms import rooms_glue, rooms_study, rooms_table  # noqa: F401
from .deep_rl_rooms import settings as rooms_settings

NOTEBOOK = "03b_deep_rl"
REFERENCE = (2, 64)                 # the architecture of the glued scalar and the controls
EPS = 1e-5                          # Fig. 3's flatness threshold
# model.deep.rooms.MAX_ROOMS and model.deep.agent.OPTIMIZERS (which check them again), written
# here so that declaring the parameters does not import JAX
MAX_ROOMS, AGENT_OPTIMIZERS = 8, ("adam", "sgd")


def _enable_compilation_cache():
    """Keep compiled trainers on disk between executions (JAX's persistent cache)."""
    import jax

    folder = os.environ.get("RAYINT_JAX_CACHE",
                            os.path.join(os.path.expanduser("~"), ".cache", "rayint-jax"))
    try:
        jax.config.update("jax_compilation_cache_dir", folder)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    except Exception:  # noqa: BLE001 - an old JAX without the cache still runs
        pass


@dataclass(frozen=True)
class DeepConfig:
    """The validated parameters of the chapter."""

    K: int
    n: int
    eta: float
    bandit_runs: int
    max_samples: int
    architectures: tuple          # ((depth, width), ...), depth 0 = linear
    room_length: int
    more_K: tuple
    rl_depth: int
    rl_width: int
    optimizer: str
    lr: float
    rl_seeds: int
    env_steps: int
    episodes: int
    mixtures: tuple
    seed: int

    def bandit_spec(self, depth, width, learner="on_policy", separate=False):
        from ..model.deep.bandit import MLPBanditSpec
        return MLPBanditSpec(K=self.K, n=self.n, depth=depth, width=width if depth else 1,
                             eta=self.eta, learner=learner, separate=separate,
                             max_samples=self.max_samples)

    def agent_spec(self, learner="on_policy", mix=0.0, separate=False, K=None, **more):
        """The agent of Part 2 (``K`` rooms, default the chapter's; ``more``: further
        :class:`AgentSpec` fields, the remedies)."""
        from ..model.deep.agent import AgentSpec
        from ..model.deep.rooms import RoomsParams
        env = RoomsParams(K=K or self.K, length=self.room_length)
        n_updates = max(10, self.env_steps // (self.episodes * env.horizon) // 10 * 10)
        return AgentSpec(env=env, depth=self.rl_depth, width=self.rl_width, learner=learner,
                         mix=mix, separate=separate, optimizer=self.optimizer, lr=self.lr,
                         episodes=self.episodes, n_updates=n_updates, **more)


PARAMS = declare(
    Param("K", 2, "contexts of the bandit and rooms of the RL task (paper: K = 2; rooms up "
          "to 8)", low=2, high=MAX_ROOMS),
    Param("n", 2, "actions of the bandit (paper: n = 2)", low=2, high=64),
    Param("eta", 0.1, "bandit step size, SGD (App. A: 0.1)", low=0, high=10, low_open=True),
    Param("bandit_runs", 100,
          "runs per architecture (Fig. 3 uses 1000; 100 keeps the page under 2 min)", low=2,
          high=100_000),
    Param("max_samples", 20_000, "bandit stopping rule in samples (App. A: 1e5; see the text)",
          low=20, high=10_000_000),
    Param("depths", [0, 1, 2], "MLP depths, hidden ReLU layers (0 = the linear policy W s + b)",
          low=0, high=6),
    Param("widths", [64], "MLP widths (issue: 16, 64, 256 as a parameter run)", low=1,
          high=1024),
    Param("room_length", 5, "cells per corridor (random success 4^-room_length; 1 to 12)",
          low=1, high=12),
    Param("more_K", [], "further room counts, shared and separate networks (e.g. [4, 8]; [] "
          "keeps 2 min)", item=int, low=2, high=MAX_ROOMS, may_be_empty=True),
    Param("rl_depth", 1, "hidden layers of the actor-critic's shared torso", low=1, high=6),
    Param("rl_width", 32, "units per torso layer", low=1, high=1024),
    Param("optimizer", "adam", "optimizer of the actor-critic: adam or sgd",
          choices=AGENT_OPTIMIZERS),
    Param("lr", 3e-3, "its step size", low=0, high=10, low_open=True),
    Param("rl_seeds", 64, "agents trained at once (a vmap axis)", low=2, high=100_000),
    Param("env_steps", 96_000, "environment steps per agent (updates x episodes x "
          "room_length)", low=10, high=10**10),
    Param("episodes", 16, "episodes per update", low=1, high=4096),
    Param("mixtures", [0.1, 0.3],
          "uniform-action fractions mixed into the behaviour (Fig. 6: 0.1)", low=0, high=1,
          low_open=True),
    Param("seed", 0, "seed of every random draw", low=0),
)


def validate(**values) -> DeepConfig:
    """Check every parameter (:data:`PARAMS`; ranges that depend on others, memory and time)
    before any work; -> :class:`DeepConfig`."""
    from ..model.deep import agent, bandit
    from ..model.deep.rooms import RoomsParams

    v = PARAMS.check(values)
    K, n, room_length, more_K, episodes = (v["K"], v["n"], v["room_length"], v["more_K"],
                                           v["episodes"])
    depths, widths, bandit_runs, rl_seeds = (v["depths"], v["widths"], v["bandit_runs"],
                                             v["rl_seeds"])
    check_int("n", n, K, 64)
    check_int("max_samples", v["max_samples"], 10 * K, 10_000_000)
    if 0 not in depths:
        raise ValueError(f"depths must contain 0 (the linear policy that every depth is "
                         f"compared with); got {short(depths)}")
    for name in ("depths", "widths", "mixtures", "more_K"):
        if len(set(v[name])) != len(v[name]):
            raise ValueError(f"{name} lists a value twice; got {short(v[name])}")
    check_int("env_steps", v["env_steps"], 10 * episodes * room_length, 10**10)
    eta, max_samples, seed = v["eta"], v["max_samples"], v["seed"]
    RoomsParams(K=K, length=room_length)
    cfg = config(v)
    archs = cfg.architectures
    BanditConfig(K=K, n=n, eta=eta, n_runs=bandit_runs, max_samples=max_samples, seed=seed)
    biggest = max(bandit.memory_bytes(cfg.bandit_spec(d, w, separate=True), bandit_runs)
                  for d, w in archs)
    check_memory(f"bandit_runs={bandit_runs}, depths={depths}, widths={widths}", biggest,
                 "runs x (6 x parameters + activations + checkpoints x K) x 4 bytes")
    rl = agent.memory_bytes(cfg.agent_spec(separate=True, K=max([K, *more_K])), rl_seeds)
    check_memory(f"rl_seeds={rl_seeds}, rl_width={cfg.rl_width}, episodes={episodes}", rl,
                 "seeds x (6 x parameters + rollout activations + exact-J tables) x 4 bytes")
    d, w = REFERENCE
    specs = [cfg.bandit_spec(d, w) for d, w in archs] + [cfg.bandit_spec(d, w, separate=True),
                                                          cfg.bandit_spec(d, w, "supervised")]
    check_time(f"bandit_runs={bandit_runs} x max_samples={max_samples}, depths={depths}, "
               f"widths={widths}", sum(mlp_seconds(sp, bandit_runs) for sp in specs),
               "runs x updates x (a + b x parameters) per architecture and control, "
               "measured by benchmarks/estimate_rates.py")
    settings = [*rooms_settings(cfg).values(),
                *(cfg.agent_spec(separate=s, K=k) for k in more_K for s in (False, True))]
    check_time(f"rl_seeds={rl_seeds} x env_steps={cfg.env_steps}, rl_width={cfg.rl_width}",
               sum(agent_seconds(sp, rl_seeds) for sp in settings), AGENT_TIME)
    return cfg


def config(v: dict) -> DeepConfig:
    """The :class:`DeepConfig` of checked values (``PARAMS.check``), with no estimate made
    (chapter 08 builds its rooms task from 03b's declaration this way)."""
    archs = sorted({(0, 0) if d == 0 else (d, w) for d in v["depths"] for w in v["widths"]}
                   | {REFERENCE})
    return DeepConfig(v["K"], v["n"], v["eta"], v["bandit_runs"], v["max_samples"],
                      tuple(archs), v["room_length"], tuple(v["more_K"]), v["rl_depth"],
                      v["rl_width"],
                      v["optimizer"], v["lr"], v["rl_seeds"], v["env_steps"], v["episodes"],
                      tuple(v["mixtures"]), v["seed"])


# Seconds per run-update of the MLP bandit and per seed-environment-step of the actor-critic
# = a + b x parameters of the network, measured by ``python benchmarks/estimate_rates.py`` (JAX on
# CPU, 2 cores shared with other work at a load of 8; a fixed amount of work, compilation
# excluded; widths 16 and 256) and rounded up. Measured: MLP a = 0 (below the fit's
# resolution; 1e-7 is a floor), b = 8.9e-9; actor-critic a = 2.6e-7, b = 1.5e-9.
MLP_RATE = (1e-7, 1e-8)
AGENT_RATE = (3e-7, 1.5e-9)
AGENT_TIME = ("seeds x environment steps x (a + b x parameters) per setting, measured by "
              "benchmarks/estimate_rates.py")


def mlp_seconds(spec, n_runs) -> float:
    """Wall-time estimate of :func:`~rayint_lib.model.deep.bandit.simulate_mlp` without an
    early stop (an upper estimate)."""
    from ..model.deep.policies import n_parameters
    P = n_parameters(spec.K, spec.n, spec.depth, spec.width, spec.separate, spec.K)
    return n_runs * spec.max_updates * (MLP_RATE[0] + MLP_RATE[1] * P)


def agent_seconds(spec, n_runs) -> float:
    """Wall-time estimate of :func:`~rayint_lib.model.deep.agent.train` of ``n_runs`` seeds
    (all updates, no early stop)."""
    from ..model.deep.agent import n_outputs
    from ..model.deep.policies import n_parameters
    P = n_parameters(spec.env.obs_dim, n_outputs(spec), spec.depth, spec.width, spec.separate,
                     spec.env.K)
    return n_runs * spec.n_updates * spec.env_steps_per_update * (AGENT_RATE[0]
                                                                  + AGENT_RATE[1] * P)


# ---------------------------------------------------------------- Part 1: the MLP bandit

def bandit_study(cfg: DeepConfig) -> dict:
    """On-policy runs per architecture, the controls at the reference architecture and at
    depth 0, and the linear simulator with the same parameters (same seed)."""
    from ..model.deep.bandit import simulate_mlp
    from ..model.deep.pool import concurrently
    from ..model.simulate import simulate

    _enable_compilation_cache()
    specs = {("mlp", a): cfg.bandit_spec(*a) for a in cfg.architectures}
    specs["controls", "separate"] = cfg.bandit_spec(*REFERENCE, separate=True)
    specs["controls", "supervised"] = cfg.bandit_spec(*REFERENCE, "supervised")
    runs = concurrently({key: partial(simulate_mlp, spec, cfg.bandit_runs, cfg.seed)
                         for key, spec in specs.items()})     # two at a time (model.deep.pool)
    out = {"mlp": {}, "controls": {}}
    for (part, key), r in runs.items():
        out[part][key] = r
    out["linear"] = simulate(BanditConfig(K=cfg.K, n=cfg.n, eta=cfg.eta, n_runs=cfg.bandit_runs,
                                          max_samples=cfg.max_samples, seed=cfg.seed))
    return out


def flat_fraction(runs, eps=EPS) -> stats.Estimate:
    """Fraction of runs whose flattest plateau has flatness ``<= eps``, Wilson interval."""
    return stats.fraction(runs.flat(eps))


def mlp_table(study: dict) -> pd.DataFrame:
    """One row per architecture and control: fraction with eps <= 1e-5, median samples."""
    from ..model.deep.policies import n_parameters

    def row(policy, learner, parameters, r):
        return {"policy": policy, "learner": learner, "parameters": parameters,
                "frac eps<=1e-5": flat_fraction(r),
                "median samples to solve": stats.median(r.samples_to_solve),
                "solved": stats.fraction(r.solved)}

    c = study["linear"].config
    rows = [row(arch_label(d, w), "on-policy",
                n_parameters(c.K, c.n, d, w) if d else c.K * c.n + c.n, r)
            for (d, w), r in study["mlp"].items()]
    d, w = REFERENCE
    rows += [row(arch_label(d, w) + (" x K (separate)" if name == "separate" else ""),
                 "on-policy" if name == "separate" else "supervised",
                 n_parameters(c.K, c.n, d, w, r.config.separate, c.K), r)
             for name, r in study["controls"].items()]
    rows.append(row("linear simulator (model.simulate)", "on-policy", c.K * c.n + c.n,
                    study["linear"]))
    return pd.DataFrame(rows)


def measured_fractions(study: dict) -> dict:
    """Glue ``mlp_measured_<control>``: the fraction of each control's runs whose flatness
    was measured (left the start before being solved; the height where its CDF stops)."""
    return {f"mlp_measured_{k}": stats.fraction(np.isfinite(r.flatness))
            for k, r in study["controls"].items()}


def depth0_vs_linear(study: dict) -> dict:
    """Depth 0 against the linear simulator: the two fractions, the test's p-value and
    whether the intervals overlap (same theta0, different random streams)."""
    a, b = flat_fraction(study["mlp"][(0, 0)]), flat_fraction(study["linear"])
    return {"depth0": a, "linear": b, "p": stats.two_proportion_p(a, b),
            "overlap": bool(a.low <= b.high and b.low <= a.high)}


def init_readings(cfg: DeepConfig) -> dict:
    """The reference architecture under other choices of theta0 (the paper leaves them
    open): a common right-arm offset (``init="logit"``) and output scales 0.3 and 3."""
    from ..model.deep.bandit import simulate_mlp
    from ..model.deep.pool import concurrently

    spec = cfg.bandit_spec(*REFERENCE)
    readings = {"common offset (logit)": {"init": "logit"},
                "output scale 0.3": {"output_scale": 0.3},
                "output scale 3": {"output_scale": 3.0}}
    runs = concurrently({name: partial(simulate_mlp, spec, cfg.bandit_runs, cfg.seed + 1, **kw)
                         for name, kw in readings.items()})
    return {name: flat_fraction(r) for name, r in runs.items()}


def mlp_plateaus_hold(study: dict) -> bool:
    """App. A's sentence, tested: every on-policy architecture keeps flat plateaus (the
    lower end of its interval of frac(eps <= 1e-5) lies above the upper end of the
    supervised control's) and separate networks remove them (their upper end lies below
    that architecture's lower end)."""
    sup, sep = (flat_fraction(study["controls"][k]) for k in ("supervised", "separate"))
    fr = [flat_fraction(r) for r in study["mlp"].values()]
    return bool(all(f.low > sup.high for f in fr) and sep.high < fr[-1].low)


CLAIMS = registry(
    Claim("A-mlp-same-dynamics", "App. A",
          "deeper or wider MLPs do not qualitatively change the dynamics from the simple "
          "setup in Section 2", rule="holds"),
    Claim("3.3-f0-onpolicy", "Sec. 3.3",
          "it is likely that f_k(0) ~ 0, i.e., very little can be learned from only the data "
          "produced by an incompetent policy", 0.0, "at_most", 0.25,
          why="'~ 0' read against a learner without coupling: at the same parameters, the "
              "on-policy gradient of a room the agent is still incompetent at (J_k < 0.01 at "
              "the end of the budget) is at most a quarter of the gradient that fixed "
              "uniform-random data give (coupling ratio <= 0.25, median over runs); "
              "supervised imitation, with no coupling, keeps a ratio of order 1"),
    Claim("3.3-mixture", "Sec. 3.3, Fig. 6",
          "mixing the soft-max policy with 10% of random actions: it no longer satisfies "
          "f_k(0) = 0 (reduces coupling)", 1.0, "at_least", 0.0,
          why="no magnitude is given: any increase of the coupling ratio of the incompetent "
              "rooms over on-policy counts (ratio of medians, mixture / on-policy >= 1)"),
)

FINDINGS = registry(
    Finding("mlp-flat-fraction", "App. A", "How often do MLP policies of each depth and width "
            "hit a plateau with eps <= 1e-5 in the bandit?"),
    Finding("depth0-linear", "App. A", "Does the depth-0 JAX network reproduce the linear "
            "simulator?"),
    Finding("rl-coupling-regime", "Sec. 3.3", "In the coupling regime (a uniform-random "
            "policy succeeds with probability 4^-length), does an actor-critic with one "
            "shared network learn every room, and do the controls?"),
    Finding("rl-one-room-at-a-time", "Sec. 3.3", "Are the rooms learned one at a time?"),
    Finding("rl-measures", "Sec. 3.3", "Do the rooms' gradients interfere (cosine < 0), and is "
            "the on-policy gradient of an incompetent room small against uniform data?"),
    Finding("rl-room-count", "Sec. 3.3", "With more rooms, does the shared network still "
            "stall, and do separate networks still learn every room?"),
)


def reading_verdicts(study: dict, readings: dict) -> dict:
    """App. A's test under each reading of theta0: does the reference architecture keep
    plateaus (interval above the supervised control's)?"""
    sup = flat_fraction(study["controls"]["supervised"])
    base = {"angular shares, output scale 1": flat_fraction(study["mlp"][REFERENCE])}
    return {k: bool(v.low > sup.high) for k, v in {**base, **readings}.items()}


def add_findings(page, bandit: dict, d0: dict, rl: dict, values: dict):
    """The book's own findings of this chapter ("Beyond the paper")."""
    fr = {arch_label(*a): flat_fraction(r) for a, r in bandit["mlp"].items()}
    text = "; ".join(f"{k}: {v:.2f}" for k, v in fr.items())
    page.find(FINDINGS["mlp-flat-fraction"], f"frac(eps <= 1e-5) per architecture: {text}",
              flat_fraction(bandit["mlp"][REFERENCE]),
              evidence=f"{len(next(iter(bandit['mlp'].values())).flatness)} runs each, "
                       f"max_samples {bandit['linear'].config.max_samples}")
    page.find(FINDINGS["depth0-linear"],
              f"{'yes' if d0['overlap'] else 'no'}: {d0['depth0']:.3f} vs {d0['linear']:.3f} "
              f"(two-proportion p = {d0['p']:.2f})", d0["depth0"],
              evidence="same theta0, independent sampling streams")
    ev = f"{len(rl['main']['on_policy'].solved)} agents per setting, same seeds"
    page.find(FINDINGS["rl-coupling-regime"],
              f"runs that learn every room (J_k >= 0.5) within the budget: shared "
              f"{values['rooms_frac_all_learned_shared']:.2f}, separate networks "
              f"{values['rooms_frac_all_learned_separate']:.2f}, mixture "
              f"{values['rooms_frac_all_learned_mixture']:.2f}, uniform data "
              f"{values['rooms_frac_all_learned_uniform']:.2f}, supervised "
              f"{values['rooms_frac_all_learned_supervised']:.2f}",
              values["rooms_frac_all_learned_shared"], evidence=ev)
    page.find(FINDINGS["rl-one-room-at-a-time"],
              f"shared {values['rooms_frac_one_at_a_time_shared']:.2f}, separate "
              f"{values['rooms_frac_one_at_a_time_separate']:.2f} (each room after the first "
              "reaches 0.5 at least 2x later than the one before, or never)",
              values["rooms_frac_one_at_a_time_shared"], evidence=ev)
    page.find(FINDINGS["rl-measures"],
              f"interference cosine (median): shared "
              f"{values['rooms_grad_cosine_median_shared']:.2f}, supervised "
              f"{values['rooms_grad_cosine_median_supervised']:.2f}, separate "
              f"{values['rooms_grad_cosine_median_separate']:.2f}; coupling ratio of the "
              f"incompetent room at the end: on-policy {values['rooms_coupling_ratio_low_J']:.2g};"
              f" over every point with J_k < 0.01: on-policy "
              f"{values['rooms_coupling_ratio_any_low_J_shared']:.2g}, supervised "
              f"{values['rooms_coupling_ratio_any_low_J_supervised']:.2g}",
              values["rooms_grad_cosine_median_shared"],
              evidence="exact per-room gradients at the checkpoints (model.deep.measures)")
    if rl["more"]:
        from .deep_rl_rooms import all_learned
        page.find(FINDINGS["rl-room-count"], "; ".join(
            f"K = {K}: every room learned, shared {stats.fraction(all_learned(r['on_policy'])):.2f}"
            f", separate {stats.fraction(all_learned(r['separate'])):.2f}"
            for K, r in rl["more"].items()), evidence=ev)

"""Chapter 03b_deep_rl: the "deep" of the title (App. A's MLP sentence, Sec. 3.3).

Part 1 trains the (K x n) bandit of Sec. 2 with ReLU MLP policies of several depths and
widths (:mod:`rayint_lib.model.deep.bandit`) and measures Figure 3's flatness per
architecture, with the separate-network and supervised controls, and checks that the
depth-0 network reproduces the linear simulator (:mod:`rayint_lib.model.simulate`).
Part 2 trains a shared-torso actor-critic on a multi-room task
(:mod:`rayint_lib.model.deep.rooms`, :mod:`rayint_lib.model.deep.agent`) with the controls of
Sec. 3.3 (separate networks, uniform-action mixtures, uniform-random data, supervised
imitation) and measures plateaus, the order in which rooms are learned and the empirical
coupling ``f_k(J_k)``.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..book.claims import Claim, Finding, registry
from ..book.page import show  # noqa: F401  (the notebook calls ch.show)
from ..book.plotting import SETTING_COLORS, ecdf, new_figure
from ..model import stats
from ..model.config import BanditConfig, check_int, check_memory, check_time, short
from ..model.params import Param, declare
from ..model.plateaus import find_plateaus

NOTEBOOK = "03b_deep_rl"
REFERENCE = (2, 64)                 # the architecture of the glued scalar and the controls
EPS = 1e-5                          # Fig. 3's flatness threshold
# model.deep.rooms.MAX_ROOMS and model.deep.agent.OPTIMIZERS (which check them again), written
# here so that declaring the parameters does not import JAX
MAX_ROOMS, AGENT_OPTIMIZERS = 4, ("adam", "sgd")


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
    room_size: int
    horizon: int
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

    def agent_spec(self, learner="on_policy", mix=0.0, separate=False):
        from ..model.deep.agent import AgentSpec
        from ..model.deep.rooms import RoomsParams
        env = RoomsParams(K=self.K, size=self.room_size, horizon=self.horizon)
        n_updates = max(10, self.env_steps // (self.episodes * self.horizon) // 10 * 10)
        return AgentSpec(env=env, depth=self.rl_depth, width=self.rl_width, learner=learner,
                         mix=mix, separate=separate, optimizer=self.optimizer, lr=self.lr,
                         episodes=self.episodes, n_updates=n_updates)


PARAMS = declare(
    Param("K", 2, "contexts of the bandit and rooms of the RL task (paper: K = 2)", low=2,
          high=MAX_ROOMS),
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
    Param("room_size", 5, "cells per side of a room (odd; the agent starts in the centre)",
          low=3, high=15),
    Param("horizon", 10, "steps per episode (at least 10)", low=10, high=1000),
    Param("rl_depth", 1, "hidden layers of the actor-critic's shared torso", low=1, high=6),
    Param("rl_width", 32, "units per torso layer", low=1, high=1024),
    Param("optimizer", "adam", "optimizer of the actor-critic: adam or sgd",
          choices=AGENT_OPTIMIZERS),
    Param("lr", 3e-3, "its step size", low=0, high=10, low_open=True),
    Param("rl_seeds", 64, "agents trained at once (a vmap axis)", low=2, high=100_000),
    Param("env_steps", 96_000, "environment steps per agent (updates x episodes x horizon)",
          low=100, high=10**10),
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
    K, n, room_size, horizon, episodes = (v["K"], v["n"], v["room_size"], v["horizon"],
                                          v["episodes"])
    depths, widths, bandit_runs, rl_seeds = (v["depths"], v["widths"], v["bandit_runs"],
                                             v["rl_seeds"])
    check_int("n", n, K, 64)
    check_int("max_samples", v["max_samples"], 10 * K, 10_000_000)
    if 0 not in depths:
        raise ValueError(f"depths must contain 0 (the linear policy that every depth is "
                         f"compared with); got {short(depths)}")
    for name in ("depths", "widths", "mixtures"):
        if len(set(v[name])) != len(v[name]):
            raise ValueError(f"{name} lists a value twice; got {short(v[name])}")
    if room_size % 2 == 0:
        raise ValueError(f"room_size must be odd (the start is the centre cell); got {room_size}")
    check_int("horizon", horizon, max(10, room_size - 1), 1000)
    check_int("env_steps", v["env_steps"], 10 * episodes * horizon, 10**10)
    eta, max_samples, seed = v["eta"], v["max_samples"], v["seed"]
    RoomsParams(K=K, size=room_size, horizon=horizon)
    cfg = config(v)
    archs = cfg.architectures
    BanditConfig(K=K, n=n, eta=eta, n_runs=bandit_runs, max_samples=max_samples, seed=seed)
    biggest = max(bandit.memory_bytes(cfg.bandit_spec(d, w, separate=True), bandit_runs)
                  for d, w in archs)
    check_memory(f"bandit_runs={bandit_runs}, depths={depths}, widths={widths}", biggest,
                 "runs x (6 x parameters + activations + checkpoints x K) x 4 bytes")
    rl = agent.memory_bytes(cfg.agent_spec(separate=True), rl_seeds)
    check_memory(f"rl_seeds={rl_seeds}, rl_width={cfg.rl_width}, episodes={episodes}", rl,
                 "seeds x (6 x parameters + rollout activations + exact-J tables) x 4 bytes")
    d, w = REFERENCE
    specs = [cfg.bandit_spec(d, w) for d, w in archs] + [cfg.bandit_spec(d, w, separate=True),
                                                          cfg.bandit_spec(d, w, "supervised")]
    check_time(f"bandit_runs={bandit_runs} x max_samples={max_samples}, depths={depths}, "
               f"widths={widths}", sum(mlp_seconds(sp, bandit_runs) for sp in specs),
               "runs x updates x (a + b x parameters) per architecture and control, "
               "measured by benchmarks/estimate_rates.py")
    settings = [cfg.agent_spec(), cfg.agent_spec(separate=True), cfg.agent_spec("uniform"),
                cfg.agent_spec("supervised"), *(cfg.agent_spec("mixture", m)
                                                for m in cfg.mixtures)]
    check_time(f"rl_seeds={rl_seeds} x env_steps={cfg.env_steps}, rl_width={cfg.rl_width}",
               sum(agent_seconds(sp, rl_seeds) for sp in settings), AGENT_TIME)
    return cfg


def config(v: dict) -> DeepConfig:
    """The :class:`DeepConfig` of checked values (``PARAMS.check``), with no estimate made
    (chapter 08 builds its rooms task from 03b's declaration this way)."""
    archs = sorted({(0, 0) if d == 0 else (d, w) for d in v["depths"] for w in v["widths"]}
                   | {REFERENCE})
    return DeepConfig(v["K"], v["n"], v["eta"], v["bandit_runs"], v["max_samples"],
                      tuple(archs), v["room_size"], v["horizon"], v["rl_depth"], v["rl_width"],
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

def arch_label(depth, width):
    return "depth 0 (linear, W s + b)" if depth == 0 else f"depth {depth}, width {width}"


def bandit_study(cfg: DeepConfig) -> dict:
    """On-policy runs per architecture, the controls at the reference architecture and at
    depth 0, and the linear simulator with the same parameters (same seed)."""
    from ..model.deep.bandit import simulate_mlp
    from ..model.simulate import simulate

    _enable_compilation_cache()
    out = {"mlp": {}, "controls": {}}
    for d, w in cfg.architectures:
        out["mlp"][(d, w)] = simulate_mlp(cfg.bandit_spec(d, w), cfg.bandit_runs, cfg.seed)
    d, w = REFERENCE
    out["controls"]["separate"] = simulate_mlp(cfg.bandit_spec(d, w, separate=True),
                                               cfg.bandit_runs, cfg.seed)
    out["controls"]["supervised"] = simulate_mlp(cfg.bandit_spec(d, w, "supervised"),
                                                 cfg.bandit_runs, cfg.seed)
    out["linear"] = simulate(BanditConfig(K=cfg.K, n=cfg.n, eta=cfg.eta, n_runs=cfg.bandit_runs,
                                          max_samples=cfg.max_samples, seed=cfg.seed))
    return out


def flat_fraction(runs, eps=EPS) -> stats.Estimate:
    """Fraction of runs whose flattest plateau has flatness ``<= eps``, Wilson interval."""
    return stats.fraction(np.nan_to_num(runs.flatness, nan=np.inf) <= eps)


def mlp_table(study: dict) -> pd.DataFrame:
    """One row per architecture and control: fraction with eps <= 1e-5, median samples."""
    from ..model.deep.policies import n_parameters

    rows = []
    for (d, w), r in study["mlp"].items():
        rows.append({"policy": arch_label(d, w), "learner": "on-policy",
                     "parameters": n_parameters(r.spec.K, r.spec.n, d, w) if d else
                     r.spec.K * r.spec.n + r.spec.n,
                     "frac eps<=1e-5": flat_fraction(r),
                     "median samples to solve": stats.median(r.samples_to_solve),
                     "solved": stats.fraction(r.solved)})
    d, w = REFERENCE
    for name, r in study["controls"].items():
        rows.append({"policy": arch_label(d, w) + (" x K (separate)" if name == "separate"
                                                   else ""),
                     "learner": "on-policy" if name == "separate" else "supervised",
                     "parameters": n_parameters(r.spec.K, r.spec.n, d, w, r.spec.separate,
                                                r.spec.K),
                     "frac eps<=1e-5": flat_fraction(r),
                     "median samples to solve": stats.median(r.samples_to_solve),
                     "solved": stats.fraction(r.solved)})
    lin = study["linear"]
    rows.append({"policy": "linear simulator (model.simulate)", "learner": "on-policy",
                 "parameters": lin.config.K * lin.config.n + lin.config.n,
                 "frac eps<=1e-5": flat_fraction(lin),
                 "median samples to solve": stats.median(lin.samples_to_solve),
                 "solved": stats.fraction(lin.solved)})
    return pd.DataFrame(rows)


def two_proportion_p(a: stats.Estimate, b: stats.Estimate) -> float:
    """Two-sided p-value of the pooled two-proportion z-test of ``a`` = ``b``."""
    x1, x2 = a.value * a.n, b.value * b.n
    p = (x1 + x2) / (a.n + b.n)
    se = math.sqrt(max(p * (1 - p) * (1 / a.n + 1 / b.n), 1e-300))
    z = abs(a.value - b.value) / se
    return float(math.erfc(z / math.sqrt(2)))


def depth0_vs_linear(study: dict) -> dict:
    """Depth 0 against the linear simulator: the two fractions, the test's p-value and
    whether the intervals overlap (same theta0, different random streams)."""
    a, b = flat_fraction(study["mlp"][(0, 0)]), flat_fraction(study["linear"])
    return {"depth0": a, "linear": b, "p": two_proportion_p(a, b),
            "overlap": bool(a.low <= b.high and b.low <= a.high)}


def init_readings(cfg: DeepConfig) -> dict:
    """The reference architecture under other choices of theta0 (the paper leaves them
    open): a common right-arm offset (``init="logit"``) and output scales 0.3 and 3."""
    from ..model.deep.bandit import simulate_mlp

    spec = cfg.bandit_spec(*REFERENCE)
    out = {"angular shares, output scale 1": None}
    for name, kw in (("common offset (logit)", {"init": "logit"}),
                     ("output scale 0.3", {"output_scale": 0.3}),
                     ("output scale 3", {"output_scale": 3.0})):
        out[name] = flat_fraction(simulate_mlp(spec, cfg.bandit_runs, cfg.seed + 1, **kw))
    return {k: v for k, v in out.items() if v is not None}


def mlp_plateaus_hold(study: dict) -> bool:
    """App. A's sentence, tested: every on-policy architecture keeps flat plateaus (the
    lower end of its interval of frac(eps <= 1e-5) lies above the upper end of the
    supervised control's) and separate networks remove them (their upper end lies below
    that architecture's lower end)."""
    sup, sep = (flat_fraction(study["controls"][k]) for k in ("supervised", "separate"))
    fr = [flat_fraction(r) for r in study["mlp"].values()]
    return bool(all(f.low > sup.high for f in fr) and sep.high < fr[-1].low)


def plot_bandit_cdf(study: dict):
    """Figure 3 per architecture: CDF of the flattest plateau's flatness."""
    import matplotlib.pyplot as plt

    fig, axes = new_figure(width=7.5, height=4.2)
    ax = axes[0, 0]
    cmap = plt.get_cmap("Reds")
    archs = list(study["mlp"])
    for i, a in enumerate(archs):
        ecdf(ax, study["mlp"][a].flatness, label=arch_label(*a),
             color=cmap(0.35 + 0.65 * i / max(1, len(archs) - 1)))
    ecdf(ax, study["linear"].flatness, label="linear simulator", color="k", ls=":")
    for name in ("separate", "supervised"):
        ecdf(ax, study["controls"][name].flatness, color=SETTING_COLORS[name], ls="--",
             label=f"{arch_label(*REFERENCE)}: {name}")
    ax.axvline(EPS, color="grey", lw=0.8)
    ax.set_xlabel(r"flatness $\epsilon$ of the flattest plateau ($|\dot J| / \eta$)")
    ax.set_ylabel(r"fraction of runs with flatness $\leq \epsilon$")
    ax.legend(loc="upper left", fontsize="x-small")
    return fig


# ---------------------------------------------------------------- Part 2: the rooms task

RL_SETTINGS = ("on_policy", "separate", "mixture", "uniform", "supervised")


def rl_study(cfg: DeepConfig) -> dict:
    """Agent runs: on-policy, separate networks, each mixture, uniform data, supervised."""
    from ..model.deep.agent import train

    _enable_compilation_cache()
    out = {"on_policy": train(cfg.agent_spec(), cfg.rl_seeds, cfg.seed),
           "separate": train(cfg.agent_spec(separate=True), cfg.rl_seeds, cfg.seed)}
    for m in cfg.mixtures:
        out[f"mixture {m:g}"] = train(cfg.agent_spec("mixture", m), cfg.rl_seeds, cfg.seed)
    out["uniform"] = train(cfg.agent_spec("uniform"), cfg.rl_seeds, cfg.seed)
    out["supervised"] = train(cfg.agent_spec("supervised"), cfg.rl_seeds, cfg.seed)
    return out


def run_plateaus(runs, tolerance=0.02, min_ratio=2.0) -> list:
    """Plateaus of each run's ``J(t) / K`` on the log grid (:func:`find_plateaus`), after the
    run has left the start (``J / K`` above its start plus 0.05) and before it is solved."""
    K = runs.curves.shape[-1]
    t = runs.steps.astype(float)
    out = []
    for c in runs.curves:
        y = c.sum(-1) / K
        lo = y[0] + 0.05
        out.append(find_plateaus(t, y, tolerance, min_ratio, min_level=lo,
                                 max_level=1 - runs.spec.solved_margin / K) if lo < 0.9 else [])
    return out


def has_plateau(runs, **kw) -> np.ndarray:
    return np.array([len(p) > 0 for p in run_plateaus(runs, **kw)])


def learned_times(runs, level=0.5) -> np.ndarray:
    """Updates at which each room's ``J_k`` first reaches ``level`` (log-grid resolution;
    ``inf`` if never), ``[runs, K]``."""
    reached = runs.curves >= level
    first = np.where(reached.any(axis=1), reached.argmax(axis=1), -1)
    return np.where(first >= 0, runs.steps[np.maximum(first, 0)].astype(float), np.inf)


def one_at_a_time(runs, level=0.5, ratio=2.0) -> np.ndarray:
    """Runs that learn the rooms one at a time: the last room reaches ``level`` at least
    ``ratio`` times later than the first (or never, while the first did)."""
    t = learned_times(runs, level)
    first, last = t.min(axis=1), t.max(axis=1)
    return np.isfinite(first) & (last >= ratio * np.maximum(first, 1))


def coupling_curve(runs) -> tuple[np.ndarray, np.ndarray]:
    """The empirical ``f(J_k)``: mean rate ``dJ_k/dt / lr`` per bin of ``J_k`` (rooms and runs
    pooled); returns ``(bin centres, rates)``."""
    nb = runs.rate_sum.shape[-1]
    rate = runs.rate_sum.sum(axis=(0, 1)) / np.maximum(runs.rate_count.sum(axis=(0, 1)), 1)
    rate[runs.rate_count.sum(axis=(0, 1)) == 0] = np.nan
    return (np.arange(nb) + 0.5) / nb, rate


def f0_ratio(runs) -> stats.Estimate:
    """``f(J_k)`` in the lowest bin over its largest value, bootstrap over runs."""
    s, c = runs.rate_sum.sum(axis=1), runs.rate_count.sum(axis=1)          # [runs, bins]

    def ratio(s, c):
        with np.errstate(invalid="ignore", divide="ignore"):
            f = s.sum(0) / c.sum(0)
        top = np.nanmax(f)
        return f[0] / top if np.isfinite(f[0]) and top > 0 else np.nan
    return stats.bootstrap(ratio, s, c, n_boot=1000)


def rl_table(study: dict) -> pd.DataFrame:
    """Per setting: runs with a plateau, median environment steps to solve, solved, one
    room at a time, ``f(0)/max f``."""
    rows = []
    for name, r in study.items():
        rows.append({"setting": name, "frac with plateau": stats.fraction(has_plateau(r)),
                     "median env steps to solve": stats.median(r.env_steps_to_solve),
                     "solved": stats.fraction(r.solved),
                     "one room at a time": stats.fraction(one_at_a_time(r)),
                     "f(0) / max f": f0_ratio(r)})
    return pd.DataFrame(rows)


def rl_glue(study: dict) -> dict:
    mix = next(k for k in study if k.startswith("mixture"))
    return {"rl_frac_flat_onpolicy": stats.fraction(has_plateau(study["on_policy"])),
            "rl_frac_flat_separate": stats.fraction(has_plateau(study["separate"])),
            "rl_frac_flat_mixture": stats.fraction(has_plateau(study[mix])),
            "rl_frac_flat_uniform": stats.fraction(has_plateau(study["uniform"])),
            "rl_frac_flat_supervised": stats.fraction(has_plateau(study["supervised"])),
            "rl_median_steps_onpolicy": stats.median(study["on_policy"].env_steps_to_solve),
            "rl_one_at_a_time_onpolicy": stats.fraction(one_at_a_time(study["on_policy"])),
            "rl_f0_ratio_onpolicy": f0_ratio(study["on_policy"]),
            "rl_f0_ratio_mixture": f0_ratio(study[mix]),
            "rl_mixture_label": mix}


def decomposition_check(cfg: DeepConfig, n_episodes=20_000) -> stats.Estimate:
    """Sampled episode return minus ``(1/K) sum_k J_k`` computed exactly, for random
    networks (Sec. 3.3's ``J = sum_k J_k`` with uniform rooms); mean and normal 95% interval."""
    import jax

    from ..model.deep import agent

    spec = cfg.agent_spec()
    params = agent.init_params(spec, 1, cfg.seed + 7)
    one = jax.tree_util.tree_map(lambda x: x[0], params)
    exact = float(np.asarray(agent.exact_success(spec, one)).sum()) / spec.env.K
    n_batches = max(1, n_episodes // spec.episodes)
    keys = jax.random.split(jax.random.PRNGKey(cfg.seed + 7), n_batches)
    ret = jax.jit(jax.vmap(lambda k: agent.rollout(spec, one, k)[2].sum(0)))(keys)
    ret = np.asarray(ret).ravel()
    se = ret.std(ddof=1) / math.sqrt(ret.size)
    d = ret.mean() - exact
    return stats.Estimate(float(d), float(d - stats.Z95 * se), float(d + stats.Z95 * se),
                          int(ret.size), "normal")


def plot_rooms(cfg: DeepConfig):
    """The task: each room, its start and its goal, and one shortest path."""
    from matplotlib.patches import Rectangle

    from ..model.deep.rooms import MOVES, RoomsParams, optimal_actions

    env = RoomsParams(K=cfg.K, size=cfg.room_size, horizon=cfg.horizon)
    S = env.size
    fig, axes = new_figure(ncols=env.K, width=2.6, height=2.8)
    best = optimal_actions(env)
    for k, ax in enumerate(axes[0]):
        for r in range(S):
            for c in range(S):
                ax.add_patch(Rectangle((c, S - 1 - r), 1, 1, fill=False, lw=0.5, ec="grey"))
        gr, gc = env.goals()[k]
        ax.add_patch(Rectangle((gc, S - 1 - gr), 1, 1, color="#2ca02c", alpha=0.6))
        r, c = env.start
        ax.text(c + 0.5, S - 1 - r + 0.5, "S", ha="center", va="center", fontsize=12)
        for _ in range(2 * S):
            if (r, c) == (gr, gc):
                break
            dr, dc = MOVES[best[k, r * S + c]]
            ax.annotate("", (c + dc + 0.5, S - 1 - r - dr + 0.5), (c + 0.5, S - 1 - r + 0.5),
                        arrowprops={"arrowstyle": "->", "color": "#d62728"})
            r, c = r + dr, c + dc
        ax.set_xlim(0, S)
        ax.set_ylim(0, S)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"room {k + 1}: goal (G) in its corner")
        ax.text(gc + 0.5, S - 1 - gr + 0.5, "G", ha="center", va="center", fontsize=12)
    return fig


def plot_rl_curves(study: dict, n_show=12):
    """Per-room learning curves ``J_k(t)`` of individual on-policy runs, and (K = 2) their
    trajectories in the ``(J_1, J_2)`` plane over the bandit's expected field (Fig. 1)."""
    from ..model.dynamics import jdot_rl

    r = study["on_policy"]
    K = r.curves.shape[-1]
    fig, axes = new_figure(ncols=2, width=5.2, height=4.2)
    ax = axes[0, 0]
    t = np.maximum(r.steps, 1) * r.spec.env_steps_per_update
    colors = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"]
    for i in range(min(n_show, len(r.curves))):
        for k in range(K):
            ax.plot(t, r.curves[i, :, k], color=colors[k], alpha=0.5, lw=1)
    for k in range(K):
        ax.plot([], [], color=colors[k], label=f"$J_{k + 1}$ (room {k + 1})")
    ax.set_xscale("log")
    ax.set_xlabel("environment steps (log)")
    ax.set_ylabel("success rate $J_k$ (exact)")
    ax.legend(fontsize="x-small")
    ax = axes[0, 1]
    if K == 2:
        g = np.linspace(0.02, 0.98, 15)
        J1, J2 = np.meshgrid(g, g)
        u, v = jdot_rl(J1, J2)
        ax.streamplot(J1, J2, u, v, color="0.8", density=0.8, linewidth=0.7)
        for i in range(min(n_show, len(r.curves))):
            ax.plot(r.curves[i, :, 0], r.curves[i, :, 1], color="#d62728", alpha=0.6, lw=1)
            ax.plot(*r.curves[i, 0], "k.", ms=4)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("$J_1$")
        ax.set_ylabel("$J_2$")
    else:
        ax.set_axis_off()
    return fig


def plot_coupling(study: dict):
    """The empirical coupling ``f(J_k)`` per setting."""
    fig, axes = new_figure(width=6.0, height=3.8)
    ax = axes[0, 0]
    for name, r in study.items():
        x, f = coupling_curve(r)
        ax.plot(x, f, marker="o", ms=3, label=name,
                color=SETTING_COLORS.get(name, None))
    ax.set_xlabel("$J_k$ at the start of a window")
    ax.set_ylabel(r"mean $\dot J_k / \mathrm{lr}$")
    ax.legend(fontsize="x-small")
    return fig


CLAIMS = registry(
    Claim("A-mlp-same-dynamics", "App. A",
          "deeper or wider MLPs do not qualitatively change the dynamics from the simple "
          "setup in Section 2", rule="holds"),
    Claim("3.3-decomposition", "Sec. 3.3",
          "the single scalar reward objective can be seen as a composite of many J_k "
          "(J = sum_k J_k, multiple rooms)", 0.0, "within", 0.01,
          why="an identity of the task: the sampled return and (1/K) sum_k J_k (exact) must "
              "agree to Monte Carlo precision; 0.01 is a tenth of J_k at the start"),
    Claim("3.3-f0-onpolicy", "Sec. 3.3",
          "it is likely that f_k(0) ~ 0, i.e., very little can be learned from only the data "
          "produced by an incompetent policy", 0.0, "at_most", 0.25,
          why="'~ 0' read as the learning rate at the lowest J_k bin being at most a quarter "
              "of the largest rate (f(0)/max f <= 0.25)"),
    Claim("3.3-mixture", "Sec. 3.3, Fig. 6",
          "mixing the soft-max policy with 10% of random actions: it no longer satisfies "
          "f_k(0) = 0 (reduces coupling)", 1.0, "at_least", 0.0,
          why="no magnitude is given: any increase of f at the lowest J_k bin over on-policy "
              "counts (ratio mixture / on-policy >= 1)"),
)

FINDINGS = registry(
    Finding("mlp-flat-fraction", "App. A", "How often do MLP policies of each depth and width "
            "hit a plateau with eps <= 1e-5 in the bandit?"),
    Finding("depth0-linear", "App. A", "Does the depth-0 JAX network reproduce the linear "
            "simulator?"),
    Finding("rl-plateaus", "Sec. 3.3", "Does a shared-torso actor-critic on a multi-room task "
            "hit plateaus, and do the controls remove them?"),
    Finding("rl-one-room-at-a-time", "Sec. 3.3", "Are the rooms learned one at a time?"),
)


def reading_verdicts(study: dict, readings: dict) -> dict:
    """App. A's test under each reading of theta0: does the reference architecture keep
    plateaus (interval above the supervised control's)?"""
    sup = flat_fraction(study["controls"]["supervised"])
    base = {"angular shares, output scale 1": flat_fraction(study["mlp"][REFERENCE])}
    return {k: bool(v.low > sup.high) for k, v in {**base, **readings}.items()}


def mixture_gain(study: dict, label: str) -> stats.Estimate:
    """``f`` at the lowest ``J_k`` bin with the mixture over on-policy (bootstrap over agents;
    the two sets of agents are independent, so each is resampled on its own)."""
    a, b = study[label], study["on_policy"]
    sa, ca = a.rate_sum[:, :, 0].sum(1), a.rate_count[:, :, 0].sum(1)
    sb, cb = b.rate_sum[:, :, 0].sum(1), b.rate_count[:, :, 0].sum(1)
    value = (sa.sum() / max(ca.sum(), 1)) / (sb.sum() / max(cb.sum(), 1))
    rng = np.random.default_rng(0)
    draws = []
    for _ in range(1000):
        i, j = rng.integers(0, len(sa), len(sa)), rng.integers(0, len(sb), len(sb))
        fb = sb[j].sum() / max(cb[j].sum(), 1)
        if fb > 0:
            draws.append((sa[i].sum() / max(ca[i].sum(), 1)) / fb)
    low, high = np.percentile(draws, [2.5, 97.5]) if draws else (math.nan, math.nan)
    return stats.Estimate(float(value), float(low), float(high), len(sa), "bootstrap")


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
    on, sep = values["rl_frac_flat_onpolicy"], values["rl_frac_flat_separate"]
    sup = values["rl_frac_flat_supervised"]
    page.find(FINDINGS["rl-plateaus"],
              f"runs with a plateau: on-policy {on:.2f}, separate {sep:.2f}, "
              f"{values['rl_mixture_label']} {values['rl_frac_flat_mixture']:.2f}, "
              f"uniform data {values['rl_frac_flat_uniform']:.2f}, supervised {sup:.2f}", on,
              evidence=f"{len(rl['on_policy'].solved)} agents per setting; find_plateaus "
                       "(band 0.02, ratio 2) on exact J(t)/K")
    page.find(FINDINGS["rl-one-room-at-a-time"],
              f"{values['rl_one_at_a_time_onpolicy']:.2f} of on-policy runs learn the rooms "
              "one at a time (last room reaches 0.5 at least 2x later than the first)",
              values["rl_one_at_a_time_onpolicy"], evidence="log grid of checkpoints")

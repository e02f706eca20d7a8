"""Chapter 03c_deep_benchmark: ray interference on a benchmark nobody here wrote (issue 20
items 2, 3 and 7; Sec. 3.3 of the paper, "the multi-room task").

``K`` instances of bsuite's DeepSea from gymnax, each with its own action mapping, form one
multi-task problem (:mod:`rayint_lib.model.deep.multitask`); PPO configured as PureJaxRL
configures it (:mod:`rayint_lib.model.deep.ppo`) learns them with one shared network that
sees the task, against K independent PPO agents, one per task (the paper's control for
interference: no shared parameter, optimiser state or normalisation), with the
same budget, and against the shared network trained on data of a fixed uniform-random
behaviour (the paper's control for coupling), sampled at the same budget and as its exact
expected update (:mod:`rayint_lib.model.deep.expected`, with the exact on-policy update as
its pair). Measured: per-task curves of the exact success
probability ``J_k`` with intervals over seeds, the fraction of runs that learn every task, the
fraction that learn them one at a time, the final return, the cosine between the tasks'
gradients (interference) and each task's coupling ratio (its on-policy gradient over that of
uniform data at the same parameters, :mod:`rayint_lib.model.deep.measures`), and whether the
plateau between tasks dissipates under each control. Figures in :mod:`.deep_benchmark_figures`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from ..book.claims import Finding, registry
from ..book.page import show  # noqa: F401  (the notebook calls ch.show)
from ..model import stats
from ..model.config import check_memory, check_time
from ..model.params import Param, declare
from .deep_benchmark_figures import (  # noqa: F401  (the notebook calls ch.plot_*)
    plot_cosine,
    plot_coupling,
    plot_curves,
    plot_runs,
)
from .deep_benchmark_remedies import METHODS as REMEDIES
from .deep_benchmark_remedies import method_spec, trained_seeds
from .deep_rl import CLAIMS as RL_CLAIMS
from .deep_rl import _enable_compilation_cache
from .deep_rl_rooms import LOW_J, low_J_coupling, median_or_nan, one_at_a_time

NOTEBOOK = "03c_deep_benchmark"
LEVEL = 0.5                  # a task counts as learned once J_k >= LEVEL
SPEED = 5e4                  # env steps / s of one condition on 2 busy cores (measured)
CONDITIONS = {"shared": {},                                   # the trainer's settings
              "separate": {"separate": True},
              "uniform": {"behaviour": "uniform"}}
EXACT = {"exact_uniform": True, "exact_on_policy": False}    # expected updates: uniform data?
MAX_TASKS = 16               # model.deep.multitask.MAX_TASKS (declaring must not load JAX)


@dataclass(frozen=True)
class BenchConfig:
    """The validated parameters of the chapter."""

    K: int
    size: int
    mapping_seed: int
    seeds: int
    n_updates: int
    num_envs: int
    num_steps: int
    lr: float
    ent_coef: float
    depth: int
    width: int
    seed: int
    remedies: tuple
    remedy_mix: float
    remedy_tune_seeds: int

    @property
    def env(self):
        from ..model.deep.multitask import MultiTaskParams
        return MultiTaskParams(K=self.K, size=self.size, mapping_seed=self.mapping_seed)

    def spec(self, separate=False, behaviour="on_policy"):
        from ..model.deep.ppo import PPOSpec
        return PPOSpec(env=self.env, separate=separate, behaviour=behaviour, depth=self.depth,
                       width=self.width,
                       lr=self.lr, ent_coef=self.ent_coef, num_envs=self.num_envs,
                       num_steps=self.num_steps, n_updates=self.n_updates,
                       n_checkpoints=min(20, self.n_updates + 1))

    @property
    def env_steps(self) -> int:
        """Environment steps per seed and condition."""
        return self.n_updates * self.num_envs * self.num_steps


PARAMS = declare(
    Param("K", 2, "DeepSea tasks (instances with different action mappings)", low=2,
          high=MAX_TASKS),
    Param("size", 8, "DeepSea size N: rows per episode; random exploration succeeds with "
          "prob. 2^-N", low=2, high=30),
    Param("mapping_seed", 0, "seed of gymnax's action mappings (task k: fold_in(key("
          "mapping_seed), k))", low=0),
    Param("seeds", 32, "agents per network condition, trained at once (a vmap axis)", low=2,
          high=100_000),
    Param("n_updates", 100, "PPO updates per agent (same budget for every condition)", low=2,
          high=10**7),
    Param("num_envs", 16, "environments per seed (PureJaxRL's NUM_ENVS; separate: num_envs / K "
          "per agent)", low=1, high=65536),
    Param("num_steps", 32, "environment steps per environment and update (NUM_STEPS)", low=4,
          high=100_000),
    Param("lr", 2.5e-4, "Adam step size (PureJaxRL's default)", low=0, high=1, low_open=True),
    Param("ent_coef", 0.01, "entropy bonus (PureJaxRL's default)", low=0, high=10),
    Param("depth", 2, "hidden ReLU layers of the actor and of the critic", low=1, high=8),
    Param("width", 64, "units per hidden layer (PureJaxRL: 64)", low=1, high=4096),
    Param("seed", 0, "seed of every random draw of the agents", low=0),
    Param("remedies", [], "remedies of Sec. 4 run on the shared PPO agent (off in the book)",
          kind=list, item=str, choices=REMEDIES, may_be_empty=True),
    Param("remedy_mix", 0.1, "the mixture remedy's probability of a uniform-random action",
          low=0, high=1, low_open=True),
    Param("remedy_tune_seeds", 8, "seeds (seed + 1) that tune each remedy's step size", low=2,
          high=100_000),
)


def validate(**values) -> BenchConfig:
    """Check every parameter (:data:`PARAMS`; memory, time) before any work."""
    from ..model.deep import ppo

    v = PARAMS.check(values)
    K, seeds, n_updates = v["K"], v["seeds"], v["n_updates"]
    num_envs, num_steps, width = v["num_envs"], v["num_steps"], v["width"]
    cfg = BenchConfig(**{**v, "lr": float(v["lr"]), "ent_coef": float(v["ent_coef"]),
                         "remedy_mix": float(v["remedy_mix"]),
                         "remedies": tuple(dict.fromkeys(v["remedies"]))})
    specs = [cfg.spec(separate=True)] + [method_spec(cfg.spec(), m, cfg.remedy_mix)
                                         for m in cfg.remedies]    # the trainer's own checks
    check_memory(f"seeds={seeds}, num_envs={num_envs}, num_steps={num_steps}, width={width}, "
                 f"remedies={list(cfg.remedies)}", max(ppo.memory_bytes(s, seeds) for s in specs),
                 "seeds x (parameters x (8 + K) + rollout activations + curves) x 4 bytes")
    agents = len(CONDITIONS) * seeds + (trained_seeds(seeds, cfg.remedy_tune_seeds, cfg.remedies)
                                        + K * seeds * ("pcgrad" in cfg.remedies)
                                        if cfg.remedies else 0)
    work = agents * cfg.env_steps * (1 + K / 4)
    check_time(f"seeds={seeds} x n_updates={n_updates}, remedies={list(cfg.remedies)}",
               work / SPEED,
               f"{work:.3g} env steps at {SPEED:.0e} per second")
    return cfg


def study(cfg: BenchConfig) -> dict:
    """PPO runs of every condition (:data:`CONDITIONS`): one shared network, one PPO agent per
    task, the shared network on fixed uniform-random data; then the shared actor following the
    exact expected update of uniform data and of its own (:data:`EXACT`); the same seeds."""
    from ..model.deep import expected
    from ..model.deep.pool import concurrently
    from ..model.deep.ppo import train

    _enable_compilation_cache()
    calls = {c: partial(train, cfg.spec(**kw), cfg.seeds, cfg.seed) for c, kw in CONDITIONS.items()}
    calls |= {c: partial(expected.train, cfg.spec(), cfg.seeds, cfg.seed, uniform=u)
              for c, u in EXACT.items()}
    return concurrently(calls)                # two at a time: the same runs as one by one


def random_success(cfg: BenchConfig) -> float:
    """Exact success probability of the uniform-random policy (``2^-size``, every task)."""
    import jax.numpy as jnp

    from ..model.deep.multitask import exact_returns
    probs = jnp.full((cfg.K, cfg.size, cfg.size, 2), 0.5)
    return float(np.asarray(exact_returns(probs, cfg.env)[0]).mean())


def learned_all(runs) -> np.ndarray:
    """Runs whose every task ends with ``J_k >= LEVEL``."""
    return (runs.curves[:, -1] >= LEVEL).all(axis=1)


def learned_tasks(runs) -> np.ndarray:
    """Tasks learned by the end (``J_k >= LEVEL``) per run."""
    return (runs.curves[:, -1] >= LEVEL).sum(axis=1)


def sequential(runs) -> np.ndarray:
    """Runs that learn the tasks one at a time (chapter 03b's rule at ``LEVEL``: the last task
    reaches it at least twice as late as the first, or never while the first did)."""
    return one_at_a_time(runs, level=LEVEL)


def final_return(runs) -> stats.Estimate:
    """Mean over tasks of the exact expected return at the end, bootstrap over seeds."""
    return stats.bootstrap(np.mean, final_returns(runs))


def cosine_median(runs) -> stats.Estimate:
    """Median over seeds of each seed's median gradient cosine over the checkpoints."""
    return stats.bootstrap(np.median, np.median(runs.cosine, axis=1))


def stalled(runs) -> np.ndarray:
    """``[runs, T]``: checkpoints where some task is learned and another is not (the plateau
    between tasks)."""
    learned = runs.curves >= LEVEL
    return learned.any(axis=-1) & ~learned.all(axis=-1)


def cosine_stalled(runs) -> stats.Estimate:
    """Median over the seeds that stall of their median gradient cosine while stalled."""
    mask = stalled(runs)
    per_run = [np.median(c[m]) for c, m in zip(runs.cosine, mask) if m.any()]
    if not per_run:
        return stats.Estimate(np.nan, np.nan, np.nan, 0, "bootstrap")
    return stats.bootstrap(np.median, np.array(per_run))


def gap(a, b) -> stats.Estimate:
    """Mean of ``a`` minus mean of ``b`` (one entry per seed; independent seeds, each side
    resampled on its own), percentile bootstrap; NaN where a side is empty."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.size == 0 or b.size == 0:
        return stats.Estimate(np.nan, np.nan, np.nan, 0, "bootstrap")
    rng = np.random.default_rng(0)
    draws = [rng.choice(a, a.size).mean() - rng.choice(b, b.size).mean() for _ in range(2000)]
    low, high = np.percentile(draws, [2.5, 97.5])
    return stats.Estimate(float(a.mean() - b.mean()), float(low), float(high), a.size,
                          "bootstrap")


def final_returns(runs) -> np.ndarray:
    """Per seed: the exact expected return at the end, mean over tasks."""
    return runs.returns[:, -1].mean(axis=1)


def all_given_one(runs) -> stats.Estimate:
    """Among the seeds that learn at least one task, the fraction that learn every task."""
    return stats.fraction(learned_all(runs)[learned_tasks(runs) > 0])


def independent_all_given_one(runs) -> stats.Estimate:
    """What :func:`all_given_one` would be if each seed learned its K tasks independently at
    the condition's own rate ``p`` (learned tasks over all): ``p^K / (1 - (1 - p)^K)``;
    bootstrap over seeds."""
    K = runs.curves.shape[-1]

    def statistic(n):
        p = n.mean() / K
        return p ** K / (1 - (1 - p) ** K) if p > 0 else np.nan
    return stats.bootstrap(statistic, learned_tasks(runs))


def coupling_low_J(runs) -> stats.Estimate:
    """Median over seeds of the coupling ratio of each seed's weakest task at the end, where
    that task is still incompetent (``J_k < LOW_J``; chapter 03b's reading)."""
    return median_or_nan(low_J_coupling(runs))


def uniform_successes(cfg: BenchConfig) -> float:
    """Expected treasure episodes per task in the whole budget under the uniform behaviour:
    ``env_steps / (N K) * 2^-N`` (every episode lasts N steps; tasks drawn uniformly)."""
    return cfg.env_steps / (cfg.size * cfg.K) * 2.0 ** -cfg.size


def table(study: dict) -> pd.DataFrame:
    """One row per measure, one column per condition: every task learned, one at a time,
    tasks learned, final return and success probability, gradient cosine, coupling ratio of
    the incompetent task (measures as rows: the page's 752-px column holds five conditions)."""
    rows = []
    for name, r in study.items():
        rows.append({"condition": name,
                     "every task learned": stats.fraction(learned_all(r)),
                     "every task, of those that learn one": all_given_one(r),
                     "the same if tasks were independent": independent_all_given_one(r),
                     "tasks one at a time": stats.fraction(sequential(r)),
                     "tasks learned (mean)": stats.bootstrap(np.mean, learned_tasks(r)),
                     "final return (mean over tasks)": final_return(r),
                     "final J_k (mean)": stats.bootstrap(np.mean, r.curves[:, -1].mean(1)),
                     "gradient cosine (median)": cosine_median(r),
                     "gradient cosine while stalled": cosine_stalled(r),
                     f"coupling ratio, J_k < {LOW_J:g} at the end": coupling_low_J(r)})
    return pd.DataFrame(rows).set_index("condition").T.rename_axis("measure")


def glue_values(cfg: BenchConfig, study: dict) -> dict:
    """The values the page glues (issue 20's names first); ``_uniform``: the shared network
    on fixed uniform-random data."""
    sh, se, un, eu, eo = (study[c] for c in (*CONDITIONS, *EXACT))
    out = {"bench_env": f"{cfg.K} x DeepSea-bsuite (gymnax), size {cfg.size}"}
    for name, r in study.items():
        out[f"bench_frac_one_at_a_time_{name}"] = stats.fraction(sequential(r))
        out[f"bench_final_return_{name}"] = final_return(r)
        out[f"bench_frac_all_learned_{name}"] = stats.fraction(learned_all(r))
        out[f"bench_all_given_one_{name}"] = all_given_one(r)
        out[f"bench_all_given_one_independent_{name}"] = independent_all_given_one(r)
        if name != "shared":
            d = out[f"bench_dissipate_{name}"] = dissipation(r, sh)
            out[f"bench_dissipate_{name}_answer"] = _sign(d, "it dissipates", "it is worse")
    return {**out,
            "bench_grad_cosine_median_shared": cosine_median(sh),
            "bench_grad_cosine_stalled_shared": cosine_stalled(sh),
            "bench_grad_cosine_median_uniform": cosine_median(un),
            "bench_coupling_ratio_low_J": coupling_low_J(sh),
            "bench_coupling_ratio_low_J_separate": coupling_low_J(se),
            "bench_frac_stalled_shared": stats.fraction(np.isfinite(low_J_coupling(sh))),
            "bench_return_gap": gap(final_returns(sh), final_returns(se)),
            "bench_one_at_a_time_gap": gap(sequential(sh), sequential(se)),
            "bench_coupling_only_one_at_a_time": gap(sequential(eo), sequential(eu)),
            "bench_coupling_only_dissipate": dissipation(eu, eo),
            "bench_exact_steps": cfg.n_updates * eu.spec.update_epochs * eu.spec.num_minibatches,
            "bench_random_success": random_success(cfg),
            "bench_uniform_successes": uniform_successes(cfg),
            "bench_env_steps": cfg.env_steps}


def dissipation(control, shared) -> stats.Estimate:
    """Does the plateau between tasks dissipate under a control? Among the seeds that learn
    at least one task, the fraction that learn every task, control minus shared network."""
    return gap(*(learned_all(r)[learned_tasks(r) > 0] for r in (control, shared)))


CLAIMS = registry()     # none defined here; 03b's "3.3-f0-onpolicy" is also scored here

FINDINGS = registry(
    Finding("bench-one-at-a-time", "Sec. 3.3", "On K DeepSea tasks from bsuite (gymnax), does "
            "PPO with one shared network learn the tasks one at a time more often than with "
            "one network per task?"),
    Finding("bench-final-return", "Sec. 3.3", "Does the shared network end with a lower "
            "return than separate networks at the same budget?"),
    Finding("bench-interference", "Sec. 3.3", "Do the tasks' gradients interfere (negative "
            "cosine) in the shared network?"),
    Finding("bench-coupling", "Sec. 3.3", "Is the on-policy gradient of a task the shared "
            "network is still incompetent at small against that of uniform data at the same "
            "parameters (f_k(0) ~ 0)?"),
    Finding("bench-dissipate", "Sec. 3.3", "Does the plateau between tasks dissipate under "
            "the controls: separate networks (no interference) and fixed uniform-random data "
            "(no coupling)?"),
    *(Finding(f"bench-remedy-{m}", "Sec. 4", f"Does the remedy '{m}' change the fraction of "
              "PPO runs that learn every task, against the shared PPO agent (paired by seed)?")
      for m in REMEDIES),
)


def _sign(e: stats.Estimate, positive: str, negative: str) -> str:
    if e.low > 0:
        return positive
    if e.high < 0:
        return negative
    if np.isnan(e.value):
        return "not measured (no seed to compare)"
    if e.low == e.high == 0:
        return "no difference (the same in every resample)"
    return "not resolved (the interval contains 0)"


def add_findings(page, cfg: BenchConfig, values: dict):
    """The chapter's findings ("Beyond the paper") and chapter 03b's f(0) claim read on
    this benchmark."""
    sh, se = (values[f"bench_frac_one_at_a_time_{c}"] for c in ("shared", "separate"))
    d = values["bench_one_at_a_time_gap"]
    ev = f"{cfg.seeds} seeds per condition, {cfg.env_steps} env steps each; bootstrap over seeds"
    page.find(FINDINGS["bench-one-at-a-time"],
              f"shared {sh:.2f}, separate {se:.2f}, difference {d:.2f}: "
              + _sign(d, "more often shared", "less often shared"), d, evidence=ev)
    r = values["bench_return_gap"]
    page.find(FINDINGS["bench-final-return"],
              f"shared minus separate: {r:.3f}: " + _sign(r, "higher shared", "lower shared"),
              r, evidence=ev)
    cos = values["bench_grad_cosine_median_shared"]
    st = values["bench_grad_cosine_stalled_shared"]
    page.find(FINDINGS["bench-interference"],
              f"median cosine {cos:.2f}: " + _sign(cos, "positive", "negative")
              + f"; while one task is learned and another is not: {st:.2f}", cos,
              evidence="exact gradients of the tasks' expected returns, actor parameters")
    c, claim = values["bench_coupling_ratio_low_J"], RL_CLAIMS["3.3-f0-onpolicy"]
    verdict = page.check(claim, None if np.isnan(c.value) else c, evidence=(
        f"03c: K = {cfg.K} DeepSea tasks (size {cfg.size}), PPO, shared network; {ev}"))
    page.find(FINDINGS["bench-coupling"],
              f"coupling ratio of the weakest task where J_k < {LOW_J:g} at the end: {c:.2g} "
              f"(in {values['bench_frac_stalled_shared']:.2f} of the seeds); chapter 03b's "
              f"test (<= {claim.band[1]:g}): {verdict}", c,
              evidence="exact expected updates (model.deep.measures) at the last checkpoint; "
              f"f(0) ~ 0 fails if the interval lies above {claim.band[1]:g}")
    ds, du, de, dc = (values[f"bench_{n}"] for n in (
        "dissipate_separate", "dissipate_uniform", "dissipate_exact_uniform",
        "coupling_only_dissipate"))
    page.find(FINDINGS["bench-dissipate"],
              f"every task learned, of the seeds that learn one, control minus shared: "
              f"separate networks {ds:.2f}: " + _sign(ds, "dissipates", "worse")
              + f"; uniform data {du:.2f}: " + _sign(du, "dissipates", "worse")
              + " (tasks learned independently at the uniform-data agents' own rate would "
              f"give {values['bench_all_given_one_independent_uniform']:.2f} of them every "
              f"task); exact expected update of uniform data {de:.2f}: "
              + _sign(de, "dissipates", "worse") + f"; exact uniform minus exact on-policy "
              f"(coupling alone) {dc:.2f}: " + _sign(dc, "coupling stalls", "coupling helps"),
              du, evidence=f"{ev}; 'dissipates' needs the interval above 0 ('worse': below); "
              f"uniform data hold about {values['bench_uniform_successes']:.0f} treasure "
              "episodes per task in the budget; the exact learners take no sample")

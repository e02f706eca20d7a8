"""Chapter 03c_deep_benchmark, the remedies of Sec. 4 on the benchmark's PPO agent (issue 20
item 4), chapter 08's design on the K DeepSea tasks.

Every method runs from the reported seeds (those of the chapter's study), with the same
network, environments and budget of environment steps as the shared PPO agent, and its own
Adam step size chosen from ``lr x`` :data:`LR_FACTORS` on ``remedy_tune_seeds`` tuning seeds
(``seed + 1``, never reported) by one criterion, chapter 08's: the mean final ``J_k`` of the
weakest task (what "learns every task" needs); ties go to the step nearest the default. The
shared PPO agent is tuned the same way and is the baseline of the paired differences. The
methods (:mod:`rayint_lib.model.deep.ppo`'s remedies): ``heads`` (separate output heads of the
actor and of the critic on a shared torso), ``mixture`` (a uniform action with probability
``remedy_mix``), ``pcgrad`` (PCGrad on the tasks' parts of each minibatch's loss) and
``distill`` (the separate agents of the study, one per task, teach a shared student at the
states it visits; their environment steps are counted: twice the budget). PPO's clipped step
is itself the natural-gradient-like step of Sec. 4, so it is the baseline, not a method.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import pandas as pd

from ..model import ranking as rk
from ..model import stats
from .deep_rl_remedies import chosen_step, tuning_frame, weakest_room

METHODS = ("heads", "mixture", "pcgrad", "distill")
LR_FACTORS = (0.5, 1.0, 2.0)        # step sizes tried: the chapter's lr times these
NAMES = {"shared": "shared PPO agent (baseline)", "heads": "separate output heads",
         "mixture": "uniform-action mixture", "pcgrad": "PCGrad (per-task projection)",
         "distill": "separate agents, distilled"}


def method_spec(base, name: str, mix: float):
    """The PPO spec of ``name`` from the shared agent's ``base``."""
    kw = {"heads": {"heads": True}, "mixture": {"mix": mix}, "pcgrad": {"grad_mode": "pcgrad"},
          "distill": {"learner": "distill"}}.get(name, {})
    return replace(base, **kw)


@dataclass
class Remedies:
    """The remedy runs of chapter 03c."""

    runs: dict            # method -> PPORuns (reported seeds), "shared" first
    lrs: dict             # method -> chosen step size
    tuning: dict          # method -> {lr: criterion}
    env_steps: dict       # method -> environment steps per seed, teachers' included
    mix: float
    tune_seeds: int
    seconds: float


def trained_seeds(seeds: int, tune_seeds: int, methods) -> int:
    """Agents :func:`run` trains at most (the time estimate): per method and the baseline,
    every step size on the tuning seeds and the chosen one on ``seeds``; the tuning seeds'
    teachers of ``distill``."""
    n = len(methods) + 1
    return n * (len(LR_FACTORS) * tune_seeds + seeds) + tune_seeds * ("distill" in methods)


def _method(cfg, name, teachers, tune_teachers, reuse=None):
    """Tune ``name`` on the tuning seeds, then train it on the reported seeds at the chosen
    step size: ``(scores, lr, runs)``; ``reuse``: the study's run at the default step."""
    from ..model.deep.ppo import train

    spec = method_spec(cfg.spec(), name, cfg.remedy_mix)
    distill = name == "distill"
    scores = {lr: weakest_room(train(replace(spec, lr=lr), cfg.remedy_tune_seeds, cfg.seed + 1,
                                     tune_teachers if distill else None))
              for lr in (cfg.lr * f for f in LR_FACTORS)}
    lr = chosen_step(scores, cfg.lr)
    if reuse is not None and lr == cfg.lr:
        return scores, lr, reuse
    return scores, lr, train(replace(spec, lr=lr), cfg.seeds, cfg.seed,
                             teachers if distill else None)


def run(cfg, study: dict) -> Remedies | None:
    """Tune and run the baseline and every method of ``cfg.remedies`` (module doc), two at a
    time; ``None`` when there is none. The study's separate agents teach ``distill``."""
    from ..model.deep.pool import concurrently
    from ..model.deep.ppo import train

    if not cfg.remedies:
        return None
    t0 = time.perf_counter()
    tune_teachers = (train(cfg.spec(separate=True), cfg.remedy_tune_seeds, cfg.seed + 1)
                     if "distill" in cfg.remedies else None)
    done = concurrently({name: partial(_method, cfg, name, study["separate"], tune_teachers,
                                       study["shared"] if name == "shared" else None)
                         for name in ("shared", *cfg.remedies)})
    steps = {k: cfg.env_steps * (2 if k == "distill" else 1) for k in done}
    return Remedies({k: v[2] for k, v in done.items()}, {k: v[1] for k, v in done.items()},
                    {k: v[0] for k, v in done.items()}, steps, cfg.remedy_mix,
                    cfg.remedy_tune_seeds, time.perf_counter() - t0)


def all_learned(runs) -> np.ndarray:
    from .deep_benchmark import learned_all
    return learned_all(runs)


def paired(rem: Remedies, method: str) -> stats.Estimate:
    """Runs that learn every task, method minus baseline, paired by seed (bootstrap)."""
    return rk.paired_difference(all_learned(rem.runs[method]).astype(float),
                                all_learned(rem.runs["shared"]).astype(float))


def glue_values(rem: Remedies | None) -> dict:
    """``bench_remedy_<method>_{all_learned,diff,final_return,lr,env_steps}`` (the baseline
    as ``shared``, without ``diff``), the table and the tuning table."""
    from .deep_benchmark import final_return

    if rem is None:
        return {}
    out = {"bench_remedy_table": table(rem), "bench_remedy_tuning": tuning_table(rem),
           "bench_remedy_mix": rem.mix, "bench_remedy_tune_seeds": rem.tune_seeds,
           "bench_remedy_seconds": rem.seconds}
    for k, r in rem.runs.items():
        out[f"bench_remedy_{k}_all_learned"] = stats.fraction(all_learned(r))
        out[f"bench_remedy_{k}_final_return"] = final_return(r)
        out[f"bench_remedy_{k}_lr"] = rem.lrs[k]
        out[f"bench_remedy_{k}_env_steps"] = rem.env_steps[k]
        if k != "shared":
            out[f"bench_remedy_{k}_diff"] = paired(rem, k)
    return out


def table(rem: Remedies) -> pd.DataFrame:
    """One row per method: tuned step size, environment steps, runs that learn every task,
    the paired difference against the baseline, the final return; 95% intervals."""
    from .deep_benchmark import final_return

    return pd.DataFrame([{"method": NAMES[k], "lr": f"{rem.lrs[k]:g}",
                          "env steps per seed": rem.env_steps[k],
                          "every task learned": f"{stats.fraction(all_learned(r)):.2f}",
                          "minus baseline (paired)": "" if k == "shared"
                          else f"{paired(rem, k):.2f}",
                          "final return": f"{final_return(r):.3f}"}
                         for k, r in rem.runs.items()]).set_index("method")


def tuning_table(rem: Remedies) -> pd.DataFrame:
    """The criterion (mean final ``J_k`` of the weakest task, tuning seeds) per step size."""
    return tuning_frame(rem.tuning, rem.lrs, NAMES).set_index("method")


def text(cfg, rem: Remedies | None) -> str:
    """The page's paragraph on the remedies: the command that runs them, or what ran."""
    if rem is None:
        return ("The remedies of Section 4 on this agent are a parameter run, off in the book "
                "for its time: `rayint run 03c_deep_benchmark -p remedies "
                "'[\"heads\",\"mixture\",\"pcgrad\",\"distill\"]'`.")
    return (f"Every method ran the {cfg.seeds} reported seeds with {cfg.env_steps} "
            "environment steps each (distillation: its teachers' as many again), its Adam "
            f"step size chosen from {[cfg.lr * f for f in LR_FACTORS]} on {rem.tune_seeds} "
            "other seeds by the mean final J_k of the weakest task; the mixture's uniform "
            f"share is {rem.mix:g}; the remedies took {rem.seconds:.0f} s.")


def add_findings(page, cfg, rem: Remedies | None):
    """One finding per method (``bench-remedy-<method>``): does it change the fraction of
    runs that learn every task against the tuned shared PPO agent? None without remedies."""
    from .deep_benchmark import FINDINGS, _sign

    if rem is None:
        return
    base = stats.fraction(all_learned(rem.runs["shared"]))
    for k in rem.runs:
        if k == "shared":
            continue
        d = paired(rem, k)
        mine = stats.fraction(all_learned(rem.runs[k]))
        page.find(FINDINGS[f"bench-remedy-{k}"],
                  f"every task learned: {mine:.2f} against the baseline's {base:.2f}; paired "
                  f"difference {d:.2f}: {_sign(d, 'helps', 'hurts')}", d,
                  evidence=f"{cfg.seeds} seeds, {rem.env_steps[k]} env steps per seed, step "
                  f"sizes tuned on {rem.tune_seeds} other seeds; 'helps' needs the paired "
                  "bootstrap interval above 0, 'hurts' below; 'not resolved' if it holds 0")

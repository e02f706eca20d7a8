"""Chapter 08_detect_and_remedy, the deep-RL part: the remedies of Sec. 4 on the neural agent
of the K-room corridor task (the coupling regime of chapter 03b), a bootstrapped TD(0) critic
("What makes it worse?"), and the detector on the agents' noisy returns.

Every method runs from the same seeds, with the same network, episodes and budget of
environment steps, and its own Adam step size chosen from :data:`LR_GRID` on tuning seeds
(``seed + 1``, never reported) by one criterion, the mean final ``J_k`` of the weakest room
(what "learns every room" needs). The methods: the baseline (on-policy, one shared network);
separate networks; separate output heads; the bandit's best uniform-action mixture; fixed
uniform data; a PPO-style clipped step (``clip`` 0.2, 4 epochs per batch: the trust-region,
natural-gradient-like step); PCGrad on the per-room gradients; and the paper's decoupling
solution, separate networks per room distilled into one network (the separate-network runs
are the teachers; a shared student imitates their greedy actions at the states it visits,
with its own budget, so distillation spends twice the environment steps, reported).
"""
from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import pandas as pd

from ..model import ranking as rk
from ..model import stats
from ..model.curves import long_format

LR_GRID = (1e-3, 3e-3, 1e-2)          # Adam step sizes tried for every method
TUNE_SEEDS = 8                        # tuning seeds (seed + 1), never the reported ones
SLOWEST_FIRST = ("ppo", "pcgrad", "separate", "heads")   # 4 epochs; K gradients; K networks
METHODS = ("onpolicy", "separate", "heads", "mixture", "uniform", "ppo", "pcgrad", "distill",
           "td")
NAMES = {"onpolicy": "on-policy, shared network (baseline)",
         "separate": "separate networks per room",
         "heads": "separate output heads",
         "mixture": "uniform-action mixture",
         "uniform": "fixed uniform-random data",
         "ppo": "PPO-style clipped step",
         "pcgrad": "PCGrad (per-room projection)",
         "distill": "separate networks, distilled",
         "td": "on-policy, TD(0) critic"}


def method_spec(base, name: str, mix: float):
    """The agent of ``name`` (module doc) from the baseline spec ``base``."""
    kw = {"separate": {"separate": True}, "heads": {"heads": True},
          "mixture": {"learner": "mixture", "mix": mix}, "uniform": {"learner": "uniform"},
          "ppo": {"clip": 0.2, "epochs": 4}, "pcgrad": {"grad_mode": "pcgrad"},
          "distill": {"learner": "supervised"}, "td": {"critic": "td"}}.get(name, {})
    return replace(base, **kw)


def weakest_room(runs) -> float:
    """The tuning criterion: mean over runs of the final ``J_k`` of the weakest room."""
    return float(runs.curves[:, -1, :].min(axis=1).mean())


def chosen_step(scores: dict, default: float) -> float:
    """The step size of ``scores`` (``{lr: criterion}``) with the best criterion; ties go to
    the step nearest ``default`` (on a log scale)."""
    return max(scores, key=lambda lr: (scores[lr], -abs(np.log(lr / default))))


def tuning_frame(tuning: dict, lrs: dict, names: dict) -> pd.DataFrame:
    """The tuning criterion per method (``tuning``: ``{method: {lr: criterion}}``) and step
    size, and the chosen step (``lrs``); methods named by ``names``."""
    return pd.DataFrame([{"method": names[k], **{f"lr {lr:g}": f"{v:.3f}" for lr, v in s.items()},
                          "chosen": f"{lrs[k]:g}"} for k, s in tuning.items()])


@dataclass
class DeepRL:
    """The rooms-task runs of chapter 08."""

    runs: dict            # method -> AgentRuns (reported seeds)
    lrs: dict             # method -> chosen step size
    tuning: dict          # method -> {lr: criterion}
    mix: float
    seeds: int
    env_steps: int
    seconds: float


def _train(spec, name, n, seed, teachers=None):
    from ..model.deep import agent

    targets = None
    if name == "distill":
        targets = agent.greedy_actions(teachers.config, teachers.params)
    return agent.train(spec, n, seed, targets=targets)


def _method(base, name, mix, seeds, seed, separate=None):
    """Tune ``name`` on the tuning seeds and train it with the chosen step size on ``seeds``
    seeds: ``(tuning scores, chosen step size, runs, tuning runs at that step size)``.
    ``separate``: the separate networks' result, whose tuned networks teach the distilled
    method (its tuning runs are the teachers, its reported runs teach on the reported
    seeds)."""
    n_tune = min(TUNE_SEEDS, seeds)
    spec = method_spec(base, name, mix)
    teachers = reported = None
    if name == "distill":
        _, _, reported, teachers = separate
    tuned = {lr: _train(replace(spec, lr=lr), name, n_tune, seed + 1, teachers)
             for lr in LR_GRID}
    scores = {lr: weakest_room(r) for lr, r in tuned.items()}
    lr = chosen_step(scores, base.lr)
    return scores, lr, _train(replace(spec, lr=lr), name, seeds, seed, reported), tuned[lr]


def _started_order(methods) -> list:
    """The order the methods start in: the slowest first (:data:`SLOWEST_FIRST`), so that
    the short ones fill the other worker at the end; the distilled method last."""
    first = [k for k in SLOWEST_FIRST if k in methods]
    return first + [k for k in methods if k not in first]


def run(base, mix: float, seeds: int, seed: int, methods=METHODS) -> DeepRL:
    """Tune and run every method (module doc), two at a time
    (:func:`~rayint_lib.model.deep.pool.concurrently`); the distilled one waits for the
    separate networks. The order of the runs does not change their results."""
    from ..model.deep.pool import concurrently

    if "distill" in methods and "separate" not in methods:
        raise ValueError(f"methods: 'distill' needs 'separate' (its teachers); got {methods}")
    t0 = time.perf_counter()
    teachers = Future()

    def job(name):
        if name == "distill":
            return _method(base, name, mix, seeds, seed, teachers.result())
        try:
            out = _method(base, name, mix, seeds, seed)
        except BaseException as e:
            if name == "separate":
                teachers.set_exception(e)
            raise
        if name == "separate":
            teachers.set_result(out)
        return out

    done = concurrently({name: partial(job, name) for name in _started_order(methods)})
    done = {name: done[name] for name in methods}
    return DeepRL({k: v[2] for k, v in done.items()}, {k: v[1] for k, v in done.items()},
                  {k: v[0] for k, v in done.items()}, mix, seeds,
                  base.n_updates * base.env_steps_per_update, time.perf_counter() - t0)


def compile_ahead(base, seeds: int, methods=METHODS):
    """Start compiling, in a background thread, the trainers :func:`run` will use (one per
    network structure and batch size: the tuning seeds and the reported seeds), in the order
    its two workers ask for them (:func:`rayint_lib.model.deep.agent.compile_ahead`)."""
    from ..model.deep import agent

    sizes = (min(TUNE_SEEDS, seeds), seeds)
    order = _started_order(methods)
    pairs = [order[i:i + 2] for i in range(0, len(order), 2)]
    return agent.compile_ahead([(method_spec(base, name, 0.0), n) for pair in pairs
                                for n in sizes for name in pair])


def trained_seeds(seeds: int, methods=METHODS) -> int:
    """Agents :func:`run` trains in all: per method, every step size of ``LR_GRID`` on the
    tuning seeds and the tuned one on ``seeds`` (for the time estimate; the distilled
    method's teachers are the separate networks' tuning runs)."""
    return len(methods) * (len(LR_GRID) * min(TUNE_SEEDS, seeds) + seeds)


def all_learned(runs) -> np.ndarray:
    from .deep_rl_rooms import all_learned as learned
    return learned(runs)


def summary(d: DeepRL) -> dict:
    """``{method: {all, one_at_a_time, median_steps, weakest}}``, each an Estimate."""
    from .deep_rl_rooms import one_at_a_time
    out = {}
    for k, r in d.runs.items():
        steps = r.env_steps_to_solve
        if k == "distill":                     # the teachers' steps come first
            steps = steps + d.runs["separate"].env_steps
        out[k] = {"all": stats.fraction(all_learned(r)),
                  "one_at_a_time": stats.fraction(one_at_a_time(r)),
                  "median_steps": stats.median(steps),
                  "weakest": stats.bootstrap(np.mean, r.curves[:, -1, :].min(axis=1))}
    return out


def paired(d: DeepRL, method: str, flags) -> stats.Estimate:
    """``flags(method) - flags(baseline)``, runs paired by seed, bootstrap interval."""
    return rk.paired_difference(np.asarray(flags(d.runs[method]), float),
                                np.asarray(flags(d.runs["onpolicy"]), float))


def _fmt(e: stats.Estimate, spec=".2f") -> str:
    return f"{e:{spec}}"


def table(d: DeepRL, summ: dict) -> pd.DataFrame:
    """One row per method (ranked by the fraction of runs that learn every room), with its
    tuned step size; every number with its 95% interval."""
    order = sorted(summ, key=lambda k: -summ[k]["all"].value)
    return pd.DataFrame([{"method": NAMES[k], "lr": f"{d.lrs[k]:g}",
                          "all rooms learned": _fmt(summ[k]["all"]),
                          "weakest room J_k": _fmt(summ[k]["weakest"]),
                          "one at a time": _fmt(summ[k]["one_at_a_time"]),
                          "median env steps": _fmt(summ[k]["median_steps"], ".3g")}
                         for k in order])


def tuning_table(d: DeepRL) -> pd.DataFrame:
    """The tuning criterion per method and step size (tuning seeds)."""
    return tuning_frame(d.tuning, d.lrs, NAMES)


def glue(d: DeepRL, summ: dict) -> dict:
    """Glue names ``remedy_rl_{all,weakest,one_at_a_time,median}_<method>`` and the paired
    differences ``remedy_rl_diff_all_<method>`` against the baseline."""
    out = {"remedy_rl_seeds": d.seeds, "remedy_rl_env_steps": d.env_steps,
           "remedy_rl_mix": d.mix, "remedy_rl_seconds": d.seconds,
           "remedy_rl_table": table(d, summ),
           "remedy_rl_tuning": tuning_table(d)}
    for k, v in summ.items():
        for m in ("all", "weakest", "one_at_a_time", "median_steps"):
            out[f"remedy_rl_{m}_{k}"] = v[m]
        out[f"remedy_rl_lr_{k}"] = d.lrs[k]
        if k != "onpolicy":
            out[f"remedy_rl_diff_all_{k}"] = paired(d, k, all_learned)
    return out


def td_difference(d: DeepRL) -> dict:
    """Paired by seed: the final ``J_k`` of the weakest room, Monte Carlo minus TD(0) (the
    claim's measure: above 0 when the bootstrapped critic leaves the stalled room further
    behind); runs that fail to learn every room and runs that learn the rooms one at a time,
    TD minus Monte Carlo (readings)."""
    from .deep_rl_rooms import one_at_a_time

    def weakest(r):
        return r.curves[:, -1, :].min(axis=1)
    return {"weakest": rk.paired_difference(weakest(d.runs["onpolicy"]), weakest(d.runs["td"])),
            "unlearned": paired(d, "td", lambda r: ~all_learned(r)),
            "one_at_a_time": paired(d, "td", one_at_a_time)}


def text(d) -> str:
    """One sentence for the prose: what was run, or why not."""
    if d is None:
        return ("Not run (deep_rl_runs = 0); at the defaults the chapter runs every method "
                "below on the corridor task.")
    return (f"Every method ran {d.seeds} seeds of {d.env_steps} environment steps each, "
            f"its Adam step size chosen from {list(LR_GRID)} on {min(TUNE_SEEDS, d.seeds)} "
            f"other seeds; the whole part took {d.seconds:.0f} s.")


def findings(d: DeepRL, summ: dict) -> dict:
    """``{finding id: (answer, value, evidence)}`` of the corridor task."""
    base = summ["onpolicy"]["all"]
    better = [NAMES[k] for k in summ if k not in ("onpolicy", "td")
              and paired(d, k, all_learned).low > 0]
    rem = "; ".join(f"{NAMES[k]}: {summ[k]['all']:.2f}" for k in summ if k != "onpolicy")
    diff = td_difference(d)["weakest"]
    ev = (f"{d.seeds} seeds per method, {d.env_steps} environment steps each, step sizes "
          f"tuned on other seeds; paired by seed")
    return {
        "deep-rl-remedies": (
            f"Runs that learn every room: baseline {base:.2f}; {rem}. More than the baseline "
            f"(paired interval above 0): {', '.join(better) or 'none'}.", base, ev),
        "td-critic-deep-rl": (
            f"Weakest room's final J_k, Monte Carlo minus TD(0): {diff:.3g}; runs that learn "
            f"every room: TD {summ['td']['all']:.2f} against {base:.2f}.", diff, ev),
    }


def detect_sequential(runs, noisy: bool) -> np.ndarray:
    """The detector engine (:func:`rayint_lib.model.detection.detect`) on every run, the
    rooms as components: does it find the rooms learned one at a time? On the noisy training
    returns a log would show (``noisy``) or on the exact ``J_k``. The one call to the
    detection API, kept here so that it can be switched."""
    from ..model.detection import detect

    curves = (runs.returns if noisy else runs.curves)[:, 1:, :]
    st, values, run, comp = long_format(runs.env_step_grid[1:].astype(float),
                                        np.nan_to_num(curves))
    found = detect(st, values, runs=run, components=comp)
    return np.array([r.sequential for r in found.runs])


def detector_agreement(d: DeepRL, methods=("onpolicy", "separate")) -> dict:
    """Per method: the fraction of runs the detector calls one-at-a-time from the noisy
    returns and from the exact ``J_k``, and the fraction of runs where the two agree."""
    out = {}
    for k in methods:
        noisy = detect_sequential(d.runs[k], True)
        exact = detect_sequential(d.runs[k], False)
        out[k] = {"returns": stats.fraction(noisy), "exact": stats.fraction(exact),
                  "agree": stats.fraction(noisy == exact)}
    return out


def detector_glue(agreement: dict) -> dict:
    """``remedy_rl_detect_{returns,exact,agree}_<method>``."""
    return {f"remedy_rl_detect_{m}_{k}": v for k, row in agreement.items()
            for m, v in row.items()}

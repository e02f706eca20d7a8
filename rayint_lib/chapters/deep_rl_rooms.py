"""Chapter 03b_deep_rl, Part 2: the K-room corridor task in the coupling regime (Sec. 3.3).

The agents of :mod:`rayint_lib.model.deep.agent` on :mod:`rayint_lib.model.deep.rooms` (a
wrong key ends the episode; a uniform-random policy succeeds with probability
``4^-length``): on-policy with one shared network against the paper's controls (separate
networks: no interference; fixed uniform data: no coupling; supervised imitation: no reward),
per-room curves, rooms learned one at a time, and the two measures of
:mod:`rayint_lib.model.deep.measures` logged during training (interference cosine, coupling
ratio). The notebook glues the numbers; the figures are in :mod:`.deep_rl_figures`.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from ..model import stats

LEARNED = 0.5          # a room is learned once its J_k reaches this level
LOW_J = 0.01           # an incompetent room: J_k below 1% (the coupling regime's threshold)
SETTINGS = ("on_policy", "separate", "mixture", "uniform", "supervised")
SETTING_NAMES = {"on_policy": "on-policy, shared network",
                 "separate": "on-policy, separate networks",
                 "mixture": "uniform-action mixture",
                 "uniform": "fixed uniform-random data",
                 "supervised": "supervised imitation"}


def settings(cfg) -> dict:
    """``{setting: spec}``: the study's settings at the chapter's default K (the first
    mixture fraction for the mixture)."""
    return {"on_policy": cfg.agent_spec(),
            "separate": cfg.agent_spec(separate=True),
            "mixture": cfg.agent_spec("mixture", cfg.mixtures[0]),
            "uniform": cfg.agent_spec("uniform"),
            "supervised": cfg.agent_spec("supervised")}


def rooms_study(cfg) -> dict:
    """Agent runs of every setting at the chapter's K, and shared and separate networks for
    each further room count of ``cfg.more_K``: ``{"K": {setting: runs}, "more": {K: {...}}}``
    (the same seeds for every setting)."""
    from ..model.deep.agent import train
    from ..model.deep.pool import concurrently
    from .deep_rl import _enable_compilation_cache

    _enable_compilation_cache()
    specs = {("main", name): spec for name, spec in settings(cfg).items()}
    for K in cfg.more_K:
        specs[(K, "on_policy")] = cfg.agent_spec(K=K)
        specs[(K, "separate")] = cfg.agent_spec(separate=True, K=K)
    runs = concurrently({key: partial(train, spec, cfg.rl_seeds, cfg.seed)
                         for key, spec in specs.items()})
    main = {name: r for (part, name), r in runs.items() if part == "main"}
    more = {K: {name: runs[(K, name)] for name in ("on_policy", "separate")}
            for K in cfg.more_K}
    return {"main": main, "more": more}


def learned_times(runs, level=LEARNED) -> np.ndarray:
    """Environment steps at which each room's ``J_k`` first reaches ``level`` (checkpoint
    resolution; ``inf`` if never), ``[runs, K]``."""
    reached = runs.curves >= level
    first = np.where(reached.any(axis=1), reached.argmax(axis=1), -1)
    grid = runs.env_step_grid.astype(float)
    return np.where(first >= 0, grid[np.maximum(first, 0)], np.inf)


def all_learned(runs) -> np.ndarray:
    """Runs in which every room reaches ``LEARNED`` within the budget."""
    return np.isfinite(learned_times(runs)).all(axis=1)


def one_at_a_time(runs, ratio=2.0, level=LEARNED) -> np.ndarray:
    """Runs that learn the rooms one at a time: each room after the first reaches
    ``level`` at least ``ratio`` times later than the room before it (or never, while the
    first did): a staircase on the log time axis."""
    t = np.sort(learned_times(runs, level), axis=1)
    first = t[:, 0]
    apart = t[:, 1:] >= ratio * np.maximum(t[:, :-1], 1)
    return np.isfinite(first) & apart.all(axis=1)


def time_between_rooms(runs) -> np.ndarray:
    """Environment steps between consecutive rooms reaching ``LEARNED``, pooled over runs
    and pairs (``inf`` where the later room never did, after the earlier did)."""
    t = np.sort(learned_times(runs), axis=1)
    started = np.isfinite(t[:, :-1])          # pairs whose earlier room was learned
    return t[:, 1:][started] - t[:, :-1][started]


def ordered_curves(runs) -> np.ndarray:
    """``J_k(t)`` with each run's rooms sorted by their final ``J_k``, best first
    ``[runs, T, K]``: which room is learned first is random, so curves are averaged by
    learning order."""
    order = np.argsort(-runs.curves[:, -1, :], axis=1)
    return np.take_along_axis(runs.curves, order[:, None, :], axis=2)


def mean_band(values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over runs (axis 0) with a normal 95% interval."""
    m = values.mean(axis=0)
    se = values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])
    return m, m - stats.Z95 * se, m + stats.Z95 * se


def low_J_coupling(runs) -> np.ndarray:
    """Coupling ratio of each run's weakest room at the end of the budget where that room is
    still incompetent (``J_k < LOW_J``); NaN where it is not."""
    last = runs.curves[:, -1, :]
    k = np.argmin(last, axis=1)
    i = np.arange(len(k))
    return np.where(last[i, k] < LOW_J, runs.coupling[i, -1, k], np.nan)


def any_low_J_coupling(runs) -> stats.Estimate:
    """Median coupling ratio over every (room, checkpoint) with ``J_k < LOW_J``, taken per
    run and then over runs (the control's reading: supervised runs have no incompetent
    room left at the end, but they pass through low ``J_k`` on the way)."""
    low = np.where(runs.curves < LOW_J, runs.coupling, np.nan)
    per_run = [np.median(r[np.isfinite(r)]) if np.isfinite(r).any() else np.nan for r in low]
    return median_or_nan(per_run)


def median_or_nan(values) -> stats.Estimate:
    """Median with a bootstrap interval over the finite entries (NaN when there are none)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return stats.Estimate(np.nan, np.nan, np.nan, 0, "bootstrap")
    return stats.bootstrap(np.median, v)


def cosine_median(runs) -> stats.Estimate:
    """Interference: each run's median cosine between per-room gradients over its
    checkpoints after the start, then the median over runs (bootstrap interval)."""
    return median_or_nan(np.median(runs.cosine[:, 1:], axis=1))


def ratio_of_medians(a, b) -> stats.Estimate:
    """Median of ``a`` over median of ``b`` (finite entries; independent runs, each
    resampled on its own)."""
    a, b = (np.asarray(x, float) for x in (a, b))
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 2 or b.size < 2:
        return stats.Estimate(np.nan, np.nan, np.nan, 0, "bootstrap")
    rng = np.random.default_rng(0)
    draws = [np.median(rng.choice(a, a.size)) / np.median(rng.choice(b, b.size))
             for _ in range(2000)]
    low, high = np.percentile(draws, [2.5, 97.5])
    return stats.Estimate(float(np.median(a) / np.median(b)), float(low), float(high),
                          a.size + b.size, "bootstrap")


def gap_median(runs) -> stats.Estimate:
    """Median environment steps between consecutive rooms (NaN when no room was learned)."""
    gaps = time_between_rooms(runs)
    return stats.median(gaps) if gaps.size else stats.Estimate(np.nan, np.nan, np.nan, 0)


def summary(runs) -> dict:
    """The measures of one setting, each an Estimate."""
    return {"all learned": stats.fraction(all_learned(runs)),
            "one at a time": stats.fraction(one_at_a_time(runs)),
            "gap (env steps)": gap_median(runs),
            "cosine": cosine_median(runs),
            "coupling, low J": median_or_nan(low_J_coupling(runs))}


def rooms_table(study: dict) -> pd.DataFrame:
    """One row per setting and room count, each number with its 95% interval: runs that
    learn every room, runs that learn them one at a time, the median gap between
    consecutive rooms, the median interference cosine and the coupling ratio of the
    incompetent room."""
    rows = []
    for name, r in study["main"].items():
        rows.append({"K": r.config.env.K, "setting": SETTING_NAMES[name], **summary(r)})
    for K, runs in study["more"].items():
        for name, r in runs.items():
            rows.append({"K": K, "setting": SETTING_NAMES[name], **summary(r)})
    return pd.DataFrame(rows)


def rooms_glue(study: dict) -> dict:
    """The required glued values of issue 20 (at the chapter's K) and the controls'."""
    m = study["main"]
    out = {}
    for name, tag in (("on_policy", "shared"), ("separate", "separate")):
        out[f"rooms_frac_all_learned_{tag}"] = stats.fraction(all_learned(m[name]))
        out[f"rooms_frac_one_at_a_time_{tag}"] = stats.fraction(one_at_a_time(m[name]))
    for name in SETTINGS:
        tag = {"on_policy": "shared"}.get(name, name)
        out[f"rooms_grad_cosine_median_{tag}"] = cosine_median(m[name])
        if name != "on_policy":
            out[f"rooms_frac_all_learned_{name}"] = stats.fraction(all_learned(m[name]))
    out["rooms_coupling_ratio_low_J"] = median_or_nan(low_J_coupling(m["on_policy"]))
    out["rooms_coupling_ratio_any_low_J_shared"] = any_low_J_coupling(m["on_policy"])
    out["rooms_coupling_ratio_any_low_J_supervised"] = any_low_J_coupling(m["supervised"])
    out["rooms_coupling_ratio_low_J_mixture"] = median_or_nan(low_J_coupling(m["mixture"]))
    gaps = time_between_rooms(m["separate"])
    out["rooms_gap_separate"] = stats.median(gaps)
    out["rooms_frac_stalled_shared"] = stats.fraction(np.isfinite(low_J_coupling(
        m["on_policy"])))
    for K, runs in study["more"].items():                 # the room counts of ``more_K``
        for name, tag in (("on_policy", "shared"), ("separate", "separate")):
            out[f"rooms_K{K}_frac_all_learned_{tag}"] = stats.fraction(all_learned(runs[name]))
            out[f"rooms_K{K}_frac_one_at_a_time_{tag}"] = stats.fraction(
                one_at_a_time(runs[name]))
        out[f"rooms_K{K}_grad_cosine_median_shared"] = cosine_median(runs["on_policy"])
        out[f"rooms_K{K}_gap_shared"] = gap_median(runs["on_policy"])
    return out


def mixture_gain(study: dict) -> stats.Estimate:
    """Coupling ratio of the incompetent rooms, mixture over on-policy (the mixture test)."""
    m = study["main"]
    return ratio_of_medians(low_J_coupling(m["mixture"]), low_J_coupling(m["on_policy"]))


def regime(cfg) -> dict:
    """``f(0)`` stated and measured: the uniform policy's ``J_k`` (exact, ``4^-length``) and
    the mean initial ``J_k`` of the on-policy networks (exact)."""
    from ..model.deep import rooms

    env = cfg.agent_spec().env
    return {"rooms_J_uniform": float(rooms.random_policy_success(env)[0]),
            "rooms_length": env.length}


def initial_J(study: dict) -> stats.Estimate:
    """Mean initial ``J_k`` of the on-policy networks over runs and rooms (normal interval)."""
    J0 = study["main"]["on_policy"].curves[:, 0, :].mean(axis=1)
    m, lo, hi = mean_band(J0[:, None])
    return stats.Estimate(float(m[0]), float(lo[0]), float(hi[0]), J0.size, "normal")

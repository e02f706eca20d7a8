"""Chapter 09_real_logs: the detector of Sec. 4 ("How to detect it?") on noisy training logs.

Three parts, each computed when the page executes:

1. **Specificity and sensitivity**: synthetic learning curves of ``n_points`` logged
   episodes, smooth (a sigmoid, a logarithm, a square root, a rise saturating at a cap: no
   plateau after the start) or a staircase (two rises with a flat stretch between them over
   40% of the span), with noise of four shapes at each level (a share of the total
   progress): Gaussian, heavy-tailed (Student t with 3 degrees of freedom), episodic sums of
   Bernoulli rewards (binomial counts, the level their standard deviation at success 1/2) and
   Poisson counts (the level their standard deviation at the top). The false-positive rate is
   the share of smooth curves with a plateau; the detection rate the share of staircases in
   which a plateau overlaps the flat stretch; both with Wilson intervals.
2. **Real public logs**: the Stable-Baselines3 Monitor file of an agent trained by others
   (``book/data/public_logs``, with its source and licence), read by ``rayint detect``'s
   reader and detector.
3. **Where J is known**: the deep-RL chapter's rooms agent (:mod:`rayint_lib.model.deep`)
   at small size; its exact J = sum_k J_k at the checkpoints, and a noisy return logged at
   each checkpoint (the mean of ``return_episodes`` episodes, each a success or not with the
   exact probability of a start room drawn uniformly, times K); the agreement of the two
   detections (:func:`rayint_lib.model.detection.agreement`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..logs import read as read_logs
from ..model import detection, stats
from ..model.config import check_time
from ..model.params import Param, declare
from . import claims_of

NOTEBOOK = "09_real_logs"
SMOOTH = ("sigmoid", "log", "sqrt", "saturating")
NOISES = ("Gaussian", "heavy-tailed (t3)", "Bernoulli sums", "Poisson counts")
PUBLIC_LOGS = Path(__file__).resolve().parents[2] / "book" / "data" / "public_logs"
SECONDS_PER_CURVE = 0.01          # measured: detection of one 2,000-point curve, loaded host

# no statement of the paper is scored here: the page has findings (claims/09_real_logs.yaml)
CLAIMS, FINDINGS = claims_of(NOTEBOOK)


@dataclass(frozen=True)
class Settings:
    """The page's validated parameters."""

    n_curves: int
    n_points: int
    noise_levels: tuple
    rl_seeds: int
    return_episodes: int
    seed: int


PARAMS = declare(
    Param("n_curves", 25, "synthetic curves per shape, noise shape and level (specificity "
          "table)", low=2, high=100_000),
    Param("n_points", 2000, "logged episodes per synthetic curve", low=50, high=1_000_000),
    Param("noise_levels", [0.1, 0.3, 0.6], "noise standard deviations, as shares of the "
          "total progress", low=0, high=10),
    Param("rl_seeds", 8, "seeds of the rooms agent (deep-RL chapter's default shapes)", low=2,
          high=4096),
    Param("return_episodes", 64, "episodes averaged into each logged return of the rooms "
          "agent", low=1, high=100_000),
    Param("seed", 0, "seed of the numpy Generator (noise, episodes)", low=0),
)


def validate(**values) -> Settings:
    """Check every parameter (:data:`PARAMS`) before any work; -> :class:`Settings`."""
    v = PARAMS.check(values)
    n_curves, n_points, levels = v["n_curves"], v["n_points"], v["noise_levels"]
    curves = n_curves * len(levels) * len(NOISES) * (len(SMOOTH) + 1)
    check_time(f"n_curves={n_curves}, n_points={n_points}, noise_levels={levels}",
               curves * SECONDS_PER_CURVE * n_points / 2000,
               f"{curves} curves x {SECONDS_PER_CURVE} s per 2,000 points")
    return Settings(**{**v, "noise_levels": tuple(levels)})


# ----------------------------------------------------------- Part 1: specificity table

def smooth_curve(shape: str, x) -> np.ndarray:
    """A smooth rise from 0 to 1 over ``x`` in [0, 1], no plateau after the start."""
    if shape == "sigmoid":
        y = 1 / (1 + np.exp(-(x - 0.4) / 0.06))
    elif shape == "log":
        y = np.log1p(50 * x) / np.log1p(50)
    elif shape == "sqrt":
        y = np.sqrt(x)
    else:                                     # a straight rise, then held at its cap
        y = np.minimum(x / 0.6, 1.0)
    return (y - y[0]) / (y[-1] - y[0])


STAIR_FLAT = (0.3, 0.7)          # the staircase's flat stretch, as a share of the span


def staircase(x) -> np.ndarray:
    """0 -> 1/2 around x = 0.25, flat, 1/2 -> 1 around x = 0.75 (sharp rises)."""
    return 0.5 / (1 + np.exp(-(x - 0.25) / 0.008)) + 0.5 / (1 + np.exp(-(x - 0.75) / 0.008))


def noisy(y, kind: str, level: float, rng) -> np.ndarray:
    """Returns around ``y`` (0..1) with noise of ``kind`` at ``level`` (see the module doc)."""
    if level == 0:
        return y.copy()
    if kind == "Gaussian":
        return y + rng.normal(0, level, y.size)
    if kind == "heavy-tailed (t3)":
        return y + level * rng.standard_t(3, y.size) / math.sqrt(3)
    if kind == "Bernoulli sums":
        m = max(1, round(0.25 / level ** 2))      # reward chances per episode
        return rng.binomial(m, np.clip(y, 0, 1)) / m
    lam = 1 / level ** 2                          # Poisson counts, rate lam at the top
    return rng.poisson(lam * np.clip(y, 0, None)) / lam


def _found_flat(run, t) -> bool:
    a, b = t[0] + np.array(STAIR_FLAT) * (t[-1] - t[0])
    return any(min(p.end_step, b) - max(p.start_step, a) >= 0.5 * (p.end_step - p.start_step)
               for p in run.plateaus)


def specificity_table(cfg: Settings) -> pd.DataFrame:
    """One row per noise shape and level: false-positive rate on the smooth curves, detection
    rate on the staircases, share too noisy; each an :class:`~rayint_lib.model.stats.Estimate`."""
    rng = np.random.default_rng(cfg.seed)
    t = np.arange(1, cfg.n_points + 1) * 100.0
    x = (t - t[0]) / (t[-1] - t[0])
    stair = staircase(x)
    rows = []
    for kind in NOISES:
        for level in cfg.noise_levels:
            fp = noisy_runs = hits = 0
            for shape in SMOOTH:
                y = smooth_curve(shape, x)
                for _ in range(cfg.n_curves):
                    r = detection.detect(t, noisy(y, kind, level, rng), n_boot=0).runs[0]
                    fp += bool(r.plateaus)
                    noisy_runs += r.too_noisy
            n_smooth = len(SMOOTH) * cfg.n_curves
            for _ in range(cfg.n_curves):
                r = detection.detect(t, noisy(stair, kind, level, rng), n_boot=0).runs[0]
                hits += _found_flat(r, t)
                noisy_runs += r.too_noisy
            rows.append({"noise": kind, "level": level,
                         "false positives (smooth)": stats.wilson(fp, n_smooth),
                         "detected (staircase)": stats.wilson(hits, cfg.n_curves),
                         "too noisy": stats.wilson(noisy_runs, n_smooth + cfg.n_curves)})
    return pd.DataFrame(rows)


def worst(table: pd.DataFrame, column: str, best=max):
    """The row of ``table`` with the largest (or smallest) point value of ``column``."""
    i = best(range(len(table)), key=lambda j: table[column].iloc[j].value)
    return table.iloc[i]


# ----------------------------------------------------------------- Part 2: public logs

def public_runs() -> list[Path]:
    """Run folders of the shipped public logs (each with its ``SOURCE.md``)."""
    return sorted(p.parent for p in PUBLIC_LOGS.glob("*/*/*.csv"))


def public_detection():
    """``(table, detection)`` of the shipped public logs, as ``rayint detect`` reads them."""
    table = read_logs(public_runs())
    return table, detection.detect(table.steps, table.values, table.runs,
                                   run_names=table.run_names)


def run_table(result) -> pd.DataFrame:
    """One row per run: points, noise, window, band, plateaus and the start stall."""
    rows = []
    for r in result.runs:
        st = r.start_stall
        f = st["fraction"] if st["fraction"] is not None else float("nan")
        ci = st.get("fraction_ci") or (f, f)
        rows.append({"run": r.run, "episodes": r.steps.size,
                     "noise (share of progress)": round(r.noise, 3), "trend window": r.window,
                     "band": round(r.tolerance, 3), "too noisy": r.too_noisy,
                     "plateaus": len(r.plateaus),
                     "start stall (share of steps)": stats.Estimate(f, *ci)})
    return pd.DataFrame(rows)


# ------------------------------------------------------ Part 3: where J is known (rooms)

def rooms_runs(cfg: Settings):
    """The rooms agent at the deep-RL chapter's default shapes (its compiled trainer comes
    from JAX's persistent cache), ``rl_seeds`` seeds: ``(steps, exact J [runs, T], noisy
    returns [runs, T])``."""
    from ..model.deep.agent import train
    from . import deep_rl

    deep = deep_rl.validate(rl_seeds=cfg.rl_seeds, seed=cfg.seed)
    deep_rl._enable_compilation_cache()       # the deep-RL chapter's cache folder
    spec = deep.agent_spec()
    runs = train(spec, deep.rl_seeds, deep.seed)
    curves = runs.curves[:cfg.rl_seeds]                       # [runs, T, K] exact J_k
    K = curves.shape[-1]
    rng = np.random.default_rng(cfg.seed + 1)
    rooms = rng.integers(0, K, size=curves.shape[:2] + (cfg.return_episodes,))
    p = np.take_along_axis(curves, rooms, axis=-1)             # success chance per episode
    returns = K * rng.binomial(1, np.clip(p, 0, 1)).mean(axis=-1)
    return runs.steps.astype(float) + 1.0, curves.sum(axis=-1), returns


def agreement_table(rows: list) -> pd.DataFrame:
    """The agreement of the detections from returns and from the exact curves, with Wilson
    intervals over runs (plateaus over the exact curves' plateaus)."""
    n = len(rows)
    exact = sum(r["exact_plateaus"] for r in rows)
    stall = [r for r in rows if r["stall_exact"] is not None and r["stall_ci"] is not None]
    return pd.DataFrame([
        {"measure": "runs: same verdict (plateau or none)",
         "value": stats.wilson(sum(r["same_verdict"] for r in rows), n)},
        {"measure": "exact plateaus also found from returns",
         "value": stats.wilson(sum(r["exact_found"] for r in rows), exact)},
        {"measure": "runs with a plateau from returns that the exact curve lacks",
         "value": stats.wilson(sum(r["spurious"] > 0 for r in rows), n)},
        {"measure": "runs: start stall's end (exact) inside the interval from returns",
         "value": stats.wilson(sum(r["stall_covered"] for r in stall), len(stall))},
        {"measure": "runs too noisy", "value": stats.wilson(sum(r["too_noisy"] for r in rows),
                                                            n)},
    ])


def plot_public(result):
    import matplotlib.pyplot as plt

    from ..book.detect_plot import draw_runs

    fig, ax = plt.subplots(figsize=(7, 3.8))
    draw_runs(ax, result)
    ax.set_ylabel("episode return")
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def plot_rooms(steps, exact, returns, n_show=4):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n_show, figsize=(11, 3), sharey=True, squeeze=False)
    for i, ax in enumerate(axes[0][:min(n_show, len(exact))]):
        ax.plot(steps, returns[i], ".", ms=4, color="grey", label="logged return")
        ax.plot(steps, exact[i], color="black", lw=1.5, label="exact J")
        ax.set_xscale("log")
        ax.set_xlabel("update + 1 (log scale)")
        ax.set_title(f"seed {i}", fontsize=9)
    axes[0][0].set_ylabel("J (sum over rooms)")
    axes[0][0].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig

"""Chapter 04_deep_linear: deep linear networks (Sec. 3.4, Saxe et al. 2014).

The runs (:func:`run_chapter`), the chapter's numbers with their 95% intervals
(:func:`summarize`), and its claims and the book's own answer to the section's open question
(:data:`CLAIMS`, :data:`FINDINGS`, read from ``chapters/claims/04_deep_linear.yaml``); the
figures are in :mod:`.deep_linear_figures`. Every number from the random initialisations is an
:class:`~rayint_lib.model.stats.Estimate` with a bootstrap (or Wilson) interval over runs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import deep_linear as dl
from ..model.config import check_time
from ..model.deep_linear import DeepLinearConfig, Task, Trajectory
from ..model.params import Param, declare
from ..model.plateaus import plateaus
from ..model.stats import Estimate, bootstrap, fraction
from . import claims_of

NOTEBOOK = "04_deep_linear"


PARAMS = declare(
    Param("singular_values", [4.0, 1.0, 0.25],
          "singular values of Sigma_yx (well separated, largest first)", low=0, high=10,
          low_open=True),
    Param("hidden", 16, "hidden width of the two-layer network", low=1, high=512),
    Param("eta", 0.02, "step size of full-batch gradient descent (time t is eta times the step)",
          low=0, low_open=True),
    Param("init_scale", 1e-4, "std of each weight at the small random initialisation", low=0,
          high=1, low_open=True),
    Param("n_steps", 2500, "gradient steps of each run", low=10, high=1_000_000),
    Param("n_runs", 20, "independent random initialisations", low=1, high=10_000),
    Param("seed", 0, "seed of the numpy Generator (data, initialisations)", low=0),
    Param("eta_closed_form", 0.002, "small step size for the closed-form check", low=0,
          low_open=True),
    Param("aligned_strength", 1e-4, "initial strength a0 of every mode at the decoupled start",
          low=0, low_open=True),
    Param("tolerance", 0.02, "plateau detector: flatness tolerance (as in the bandit chapters)",
          low=0, high=0.5, low_open=True, high_open=True),
    Param("min_ratio", 2.0,
          "plateau detector: a plateau lasts at least a factor min_ratio in time", low=1,
          low_open=True),
)


def validate(**values) -> DeepLinearConfig:
    """Parameters of ``04_deep_linear`` (:data:`PARAMS`) -> :class:`DeepLinearConfig`, which
    checks the ranges that depend on other parameters and estimates the memory."""
    cfg = DeepLinearConfig(**PARAMS.check(values))
    check_time(f"n_runs={cfg.n_runs} x n_steps={cfg.n_steps}",
               cfg.n_runs * cfg.n_steps * RUN_STEP_SECONDS,
               "runs x steps x 0.3 ms (every start of the chapter), measured by "
               "benchmarks/estimate_rates.py")
    return cfg


# Seconds per run and step of :func:`run_chapter` (all its starts and decompositions), measured
# by ``benchmarks/estimate_rates.py`` (2.4e-4 s at 4 runs x 500 steps on 2 loaded cores, less
# for more runs), rounded up.
RUN_STEP_SECONDS = 3e-4


# ------------------------------------------------------------------------------ claims

CLAIMS, FINDINGS = claims_of(NOTEBOOK)


# -------------------------------------------------------------------------------- runs

@dataclass
class ChapterRuns:
    """Everything ``04_deep_linear`` plots and measures."""

    cfg: DeepLinearConfig
    task: Task
    closed_form: dict        # {eta: Trajectory} from the decoupled start
    random: Trajectory       # small random start, per-mode gradients by input direction
    alone_half_times: np.ndarray   # [R, N] half time of mode i trained with only mode i
    min_cosine: dict         # {decomposition: [R] min off-diagonal cosine over time}
    decoupled: Trajectory    # decoupled start at the random start's scale
    orthogonal: Trajectory   # norm-preserving start (the remedy)
    shallow: Trajectory      # one-layer network, small random start


def _min_off_diagonal(traj) -> np.ndarray:
    N = traj.s.size
    if N < 2:
        return np.full(traj.modes.shape[0], np.nan)
    off = ~np.eye(N, dtype=bool)
    return np.nanmin(traj.grad_cos[:, :, off], axis=(1, 2))


def run_chapter(cfg: DeepLinearConfig) -> ChapterRuns:
    """All runs of the chapter, from one ``numpy`` Generator seeded with ``cfg.seed``."""
    rng = np.random.default_rng(cfg.seed)
    task = dl.make_task(cfg.s, rng)
    N = task.s.size
    cf = dl.closed_form_check(task, cfg, rng)
    W1, W2 = dl.init_random(rng, cfg.n_runs, cfg.hidden, N, N, cfg.init_scale)
    rand = dl.train(W1, W2, task, cfg.eta, cfg.n_steps, decomposition="input")
    min_cos = {"input": _min_off_diagonal(rand)}
    for dec in ("output", "strength"):
        other = dl.train(W1, W2, task, cfg.eta, cfg.n_steps, decomposition=dec)
        min_cos[dec] = _min_off_diagonal(other)
    alone = np.empty((cfg.n_runs, N))
    for i in range(N):
        S = (task.U[:, [i]] * task.s[i]) @ task.V[:, [i]].T
        solo = dl.train(W1, W2, task, cfg.eta, cfg.n_steps, sigma_yx=S)
        alone[:, i] = dl.crossing_times(solo.t, solo.performance[:, :, i])
    dec = dl.train(*dl.init_decoupled_random(task, cfg.n_runs, cfg.hidden, cfg.init_scale, rng),
                   task, cfg.eta, cfg.n_steps)
    orth = dl.train(*dl.init_orthogonal(rng, cfg.n_runs, cfg.hidden, N, N), task, cfg.eta,
                    cfg.n_steps)
    Ws = cfg.init_scale * rng.standard_normal((cfg.n_runs, N, N))
    shallow = dl.train_shallow(Ws, task, cfg.eta, cfg.n_steps)
    return ChapterRuns(cfg=cfg, task=task, closed_form=cf, random=rand, alone_half_times=alone,
                       min_cosine=min_cos, decoupled=dec, orthogonal=orth, shallow=shallow)


# ----------------------------------------------------------------------------- numbers

def _resampled(fn, x) -> Estimate:
    """:func:`~rayint_lib.model.stats.bootstrap` over runs (axis 0 of ``x``) of a statistic
    ``fn`` that maps a stack of resamples ``[B, runs, ...]`` to ``[B]``."""
    return bootstrap(fn, np.asarray(x, float), stacked=True)


def _along(fn):
    """``fn`` (a numpy reduction) over every axis but the first: ``[B, runs, ...] -> [B]``."""
    return lambda v: fn(v.reshape(v.shape[0], -1), axis=1)


def _slopes(fn):
    """Pooled per-mode slopes of each resample of :func:`dl.slope_sums` rows, reduced over
    modes by ``fn``: ``[B, runs, N, 5] -> [B]``."""
    return lambda v: fn(dl.slope_from_sums(np.moveaxis(v, 0, 1)), axis=1)


def detected(t, y, cfg, raw=False):
    """Plateaus of each curve ``y [R, T+1]`` (:func:`rayint_lib.model.plateaus.plateaus`, the
    bandit chapters' detector): normalised to its start (0) and 1 = learned, points before it
    first exceeds two bands skipped; ``raw``: the curve as it is, nothing skipped."""
    if raw:
        return plateaus(t, y, tolerance=cfg.tolerance, min_ratio=cfg.min_ratio)
    return plateaus(t, y, normalise="start-to-top", tolerance=cfg.tolerance,
                    min_ratio=cfg.min_ratio, after=2 * cfg.tolerance)


def _count(plateau_lists) -> np.ndarray:
    return np.array([len(p) for p in plateau_lists])


def summarize(runs: ChapterRuns) -> dict:
    """The chapter's numbers, by their glued names. Numbers from the random initialisations
    are :class:`Estimate` s (bootstrap over runs, Wilson for fractions); the closed-form
    check and the data's correlation are plain floats."""
    cfg, task, rand = runs.cfg, runs.task, runs.random
    N = task.s.size
    errors = {eta: dl.closed_form_error(tr, cfg.aligned_strength)
              for eta, tr in runs.closed_form.items()}
    etas = sorted(errors)
    th = dl.half_times(rand)
    ordered = np.all(np.diff(th, axis=1) > 0, axis=1) if N > 1 else np.ones(cfg.n_runs, bool)
    pl = detected(rand.t, rand.progress, cfg)
    n_pl = _count(pl)
    loss_pl = _count(detected(rand.t, rand.loss_progress, cfg))
    full = [p for p in pl if len(p) == N - 1]
    durations = (np.array([[b - a for a, b, _ in p] for p in full]) if full and N > 1
                 else np.empty((0, 0)))
    regression = dl.max_regression(np.moveaxis(rand.performance, 1, -1)).max(-1)   # [R]
    alone_dev = np.nanmax(np.abs(runs.alone_half_times / th - 1), axis=1)           # [R]
    low, mid = dl.rate_at(rand, 0.01), dl.rate_at(rand, 0.5)                        # [R, N]
    deep_sums, shallow_sums = dl.slope_sums(rand), dl.slope_sums(runs.shallow)
    norm_ratio = rand.grad_norm[:, 0, 0] / rand.grad_norm[:, 0, -1]
    out = {
        "dl_hidden": cfg.hidden, "n_modes": N, "n_plateaus_expected": N - 1,
        "sigma_xx_error": float(np.abs(task.sigma_xx - np.eye(N)).max()),
        "saxe_closed_form_max_error": errors[cfg.eta_closed_form],
        "closed_form_order": dl.convergence_order(errors),
        "eta_cf_largest": etas[-1], "closed_form_error_largest": errors[etas[-1]],
        "closed_form_errors": errors,
        "fraction_ordered": fraction(ordered),
        "plateaus_per_run_min": _resampled(_along(np.min), n_pl),
        "plateaus_per_run_max": _resampled(_along(np.max), n_pl),
        "frac_runs_one_plateau_per_mode": fraction(n_pl == N - 1),
        "frac_runs_one_loss_plateau_per_mode": fraction(loss_pl == N - 1),
        "loss_plateaus_per_run_max": _resampled(_along(np.max), loss_pl),
        "plateau_durations_text": ", ".join(f"{d:.3g}" for d in durations.mean(0))
        if durations.size else "",
        **{f"plateau_duration_{k + 1}": _resampled(_along(np.mean), durations[:, k])
           for k in range(durations.shape[1] if durations.size else 0)},
        "mode_gradient_cosine_min": _resampled(_along(np.min), runs.min_cosine["input"]),
        "mode_gradient_cosine_min_output": _resampled(_along(np.min), runs.min_cosine["output"]),
        "mode_gradient_cosine_max_abs_strength":
            _resampled(_along(np.max), np.abs(runs.min_cosine["strength"])),
        "gradient_norm_ratio_start": _resampled(_along(np.median), norm_ratio),
        "mode_max_regression": _resampled(_along(np.max), regression),
        "alone_vs_together_max_dev": _resampled(_along(np.max), alone_dev),
        "rate_low_over_closed_form":
            _resampled(_along(np.nanmedian), low / dl.deep_rate(0.01, task.s)),
        "rate_low_over_mid": _resampled(_along(np.nanmedian), low / mid),
        "rate_low_over_mid_closed_form": float(dl.deep_rate(0.01, 1.0) / dl.deep_rate(0.5, 1.0)),
        "low_perf_slope_deep": _resampled(_slopes(np.nanmin), deep_sums),
        "low_perf_slope_deep_max":
            _resampled(_slopes(np.nanmax), deep_sums),
        "low_perf_slope_shallow":
            _resampled(_slopes(lambda x, axis: np.nanmax(np.abs(x), axis=axis)), shallow_sums),
        "low_perf_slope_closed_form": 1.0,
    }
    times = {}
    for name in ("random", "decoupled", "orthogonal", "shallow"):
        tr = getattr(runs, name)
        counts = _count(detected(tr.t, tr.progress, cfg))
        raw = _count(detected(tr.t, tr.progress, cfg, raw=True))
        times[name] = dl.crossing_times(tr.t, tr.progress, 0.98)
        out[f"{name}_plateaus_mean"] = _resampled(_along(np.mean), counts)
        out[f"{name}_raw_plateaus_mean"] = _resampled(_along(np.mean), raw)
        out[f"{name}_frac_with_plateau"] = fraction(counts > 0)
        out[f"{name}_frac_with_raw_plateau"] = fraction(raw > 0)
        out[f"{name}_time_to_98"] = _resampled(_along(np.nanmedian), times[name])
    out["remedy_speedup"] = _resampled(                      # paired by run index
        lambda v: np.nanmedian(v[..., 0], axis=1) / np.nanmedian(v[..., 1], axis=1),
        np.stack([times["random"], times["orthogonal"]], axis=-1))
    return out


def glued(res: dict) -> dict:
    """The values of :func:`summarize` that the prose reads (everything but dicts)."""
    return {k: v for k, v in res.items() if not isinstance(v, dict)}


def interference_answer(res: dict) -> str:
    """The book's answer to the open question, in words, from the measured values."""
    cos, reg, dev = (res["mode_gradient_cosine_min"], res["mode_max_regression"],
                     res["alone_vs_together_max_dev"])
    no = cos.low > -0.05 and reg.high < 1e-3 and dev.high < 0.1
    verdict = "No" if no else "Not ruled out"
    return (f"{verdict}: smallest cosine between per-mode gradients {cos:.2g}; largest loss of "
            f"a mode's own progress {reg:.1e} (in units of s_i); each mode alone reaches half "
            f"strength within {dev.value:.1%} of its time together with the others")

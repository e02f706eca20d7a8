"""The record of a batch of learning runs (App. A): checkpoints, stop rule and flatness.

One record for every trainer that logs ``J_k(t)`` on a checkpoint grid and stops at
``J >= K - solved_margin``: the linear-bandit engine (:mod:`.simulate`, whatever the learner
or update rule, :class:`BanditRuns`), the MLP bandit (:mod:`.deep.bandit`, also
:class:`BanditRuns`) and the rooms agent (:mod:`.deep.agent`, whose record extends
:class:`Runs`). Each holds the curves ``J_k`` at the checkpoints, the stop step, the solved
flags and the flattest plateau's flatness (the slowest progress away from the start and the
optimum, App. A). The checkpoint grid (:func:`checkpoint_steps`), the flatness window
(:func:`flattest_window`, on numpy or traced JAX arrays) and the stop rule
(:meth:`Runs.collect`) are written once here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def checkpoint_steps(max_updates, n_checkpoints, window=1):
    """Log-spaced integer update counts from 0 to ``max_updates`` (both included), in whole
    multiples of ``window`` (for trainers that look at the curve only every ``window``
    updates): ``0`` and ``window`` times the rounded ``geomspace(1, max_updates // window,
    n_checkpoints - 1)``, repeats dropped."""
    n_windows = max_updates // window
    grid = np.unique(np.round(np.geomspace(1, n_windows, n_checkpoints - 1)).astype(np.int64))
    return np.concatenate([[0], grid * window])


def start_threshold(J_start, start_margin, K):
    """The level a run must reach to have left the start zone: ``J0 + start_margin K``."""
    return J_start + start_margin * K


def flattest_window(xp, flatness, flattest, running_max, J_k, slope, counts, threshold):
    """One flatness window (App. A): the new ``(flatness, flattest, running_max)``.

    ``J_k`` ``[..., K]``: the performance at the window's end; ``slope``: the progress rate
    measured there (``|dJ/dt|`` per unit step size); ``counts``: the runs still running.
    A run's flatness is the smallest slope seen once its running max of ``J`` has reached
    ``threshold`` (:func:`start_threshold`); ``flattest`` keeps ``J_k`` where it was seen.
    ``xp``: ``numpy`` or ``jax.numpy`` (the JAX trainers call it inside their compiled
    loops, one run at a time)."""
    running_max = xp.maximum(running_max, J_k.sum(axis=-1))
    better = counts & (running_max >= threshold) & (slope < flatness)
    return (xp.where(better, slope, flatness), xp.where(better[..., None], J_k, flattest),
            running_max)


@dataclass
class Runs:
    """What a batch of runs recorded, whatever the trainer.

    ``config``: the run's settings (a :class:`~.config.BanditConfig`, an MLP or agent spec:
    any object with ``solved_margin``); ``steps``: update counts at which the curves were
    recorded, ``[T]``; ``curves``: ``J_k`` at those steps, ``[runs, T, K]`` (held at the
    final value after a run stops); ``initial``: ``J_k(theta0)``, ``[runs, K]``;
    ``stop_step``: updates done by each run; ``solved``: reached ``J >= K - solved_margin``;
    ``flatness``: slowest progress away from the start and the optimum, ``min |dJ/dt| / eta``
    (NaN if the run never left the start zone); ``flattest_J``: ``J_k`` where that slowest
    progress was measured; ``final``: ``J_k`` at the stop ``[runs, K]``; ``seconds``: wall
    time of the loop.
    """

    config: object
    steps: np.ndarray
    curves: np.ndarray
    initial: np.ndarray
    stop_step: np.ndarray
    solved: np.ndarray
    flatness: np.ndarray
    flattest_J: np.ndarray
    final: np.ndarray | None = None
    seconds: float = 0.0

    @classmethod
    def collect(cls, config, steps, curves, initial, stop_step, final, flatness, flattest_J,
                **fields):
        """The record of a trainer's raw outputs: the stop rule (solved: ``J >= K -
        solved_margin`` at the stop) and the flatness of runs that never had a window that
        counted (``inf``) as NaN."""
        K = curves.shape[-1]
        return cls(config, steps, curves, initial, stop_step,
                   final.sum(axis=1) >= K - config.solved_margin,
                   np.where(np.isinf(flatness), np.nan, flatness), flattest_J, final=final,
                   **fields)

    @property
    def K(self) -> int:
        return self.curves.shape[-1]

    def flat(self, eps=1e-5):
        """Per run: its flattest plateau has flatness ``<= eps``."""
        return np.nan_to_num(self.flatness, nan=np.inf) <= eps

    def fraction_flatter_than(self, eps):
        """Fraction of runs whose flattest plateau has flatness ``<= eps`` (Fig. 3)."""
        return float(np.mean(self.flat(eps)))


@dataclass(kw_only=True)
class BanditRuns(Runs):
    """What a batch of bandit runs recorded (:class:`Runs`), K samples per update.

    ``config`` has ``K`` and ``eta``; ``logits``: the logits at the checkpoints ``[runs, T, K,
    n]`` when recorded (each context's logits up to an additive constant), else ``None``;
    ``method``: the update rule's settings (a :class:`~.remedies.Method`) when the run used
    one.
    """

    logits: np.ndarray | None = None
    method: object = None

    @property
    def samples_to_solve(self):
        """Samples (K per update) used by each run to reach the optimum; NaN if unsolved."""
        return np.where(self.solved, self.stop_step * self.K, np.nan)

    @property
    def flatness_per_sample(self):
        """The flatness on one scale for every step size and rule: the expected ``|J-dot|``
        per sample in J units (``flatness`` is per unit step size: times ``eta``, per update,
        over ``K`` samples per update)."""
        return self.flatness * self.config.eta / self.K

    def flat_per_sample(self, eps):
        """Per run: its flattest plateau has ``flatness_per_sample <= eps``."""
        return np.nan_to_num(self.flatness_per_sample, nan=np.inf) <= eps


class FlatnessTracker:
    """Online flattest-plateau measure of a batch of learning curves (App. A).

    Every ``window`` updates, the progress rate (the expected rate ``dJ/dt`` at the visited
    state, or the slope ``(J(t) - J(t - window)) / (eta * window)`` of the curve) is
    compared with the running minimum of its absolute value, but only once the run has left
    the start zone (``max J >= J0 + start_margin * K``) and while it is not yet near the
    optimum (``active``: the runs that count at this window). O(runs) memory.
    """

    def __init__(self, config, J_start):
        self.cfg = config
        self.threshold = start_threshold(J_start, config.start_margin, config.K)
        self.previous = J_start.copy()
        self.running_max = J_start.copy()
        self.flatness = np.full(J_start.shape, np.inf)
        self.flattest = np.full(J_start.shape + (config.K,), np.nan)

    def update(self, J_k, active, rate=None):
        """Feed ``J_k`` ``[runs, K]`` at a window boundary; ``active``: runs that count.

        ``rate``: the expected progress rate at the current state (``flatness_measure =
        "expected"``); without it the slope of the recorded curve is used (``"curve"``).
        """
        J = J_k.sum(axis=1)
        if rate is None:
            slope = np.abs(J - self.previous) / (self.cfg.eta * self.cfg.window)
        else:
            slope = np.abs(rate)
        self.flatness, self.flattest, self.running_max = flattest_window(
            np, self.flatness, self.flattest, self.running_max, J_k, slope, active,
            self.threshold)
        self.previous = J

    def result(self):
        """``(flatness, flattest_J)``: ``inf`` where no window counted (:meth:`Runs.collect`
        makes it NaN)."""
        return self.flatness, self.flattest

"""The record of a batch of learning runs (App. A): checkpoints, stop rule and flatness.

One record for every run of the linear-bandit engine (:mod:`.simulate`, whatever the
learner or update rule) and, by its fields only, for any other trainer that logs ``J_k(t)``
on a checkpoint grid and stops at ``J >= K - solved_margin``: the curves ``J_k`` at the
checkpoints, the stop step, the solved flags and the flattest plateau's flatness (the
slowest progress away from the start and the optimum, App. A).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def checkpoint_steps(max_updates, n_checkpoints):
    """Log-spaced integer update counts from 0 to ``max_updates`` (both included)."""
    grid = np.unique(np.round(np.geomspace(1, max_updates, n_checkpoints - 1)).astype(np.int64))
    return np.concatenate([[0], grid])


@dataclass
class BanditRuns:
    """What a batch of runs recorded.

    ``config``: the run's settings (any object with ``K``, ``eta``, ``max_samples``, e.g. a
    :class:`~.config.BanditConfig`); ``steps``: update counts at which the curves were
    recorded, ``[T]``; ``curves``: ``J_k`` at those steps, ``[runs, T, K]`` (held at the
    final value after a run stops); ``initial``: ``J_k(theta0)``, ``[runs, K]``;
    ``stop_step``: updates done by each run; ``solved``: reached ``J >= K - solved_margin``;
    ``flatness``: slowest progress away from the start and the optimum, ``min |dJ/dt| / eta``
    (NaN if the run never left the start zone); ``flattest_J``: ``J_k`` where that slowest
    progress was measured; ``logits``: the logits at the checkpoints ``[runs, T, K, n]`` when
    recorded (each context's logits up to an additive constant), else ``None``; ``final``:
    ``J_k`` at the stop ``[runs, K]``; ``method``: the update rule's settings (a
    :class:`~.remedies.Method`) when the run used one; ``seconds``: wall time of the loop.
    """

    config: object
    steps: np.ndarray
    curves: np.ndarray
    initial: np.ndarray
    stop_step: np.ndarray
    solved: np.ndarray
    flatness: np.ndarray
    flattest_J: np.ndarray
    logits: np.ndarray | None = None
    final: np.ndarray | None = None
    method: object = None
    seconds: float = 0.0

    @property
    def K(self) -> int:
        return self.config.K

    @property
    def samples_to_solve(self):
        """Samples (K per update) used by each run to reach the optimum; NaN if unsolved."""
        return np.where(self.solved, self.stop_step * self.K, np.nan)

    def flat(self, eps=1e-5):
        """Per run: its flattest plateau has flatness ``<= eps``."""
        return np.nan_to_num(self.flatness, nan=np.inf) <= eps

    def fraction_flatter_than(self, eps):
        """Fraction of runs whose flattest plateau has flatness ``<= eps`` (Fig. 3)."""
        return float(np.mean(self.flat(eps)))

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
        self.threshold = J_start + config.start_margin * config.K
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
        self.running_max = np.maximum(self.running_max, J)
        if rate is None:
            slope = np.abs(J - self.previous) / (self.cfg.eta * self.cfg.window)
        else:
            slope = np.abs(rate)
        better = active & (self.running_max >= self.threshold) & (slope < self.flatness)
        self.flatness[better] = slope[better]
        self.flattest[better] = J_k[better]
        self.previous = J

    def result(self):
        return np.where(np.isinf(self.flatness), np.nan, self.flatness), self.flattest

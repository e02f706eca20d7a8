"""Choosing a step size on tuning runs, never on the runs that are reported (App. A, Fig. 9).

The paper leaves the optimizers' step sizes of Fig. 9 open, so each is chosen from a grid.
Choosing the best of a grid on the very runs that are then reported favours the settings
whose results vary most (the winner's curse): the chosen setting's reported value is biased
upwards, more so the noisier it is. The choice is therefore made on separate *tuning* runs,
drawn from :func:`tuning_seed` (never the reported seed), and only the reported runs at the
chosen step size are shown.
"""
from __future__ import annotations

from .stats import Estimate

TUNE_SEED_OFFSET = 1     # tuning runs use seed + 1: other starts and samples than reported


def tuning_seed(seed: int) -> int:
    """The seed of the tuning runs for a page whose reported runs use ``seed``."""
    return seed + TUNE_SEED_OFFSET


def best_step_size(solved: dict[float, Estimate], median: dict[float, Estimate]) -> float:
    """The best step size of a grid from its runs' fraction solved and median samples to
    solve (``{eta: Estimate}``, the same keys).

    The highest fraction solved wins, where step sizes whose fraction lies inside the best
    one's 95% (Wilson) interval count as tied; among those the lowest median samples to
    solve, then the highest fraction solved, then the smallest step size.
    """
    if not solved or set(solved) != set(median):
        raise ValueError(f"solved and median must have the same non-empty keys; got "
                         f"{sorted(solved)} and {sorted(median)}")
    top = max(solved.values(), key=lambda s: s.value)
    tied = [e for e, s in solved.items() if s.value >= top.low]
    return min(tied, key=lambda e: (median[e].value, -solved[e].value, e))

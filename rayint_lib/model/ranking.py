"""A fair ranking of methods run from the same starts (Sec. 4, "What makes it better?").

Every method runs on the same seeds, so its runs pair with the baseline's by start: paired
differences with bootstrap intervals, a one-sided exact McNemar test of fewer failures,
Holm's correction across the family of tests, ranks that only separate methods whose 95%
intervals are disjoint, and a step-size search on a grid widened while the best value sits
on an edge (run on tuning seeds disjoint from the reported ones).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import binom

from . import stats


def mean_difference(a, b) -> float:
    """``mean(a) - mean(b)``: the statistic of a paired difference."""
    return np.mean(a) - np.mean(b)


def paired_difference(a, b) -> stats.Estimate:
    """``mean(a) - mean(b)`` over runs paired by their start (same seed), with a bootstrap
    interval that resamples the pairs."""
    return stats.bootstrap(mean_difference, a, b)


def fewer_p_value(base_flags, flags) -> float:
    """One-sided exact McNemar test, paired by start: p-value of "the method has no fewer
    flagged runs than the baseline" (binomial tail of the discordant pairs)."""
    base_flags = np.asarray(base_flags, bool)
    flags = np.asarray(flags, bool)
    b = int(np.sum(base_flags & ~flags))
    c = int(np.sum(~base_flags & flags))
    return float(binom.sf(b - 1, b + c, 0.5)) if b + c else 1.0


def holm(p_values: dict, alpha=0.05) -> dict:
    """Holm's step-down correction: ``{key: rejected}`` at family-wise level ``alpha``."""
    order = sorted(p_values, key=p_values.get)
    out, m = {}, len(order)
    going = True
    for i, key in enumerate(order):
        going = going and p_values[key] <= alpha / (m - i)
        out[key] = going
    return out


def disjoint_below(a: stats.Estimate, b: stats.Estimate) -> bool:
    """``a``'s interval lies entirely below ``b``'s."""
    return a.high < b.low


def shrinks(control: stats.Estimate, base: stats.Estimate, share: float) -> bool:
    """A fraction shrinks to at most ``share`` of the baseline's, with 95% confidence: the
    upper end of ``control``'s interval at most ``share`` times the lower end of ``base``'s
    (the test of plateaus that *dissipate* under a control, Sec. 4, "How to detect it?")."""
    return bool(control.high <= share * base.low)


def shared_ranks(estimates: dict) -> dict:
    """``{key: rank}`` supported by the intervals: one plus the number of estimates whose
    interval lies entirely below this one's, so that overlapping intervals share a rank."""
    return {k: 1 + sum(o.high < e.low for o in estimates.values()) for k, e in estimates.items()}


def two_proportion_z(a_flags, b_flags) -> float:
    """The pooled two-proportion z statistic of two independent samples of flags."""
    a, b = np.asarray(a_flags), np.asarray(b_flags)
    return stats.two_proportion_z(a.sum(), a.size, b.sum(), b.size)


def widened_search(evaluate, grid, max_widen: int) -> tuple[float, dict]:
    """Minimise ``evaluate(x)`` (any ordered score) over ``grid``, then add ``x / 3`` or
    ``3 x`` beyond the edge while the best value sits on it, at most ``max_widen`` points
    per side; ties go to the smaller value. Returns the best value and ``{x: score}``."""
    grid = sorted(grid)
    scores = {x: evaluate(x) for x in grid}
    for _ in range(2 * max_widen):
        best = min(scores, key=lambda e: (scores[e], e))
        if best == min(scores) and sum(e < grid[0] for e in scores) < max_widen:
            new = best / 3
        elif best == max(scores) and sum(e > grid[-1] for e in scores) < max_widen:
            new = best * 3
        else:
            break
        scores[new] = evaluate(new)
    return min(scores, key=lambda e: (scores[e], e)), scores

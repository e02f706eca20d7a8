"""95% intervals for every number that comes from random runs.

Fractions get Wilson score intervals (exact Clopper-Pearson would be wider by a hair; Wilson
keeps its coverage close to 95% at the run counts used here). Medians, ratios, exponents and
counts get percentile bootstrap intervals over runs, with a seeded generator so that a page
re-executes to the same interval.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """A number from random runs with its 95% interval ``[low, high]``."""

    value: float
    low: float
    high: float
    n: int = 0              # runs (or samples) behind it
    method: str = ""        # "wilson", "bootstrap", ...

    def __format__(self, spec):
        return f"{self.value:{spec}} [{self.low:{spec}}, {self.high:{spec}}]"

    def __float__(self):
        return float(self.value)

    def contains(self, x) -> bool:
        return self.low <= x <= self.high


def wilson(successes, n, z=Z95) -> Estimate:
    """Wilson score interval of the fraction ``successes / n``."""
    if n <= 0:
        return Estimate(math.nan, math.nan, math.nan, 0, "wilson")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low, high = min(max(0.0, centre - half), p), max(min(1.0, centre + half), p)
    return Estimate(float(p), low, high, int(n), "wilson")


def fraction(flags) -> Estimate:
    """The fraction of true entries of ``flags`` (one per run), with its Wilson interval."""
    flags = np.asarray(flags, dtype=bool).ravel()
    return wilson(int(flags.sum()), flags.size)


def two_proportion_z(x1, n1, x2, n2) -> float:
    """The pooled two-proportion z statistic of ``x1 / n1`` against ``x2 / n2`` (successes out
    of independent runs); 0 when the pooled proportion is 0 or 1 (the two are equal then)."""
    p = (x1 + x2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return 0.0 if se == 0 else float((x1 / n1 - x2 / n2) / se)


def two_proportion_p(a: Estimate, b: Estimate) -> float:
    """Two-sided p-value of the pooled two-proportion z-test of ``a`` = ``b`` (two
    :func:`fraction` estimates of independent runs)."""
    z = two_proportion_z(a.value * a.n, a.n, b.value * b.n, b.n)
    return float(math.erfc(abs(z) / math.sqrt(2)))


def newcombe_difference(a: Estimate, b: Estimate) -> Estimate:
    """``a - b`` of two proportions from independent runs, with Newcombe's (1998, method 10)
    interval built from their Wilson intervals."""
    d = a.value - b.value
    low = d - math.sqrt((a.value - a.low) ** 2 + (b.high - b.value) ** 2)
    high = d + math.sqrt((a.high - a.value) ** 2 + (b.value - b.low) ** 2)
    return Estimate(float(d), float(low), float(high), a.n + b.n, "newcombe")


def bootstrap(statistic, *samples, n_boot=2000, seed=0, stacked=False) -> Estimate:
    """Percentile bootstrap of ``statistic(*samples)``, resampling runs (the first axis).

    Every array in ``samples`` has one entry per run and is resampled with the same indices,
    so ratios and fits across several per-run quantities keep their pairing. ``stacked``:
    ``statistic`` takes every resample at once (``[B, runs, ...] -> [B]``, the sample itself
    as ``B = 1``), the same draws in one call; all-NaN resamples are dropped without warnings.
    """
    samples = [np.asarray(s) for s in samples]
    n = len(samples[0])
    if any(len(s) != n for s in samples):
        raise ValueError("bootstrap: every sample needs one entry per run")
    with warnings.catch_warnings():
        if stacked:
            warnings.simplefilter("ignore", RuntimeWarning)     # all-NaN resamples: dropped
        value = float(statistic(*(s[None] for s in samples))[0] if stacked
                      else statistic(*samples))
        if n < 2:
            return Estimate(value, math.nan, math.nan, n, "bootstrap")
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, n, size=(n_boot, n))
        draws = (np.asarray(statistic(*(s[idx] for s in samples)), dtype=float) if stacked else
                 np.array([statistic(*(s[i] for s in samples)) for i in idx], dtype=float))
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return Estimate(value, math.nan, math.nan, n, "bootstrap")
    low, high = np.percentile(draws, [2.5, 97.5])
    return Estimate(value, float(low), float(high), n, "bootstrap")


def median(values, seed=0) -> Estimate:
    """Median over runs (NaN entries count as unsolved: ``inf``) with a bootstrap interval."""
    values = np.asarray(values, dtype=float)
    values = np.where(np.isnan(values), np.inf, values)
    return bootstrap(np.median, values, seed=seed)


def hull(estimates, value=None) -> Estimate:
    """One estimate for a quantity measured under several readings of an open choice: the
    smallest interval holding every reading's 95% interval (``value``: the first reading's
    unless given), so that a verdict flipping between readings comes out undecided."""
    estimates = list(estimates)
    if not estimates:
        raise ValueError("hull: needs at least one estimate")
    value = float(estimates[0].value) if value is None else float(value)
    return Estimate(value, min(float(e.low) for e in estimates),
                    max(float(e.high) for e in estimates), sum(e.n for e in estimates),
                    "hull of readings")

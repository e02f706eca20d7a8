"""Flat plateaus across bandit sizes (App. A, Fig. 7): positive transfer and more contexts.

Figure 7 runs the (K x n) bandit over a grid of sizes and counts, per size, the runs whose
flattest plateau is flatter than ``eps`` (:meth:`rayint_lib.model.record.BanditRuns.flat`).
Two effects are read off it, each a difference of fractions with a bootstrap interval over
runs (:func:`rayint_lib.model.stats.bootstrap`): more (spurious) actions at fixed K make flat
plateaus rarer, more contexts (K = n, scaled jointly) make them more likely.
"""
from __future__ import annotations

import numpy as np

from . import stats


def mean_gain(x, y) -> stats.Estimate:
    """``mean(y) - mean(x)`` of two independent samples, bootstrap over each."""
    return stats.bootstrap(_gain, x, y)


def _gain(x, y):
    return y.mean() - x.mean()


def _flags(runs: dict, eps):
    return {kn: r.flat(eps).astype(float) for kn, r in runs.items()}


def more_n_effect(runs: dict, eps) -> tuple[stats.Estimate, list]:
    """Mean over pairs ``(K, n1 < n2)`` of ``frac(K, n1) - frac(K, n2)`` (positive: more
    actions make flat plateaus rarer), bootstrap over runs; and the pairs. ``runs``:
    ``{(K, n): BanditRuns}``."""
    flags = _flags(runs, eps)
    pairs = [((k, m1), (k, m2)) for (k, m1) in flags for (k2, m2) in flags
             if k == k2 and m1 < m2]
    if not pairs:
        return stats.Estimate(np.nan, np.nan, np.nan), pairs
    a = np.stack([flags[p] for p, _ in pairs], axis=1)
    b = np.stack([flags[q] for _, q in pairs], axis=1)
    return stats.bootstrap(lambda x, y: float((x.mean(0) - y.mean(0)).mean()), a, b), pairs


def more_K_effect(runs: dict, eps) -> stats.Estimate:
    """``frac(K_max, K_max) - frac(K_min, K_min)`` along the diagonal K = n (bootstrap)."""
    diag = sorted(k for k, m in runs if k == m)
    if len(diag) < 2:
        return stats.Estimate(np.nan, np.nan, np.nan)
    flags = _flags(runs, eps)
    return mean_gain(flags[(diag[0], diag[0])], flags[(diag[-1], diag[-1])])

"""Plateau measures of learning curves (Def. 2, App. A, Sec. 3.2).

Where are the plateaus of a learning curve (Fig. 4, and the deep linear chapter)? How flat
the flattest plateau is (Fig. 3, 5, 7, 9) is measured online by the simulator
(:class:`rayint_lib.model.simulate.FlatnessTracker`).
"""
from __future__ import annotations

from collections import deque

import numpy as np

from .config import check_float


def find_plateaus(t, y, tolerance=0.02, min_ratio=2.0, min_level=None, max_level=None):
    """Plateaus of a rising curve ``y(t)`` normalised to ``[0, 1]`` (0 = start, 1 = solved).

    A plateau is a stretch of time ``[t_a, t_b]`` with ``t_b / t_a >= min_ratio`` (long on a
    log time axis, as in Fig. 4) during which ``y`` stays inside a band of width
    ``tolerance`` (``max y - min y <= tolerance``), strictly after learning has started
    (``y > min_level``, default ``tolerance``) and before it is done (``y < max_level``,
    default ``1 - tolerance``). Among overlapping
    candidates the longest on the log axis is kept (greedily), so each plateau is reported
    once, at its full length. Only points with ``t > 0`` count. Returns
    ``[(t_a, t_b, level), ...]`` in time order, ``level`` the mean of ``y`` on the plateau.
    O(len(t) log len(t)).
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if t.shape != y.shape or t.ndim != 1:
        raise ValueError("t and y must be 1-d arrays of the same length; "
                         f"got shapes {t.shape} and {y.shape}")
    check_float("tolerance", tolerance, 0, 0.5, low_open=True, high_open=True)
    check_float("min_ratio", min_ratio, 1, None, low_open=True)
    min_level = tolerance if min_level is None else check_float("min_level", min_level)
    max_level = 1 - tolerance if max_level is None else check_float("max_level", max_level)
    keep = (t > 0) & np.isfinite(y)
    t, y = t[keep], y[keep]
    end = _band_ends(y, tolerance, (y > min_level) & (y < max_level))
    start = np.flatnonzero(end >= 0)
    ratio = t[end[start]] / t[start]
    good = ratio >= min_ratio
    start, ratio = start[good], ratio[good]
    taken = np.zeros(t.size, dtype=bool)
    plateaus = []
    for i in start[np.lexsort((start, -ratio))]:           # longest (on a log axis) first
        k = end[i]
        if taken[i:k + 1].any():
            continue
        taken[i:k + 1] = True
        plateaus.append((float(t[i]), float(t[k]), float(y[i:k + 1].mean())))
    return sorted(plateaus)


def _band_ends(y, width, inside):
    """``end[i]``: the last ``k`` with ``y[i..k]`` all ``inside`` and ``max - min <= width``
    (``-1`` where ``y[i]`` is not inside). Two pointers with monotone deques, O(len(y))."""
    n = y.size
    end = np.full(n, -1, dtype=np.int64)
    hi, lo = deque(), deque()      # indices of the window's running max / min candidates
    k = -1                         # the window is y[i..k]
    for i in range(n):
        while hi and hi[0] < i:
            hi.popleft()
        while lo and lo[0] < i:
            lo.popleft()
        if not inside[i]:
            continue
        k = max(k, i - 1)
        while k + 1 < n and inside[k + 1]:
            v = y[k + 1]
            top = max(v, y[hi[0]]) if hi else v
            bottom = min(v, y[lo[0]]) if lo else v
            if top - bottom > width:
                break
            k += 1
            while hi and y[hi[-1]] <= v:
                hi.pop()
            hi.append(k)
            while lo and y[lo[-1]] >= v:
                lo.pop()
            lo.append(k)
        end[i] = k
    return end


NORMALISATIONS = ("sample", "log_time")


def log_rate_plateaus(t, y, prominence=1.0, n_grid=200, span=2, normalise="sample",
                      min_level=None, max_level=None, floor=1e-12):
    """Plateaus of a rising curve ``y(t)`` as deep minima of its log progress rate (Sec. 3.2).

    ``y`` is interpolated (linearly in ``log t``) onto ``n_grid`` log-spaced times between
    its first positive and its last time; the rate is the secant slope over ``2 span`` grid
    steps, per sample (``normalise="sample"``: ``|dy/dt|``) or per unit of log time
    (``"log_time"``: ``t |dy/dt|``), floored at ``floor``. A plateau is a local minimum of
    ``log10`` of the rate with a topographic prominence of at least ``prominence`` decades,
    while ``min_level < y < max_level`` (defaults: the range of ``y`` less 5% at each end).
    Unlike :func:`find_plateaus` no band width is needed: a staircase whose steps keep
    creeping upwards still shows one minimum per step. Returns ``[(t_min, rate, depth), ...]``
    in time order: the time of the minimum, the rate there and its prominence in decades.
    """
    from scipy.signal import find_peaks

    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if t.shape != y.shape or t.ndim != 1:
        raise ValueError("t and y must be 1-d arrays of the same length; "
                         f"got shapes {t.shape} and {y.shape}")
    check_float("prominence", prominence, 0, None, low_open=True)
    if normalise not in NORMALISATIONS:
        raise ValueError(f"normalise must be one of {NORMALISATIONS}; got {normalise!r}")
    if int(n_grid) < 4 * span + 3 or span < 1:
        raise ValueError(f"n_grid must be at least 4 span + 3 and span >= 1; got n_grid="
                         f"{n_grid}, span={span}")
    keep = (t > 0) & np.isfinite(y)
    t, y = t[keep], y[keep]
    if t.size < 2:
        return []
    lo_y, hi_y = float(y.min()), float(y.max())
    min_level = lo_y + 0.05 * (hi_y - lo_y) if min_level is None else min_level
    max_level = hi_y - 0.05 * (hi_y - lo_y) if max_level is None else max_level
    grid = np.geomspace(t[0], t[-1], int(n_grid))
    g = np.interp(np.log(grid), np.log(t), y)
    rate = np.abs(g[2 * span:] - g[:-2 * span]) / (grid[2 * span:] - grid[:-2 * span])
    mid, level = grid[span:-span], g[span:-span]
    if normalise == "log_time":
        rate = rate * mid
    log_rate = np.log10(np.maximum(rate, floor))
    idx, props = find_peaks(-log_rate, prominence=prominence)
    inside = (level[idx] > min_level) & (level[idx] < max_level)
    return [(float(mid[i]), float(rate[i]), float(p))
            for i, p in zip(idx[inside], props["prominences"][inside])]

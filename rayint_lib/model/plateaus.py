"""Plateaus of learning curves of any origin (Def. 2, App. A, Sec. 3.2, Sec. 3.4).

Where are the plateaus of a learning curve (Fig. 4, the deep linear chapter, logged returns)?
:func:`plateaus` is the one entry: it brings each curve to the unit scale of its progress
(:func:`unit_scale`; 0 = the start, 1 = solved) and finds the stretches that stay in a band
(:func:`find_plateaus`). The detector of training logs (:mod:`rayint_lib.model.detection`)
normalises with the same :func:`unit_scale` and searches its noisy trends with the same
search (:func:`band_stretches`, with its noise-aware tests in
:func:`rayint_lib.model.trend.flat_stretches`). :func:`log_rate_plateaus` is a second
detector (minima of the log progress rate). How flat the flattest plateau is (Figs. 3, 5, 7,
9) is measured online by the simulator (:class:`rayint_lib.model.simulate.FlatnessTracker`).
"""
from __future__ import annotations

import numpy as np

from .config import check_choice, check_float

SCALES = ("none", "start-to-top", "start-to-best")   # how plateaus() normalises a curve


def unit_scale(y, start, top):
    """``(y - start) / (top - start)``: 0 at ``start``, 1 at ``top`` (the unit scale of a
    curve's progress on which plateaus are looked for, Sec. 3.2)."""
    return (y - start) / (top - start)


def from_unit_scale(u, start, top):
    """The inverse of :func:`unit_scale`: ``start + u (top - start)``, in the curve's units."""
    return start + u * (top - start)


def plateaus(t, y, *, normalise="none", top=1.0, tolerance=0.02, min_ratio=2.0,
             min_level=None, max_level=None, after=None, curve_units=False):
    """Plateaus of each curve ``y`` (``[T]`` or ``[runs, T]``) over times ``t`` ``[T]``.

    ``normalise``: ``"none"`` (``y`` is already on the unit scale), ``"start-to-top"`` (0 =
    the curve's first value, 1 = ``top``, e.g. ``K - solved_margin`` for the bandit's ``J``)
    or ``"start-to-best"`` (1 = the curve's largest value). ``tolerance``, ``min_level`` and
    ``max_level`` are on the unit scale, or with ``curve_units`` in the curve's units (the
    levels above its start), divided by each curve's span ``top - start`` (the tolerance kept
    below 0.49).
    ``after``: points before the normalised curve first exceeds this level are dropped (on a
    log time axis every curve is flat at its start: a concave start just above the band
    passes the test at the first steps; the skip keeps "learning has started" with margin).
    Returns per curve ``[(t_a, t_b, level), ...]`` (:func:`find_plateaus`), ``level`` in the
    curve's units; a list of such lists for ``[runs, T]``.
    """
    check_choice("normalise", normalise, SCALES)
    t = np.asarray(t, dtype=float)
    ys = np.asarray(y, dtype=float)
    out = []
    for yr in np.atleast_2d(ys):
        start = yr[0] if normalise != "none" else 0.0
        high = {"none": 1.0, "start-to-top": top, "start-to-best": np.nanmax(yr)}[normalise]
        span = high - start
        yn = yr if normalise == "none" else unit_scale(yr, start, high)
        tol, lo, hi = tolerance, min_level, max_level
        if curve_units:
            tol = min(tolerance / span, 0.49)
            lo = None if min_level is None else min_level / span
            hi = None if max_level is None else max_level / span
        k = 0
        if after is not None:
            k = int(np.argmax(yn > after)) if np.any(yn > after) else yn.size
        found = find_plateaus(t[k:], yn[k:], tol, min_ratio, lo, hi)
        out.append(found if normalise == "none" else
                   [(a, b, from_unit_scale(level, start, high)) for a, b, level in found])
    return out if ys.ndim == 2 else out[0]


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
    found = band_stretches(y, tolerance, (y > min_level) & (y < max_level),
                           lambda i, k: t[k] / t[i], min_ratio)
    return [(float(t[i]), float(t[k]), float(y[i:k + 1].mean())) for i, k in found]


def band_stretches(y, tolerance, inside, length, min_length, *, keep=None, stride=1):
    """The plateau search behind every detector of the book: the longest-first
    non-overlapping stretches ``(i, k)`` of ``y`` whose points are all ``inside`` and within a
    band of width ``tolerance``, with ``length(i, k) >= min_length`` and, if given,
    ``keep(i, k)`` (both called with every candidate: each start and its furthest end). The
    band is searched from every ``stride``-th point. Returns ``[(i, k), ...]`` in time order.
    """
    grid = np.arange(0, y.size, stride)
    end = band_ends(y[grid], tolerance, inside[grid])
    i, k = grid[end >= 0], grid[end[end >= 0]]
    size = length(i, k)
    good = size >= min_length
    if keep is not None and i.size:
        good &= keep(i, k)
    return longest_first(i[good], k[good], size[good], y.size)


def longest_first(i, k, length, n):
    """Greedy choice among candidate stretches ``[i[j], k[j]]`` of ``n`` points: the longest
    (``length``; ties: the earliest) first, skipping any that overlaps one already taken.
    Returns the chosen ``(i, k)`` in time order."""
    taken = np.zeros(n, dtype=bool)
    out = []
    for a in np.lexsort((i, -length)):
        s, e = int(i[a]), int(k[a])
        if taken[s:e + 1].any():
            continue
        taken[s:e + 1] = True
        out.append((s, e))
    return sorted(out)


def band_ends(y, tolerance, inside, starts=None) -> np.ndarray:
    """``end[j]``: the last ``k`` with ``y[i..k]`` all ``inside`` and ``max - min <=
    tolerance`` for ``i = starts[j]`` (every index by default; ``-1`` where ``y[i]`` is not
    inside). Sparse tables of running maxima and minima and binary lifting, all starts at
    once: O(n log n) in numpy."""
    y = np.asarray(y, dtype=float)
    n = y.size
    hi = np.where(inside, y, np.inf)
    lo = np.where(inside, y, -np.inf)
    tables = [(hi, lo)]
    while (1 << len(tables)) <= n:
        h, l_ = tables[-1]
        s = 1 << (len(tables) - 1)
        tables.append((np.maximum(h[:-s], h[s:]), np.minimum(l_[:-s], l_[s:])))
    pos = np.arange(n) if starts is None else np.asarray(starts)
    first = pos
    cur_hi, cur_lo = hi[pos], lo[pos]
    for j in range(len(tables) - 1, -1, -1):
        h, l_ = tables[j]
        nxt = pos + 1
        ok = nxt < h.size
        idx = np.where(ok, nxt, 0)
        new_hi = np.maximum(cur_hi, h[idx])
        new_lo = np.minimum(cur_lo, l_[idx])
        ok &= (new_hi - new_lo) <= tolerance
        pos = np.where(ok, pos + (1 << j), pos)
        cur_hi = np.where(ok, new_hi, cur_hi)
        cur_lo = np.where(ok, new_lo, cur_lo)
    return np.where(inside[first], pos, -1)


RATES = ("sample", "log_time")      # log_rate_plateaus: the rate per sample or per log time


def log_rate_plateaus(t, y, prominence=1.0, n_grid=200, span=2, rate="sample",
                      min_level=None, max_level=None, floor=1e-12):
    """Plateaus of a rising curve ``y(t)`` as deep minima of its log progress rate (Sec. 3.2).

    ``y`` is interpolated (linearly in ``log t``) onto ``n_grid`` log-spaced times between
    its first positive and its last time; the rate is the secant slope over ``2 span`` grid
    steps, per sample (``rate="sample"``: ``|dy/dt|``) or per unit of log time
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
    check_choice("rate", rate, RATES)
    if int(n_grid) < 4 * span + 3 or span < 1:
        raise ValueError(f"n_grid must be at least 4 span + 3 and span >= 1; got n_grid="
                         f"{n_grid}, span={span}")
    keep = (t > 0) & np.isfinite(y)
    t, y = t[keep], y[keep]
    if t.size < 2:
        return []
    lo_y, hi_y = float(y.min()), float(y.max())
    min_level = from_unit_scale(0.05, lo_y, hi_y) if min_level is None else min_level
    max_level = from_unit_scale(0.95, lo_y, hi_y) if max_level is None else max_level
    grid = np.geomspace(t[0], t[-1], int(n_grid))
    g = np.interp(np.log(grid), np.log(t), y)
    speed = np.abs(g[2 * span:] - g[:-2 * span]) / (grid[2 * span:] - grid[:-2 * span])
    mid, level = grid[span:-span], g[span:-span]
    if rate == "log_time":
        speed = speed * mid
    log_rate = np.log10(np.maximum(speed, floor))
    idx, props = find_peaks(-log_rate, prominence=prominence)
    inside = (level[idx] > min_level) & (level[idx] < max_level)
    return [(float(mid[i]), float(speed[i]), float(p))
            for i, p in zip(idx[inside], props["prominences"][inside])]

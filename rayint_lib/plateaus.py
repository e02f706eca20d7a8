"""Plateau measures of learning curves (Def. 2, App. A, Sec. 3.2).

Two questions are asked of a curve: *how flat is its flattest plateau* (Fig. 3, 5, 7, 9),
and *where are its plateaus* (Fig. 4, and the deep linear chapter).
"""
from __future__ import annotations

import numpy as np


def curve_flatness(J, eta, window, J0, K, start_margin=0.05, solved_margin=0.1):
    """Flatness of the flattest plateau of a learning curve (App. A), per curve.

    ``J``: total performance after each update, ``[..., T + 1]`` (index 0 = start). The
    slowest progress ``|J(t) - J(t - window)| / (eta * window)`` ("normalised to factor out
    the step size"), ignoring the start (until ``J`` first reaches ``J0 + start_margin * K``)
    and the optimum (once ``J >= K - solved_margin`` the run has stopped). NaN where no
    window qualifies. This is the offline twin of the simulator's online measure with
    ``flatness_measure="curve"``.
    """
    J = np.asarray(J, dtype=float)
    idx = np.arange(window, J.shape[-1], window)
    prev, cur = J[..., idx - window], J[..., idx]
    started = np.maximum.accumulate(J, axis=-1)[..., idx] >= J0 + start_margin * K
    running = prev < K - solved_margin
    slope = np.abs(cur - prev) / (eta * window)
    slope = np.where(started & running, slope, np.inf)
    out = slope.min(axis=-1) if slope.shape[-1] else np.full(J.shape[:-1], np.inf)
    return np.where(np.isinf(out), np.nan, out)


def find_plateaus(t, y, tolerance=0.02, min_ratio=2.0):
    """Plateaus of a rising curve ``y(t)`` normalised to ``[0, 1]`` (0 = start, 1 = solved).

    A plateau is a maximal stretch of time ``[t_a, t_b]`` with ``t_b / t_a >= min_ratio``
    (long on a log time axis, as in Fig. 4) during which ``y`` stays within ``tolerance`` of
    its value at ``t_a``, strictly after learning has started (``y > tolerance``) and before
    it is done (``y < 1 - tolerance``). Returns ``[(t_a, t_b, level), ...]`` in time order.
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = t > 0
    t, y = t[keep], y[keep]
    plateaus = []
    i = 0
    n = t.size
    while i < n:
        if not (tolerance < y[i] < 1 - tolerance):
            i += 1
            continue
        j = i
        while j + 1 < n and abs(y[j + 1] - y[i]) <= tolerance and y[j + 1] < 1 - tolerance:
            j += 1
        if t[j] / t[i] >= min_ratio:
            plateaus.append((float(t[i]), float(t[j]), float(y[i:j + 1].mean())))
            i = j + 1
        else:
            i += 1
    return plateaus

"""The trend of a noisy learning curve and the flat stretches in it (Sec. 4, "How to detect
it?", applied to logged episode returns).

Episode returns scatter around the expected return J(theta_t) that the paper's curves show.
The detector (:mod:`rayint_lib.model.detection`) therefore looks for plateaus in a *trend*:
the moving average of ``w`` consecutive logged points, with ``w`` chosen from the noise.

- ``noise_sd``: the per-point noise from second differences (``1.4826 MAD(d2) / sqrt(6)``,
  the standard deviation for white noise, blind to smooth trends); where more than half the
  second differences are exactly zero (episodic sums of rare Bernoulli rewards), the root
  mean square of the second differences without their top 1% (the jumps of a staircase);
  the upper quartile over 20 blocks of the curve (noise that changes along it).
- the window: ``w = 1`` (the raw curve) when ``noise_factor x noise <= min_tolerance``
  (noise below the floor of the band), else the ``w`` that brings ``noise_factor x noise /
  sqrt(w)`` down to the floor, at most a quarter of the points of the shortest plateau the
  detector looks for (so that such a plateau keeps three quarters of its length).
- the band a plateau stays in: ``tolerance = max(min_tolerance, f x noise / sqrt(w))``,
  ``f = noise_factor`` for the raw curve (``w = 1``; 6 holds a few hundred Gaussian points),
  else the range of the ``N`` independent values a shortest plateau holds after smoothing
  (``N = points / w``, ``f = 2 sqrt(2 ln N) + 1``, at most ``noise_factor``); a run is too
  noisy when it reaches 0.25 (no room is left between the levels ``2 x tolerance`` and
  ``1 - 2 x tolerance`` where plateaus are looked for).
- intervals: a moving-block bootstrap over episodes (:func:`bootstrap`: the trend plus
  resampled block means of the residuals, at the resolution of the window); where a
  replicate leaves the plateau's band gives the interval of the start and the end, its mean
  over the plateau's middle half the level's.

Everything here works on curves already scaled to their progress (normalised), so that no
intermediate can overflow whatever the scale of the logged values.
"""
from __future__ import annotations

import math

import numpy as np

from .plateaus import band_stretches

TOO_NOISY = 0.25        # a band this wide leaves no level where a plateau could be told


def _sd_d2(d2) -> np.ndarray:
    """Noise from the second differences of each row of ``d2`` (see the module doc)."""
    med = np.median(d2, axis=-1, keepdims=True)
    mad = np.median(np.abs(d2 - med), axis=-1)
    out = 1.4826 * mad / math.sqrt(6)
    rms = (mad == 0) & (np.count_nonzero(d2, axis=-1) > 0)
    if np.any(rms):                      # discrete returns: the trimmed root mean square
        keep = max(1, int(math.ceil(0.99 * d2.shape[-1])))
        a = np.sort(np.abs(d2), axis=-1)[..., :keep]
        out = np.where(rms, np.sqrt(np.mean(a * a, axis=-1) / 6), out)
    return out


def noise_sd(y, blocks: int = 20) -> float:
    """Per-point noise of a curve (see the module doc); 0 for smooth curves. The noise of
    episode returns changes along the curve (a success rate near 0 or 1 barely scatters):
    from 60 points on, the estimate is the upper quartile of the estimates in ``blocks``
    consecutive blocks, so that the noisiest stretches set the band."""
    y = np.asarray(y, dtype=float)
    if y.size < 3:
        return 0.0
    d2 = np.diff(y, 2)
    if d2.size < 3 * blocks:
        return float(_sd_d2(d2))
    size = d2.size // blocks
    return float(np.percentile(_sd_d2(d2[: size * blocks].reshape(blocks, size)), 75))


def smooth(y, w: int) -> np.ndarray:
    """Centred moving average of ``w`` points (fewer at the ends), along the last axis."""
    y = np.asarray(y, dtype=float)
    if w <= 1:
        return y.copy()
    n = y.shape[-1]
    c = np.concatenate([np.zeros(y.shape[:-1] + (1,)), np.cumsum(y, axis=-1)], axis=-1)
    i = np.arange(n)
    lo = np.clip(i - w // 2, 0, n)
    hi = np.clip(i - w // 2 + w, 0, n)
    return (c[..., hi] - c[..., lo]) / (hi - lo)


def window(noise: float, noise_factor: float, min_tolerance: float, max_window: int) -> int:
    """Moving-average window for a curve with per-point ``noise`` (normalised units)."""
    need = noise_factor * noise / min_tolerance
    if need <= 1:
        return 1
    return int(max(1, min(max_window, math.ceil(need * need))))


def band_factor(noise_factor, w, plateau_points) -> float:
    """How many noise standard deviations the band holds: ``noise_factor`` for the raw
    curve; for a trend of window ``w``, the range of ``N = plateau_points / w`` independent
    Gaussian values (about ``2 sqrt(2 ln N)``) plus one, at most ``noise_factor``."""
    if w <= 1:
        return noise_factor
    n = max(2.0, plateau_points / w)
    return min(noise_factor, 2 * math.sqrt(2 * math.log(n)) + 1)


def band_tolerance(noise, noise_factor, min_tolerance, w, plateau_points) -> float:
    """The band a plateau stays in (see the module doc)."""
    f = band_factor(noise_factor, w, plateau_points)
    return max(min_tolerance, f * noise / math.sqrt(w))


def smallest_plateau_points(noise, noise_factor, min_points) -> int:
    """The fewest logged points a plateau needs to be told from ``noise``: four windows of
    the ``w`` at which the band falls below :data:`TOO_NOISY`."""
    f = band_factor(noise_factor, 2, 8)
    w = math.floor((f * noise / TOO_NOISY) ** 2) + 1
    return max(min_points, 4 * w)


def rises(tt, raw, i, k):
    """Least-squares rise of ``raw`` over ``tt`` across each stretch ``[i[j], k[j]]``
    (slope times duration), from prefix sums: all stretches at once."""
    fin = np.isfinite(tt)
    x = np.where(fin, tt - (tt[fin][0] if fin.any() else 0.0), 0.0)
    c = [np.concatenate([[0.0], np.cumsum(a)]) for a in (np.ones_like(x), x, raw, x * raw,
                                                           x * x)]
    n, sx, sy, sxy, sxx = (a[k + 1] - a[i] for a in c)
    var = sxx - sx * sx / np.maximum(n, 1)
    slope = np.where(var > 0, (sxy - sx * sy / np.maximum(n, 1)) / np.where(var > 0, var, 1),
                     0.0)
    return slope * (x[k] - x[i])


def left(tt, y, k, tolerance, min_length) -> np.ndarray:
    """Whether the stretches ending at ``k`` are left by a stage of learning: the trend's
    running maximum climbs from 1.5 to 3 bands above ``y[k]`` within one ``min_length`` (a
    concave curve that keeps creeping up is not plateaued; a plateau whose band noise broke
    in two is still left by the rise after its second piece). Stretches ending at the last
    point count as left (open)."""
    top = np.maximum.accumulate(y)
    j1 = np.searchsorted(top, y[k] + 1.5 * tolerance, side="left")
    j2 = np.searchsorted(top, y[k] + 3 * tolerance, side="left")
    n = y.size
    quick = (j2 < n) & (tt[np.minimum(j2, n - 1)] - tt[np.minimum(j1, n - 1)] <= min_length)
    return (k == n - 1) | quick


def flat_stretches(tt, y, tolerance, min_length, min_level, max_level, min_points, raw=None,
                   noise=0.0, stride=1):
    """Longest-first non-overlapping stretches ``(i, k)`` of ``y`` in a band of width
    ``tolerance`` between the levels, lasting ``tt[k] - tt[i] >= min_length`` (``tt``: the
    time axis, log steps on a log axis) with at least ``min_points`` points; with ``raw``
    (the curve before smoothing, per-point ``noise``), only stretches whose least-squares
    rise in ``raw`` is at most ``max(tolerance / 2, 2 se)``, ``se = noise sqrt(12 / m)`` the
    standard error of the rise over ``m`` evenly spread points: a slowly rising curve whose
    trend noise happens to stay inside the band is not flat. A plateau is *left*
    (:func:`left`) unless it lasts to the last point (then it is reported as open). The band
    is searched on every ``stride``-th point (a trend of window ``w`` varies little within
    ``w / 4`` points)."""
    def keep(i, k):
        ok = k - i + 1 >= min_points
        # a start whose stretch ends where its predecessor's does is inside that one: drop it
        ok[1:] &= k[1:] != k[:-1]
        ok &= left(tt, y, k, tolerance, min_length)
        if raw is not None:
            se = noise * np.sqrt(12.0 / (k - i + 1))
            ok &= np.abs(rises(tt, raw, i, k)) <= np.maximum(tolerance / 2, 2 * se)
        return ok

    return band_stretches(y, tolerance, (y > min_level) & (y < max_level),
                          lambda i, k: tt[k] - tt[i], min_length, keep=keep, stride=stride)


def bootstrap(y, trend, w, n_boot, rng, smoothed=None):
    """``n_boot`` bootstrap replicates of the trend, on a grid of blocks: the curve is cut
    into blocks of ``b = max(w, 3)`` consecutive points; a replicate's trend at a block's
    centre is the trend there plus the mean residual (``y`` minus its ``b``-point moving
    average) of a block drawn at random, with replacement (a moving-block bootstrap over
    episodes, at the resolution of the window; ``smoothed``: that moving average, when the
    caller has it). Returns ``(centre indices [nb], replicates [n_boot, nb])``."""
    b = max(w, 3)
    n = y.size
    nb = max(1, n // b)
    smoothed = smooth(y, b) if smoothed is None else smoothed
    resid = (y - smoothed)[: nb * b].reshape(nb, b).mean(axis=1)
    centres = np.minimum(np.arange(nb) * b + b // 2, n - 1)
    draws = resid[rng.integers(0, nb, size=(n_boot, nb))]
    return centres, trend[centres] + draws


def edges(sm, core, band_lo, band_hi):
    """Per replicate row of ``sm``: the first and last index of the run of points inside
    ``[band_lo, band_hi]`` that holds index ``core`` (``core`` itself when it is outside)."""
    out_b = (sm < band_lo) | (sm > band_hi)
    left = out_b[:, :core + 1][:, ::-1]
    right = out_b[:, core:]
    first = np.where(left.any(axis=1), core - np.argmax(left, axis=1) + 1, 0)
    last = np.where(right.any(axis=1), core + np.argmax(right, axis=1) - 1, sm.shape[1] - 1)
    first = np.minimum(first, core)
    last = np.maximum(last, core)
    return first, last


def first_exceeding(sm, level) -> np.ndarray:
    """Per row of ``sm``: the first index at or above ``level`` (the row's length if none)."""
    above = sm >= level
    return np.where(above.any(axis=-1), np.argmax(above, axis=-1), sm.shape[-1])

"""App. A's numerics: how much a plateau slows learning (Fig. 8), which plateau a random start
meets (Fig. 5).

Deterministic (expected-update, continuous-time) dynamics of the 2x2 bandit, Eqs. (1)-(2),
in the paper's *reduced* parameters (``theta1, theta2, theta3``; see :mod:`.dynamics`).
The simulator trains the full ``(W, b)`` instead, where every rate is twice as large: a
flatness ``eps`` here is ``2 eps`` there and a time ``T`` here takes ``T / (2 eta)`` updates
there (``T / eta`` in the reduced form). Ratios of times do not depend on that factor.

Orbits are integrated by :func:`rayint_lib.model.dynamics.follow_orbits`, in logit coordinates
where the field is smooth and bounded, so that the very flat plateaus near the saddles are
followed accurately. The simulator's runs give the same reading from a scatter of runs
(:func:`eps_at_slowdown_scatter`, with a bootstrap interval).
"""
from __future__ import annotations

import math

import numpy as np

from .bandit import initial_logits, right_arm_probs
from .config import check_float, check_int
from .dynamics import flatness_on_antidiagonal, follow_orbits, plateau_intervals
from .stats import Estimate


def orbits(J1, J2, J_end=1.9, ds=0.05, max_length=400.0):
    """Follow the deterministic on-policy flow (Eqs. 1-2) from each start ``(J1, J2)``.

    Vectorised RK4 in logit space, parametrised by arc length ``s`` (so a plateau costs no
    integration steps), with the elapsed time ``t`` carried along (``dt/ds = 1 / speed``).
    Returns a dict of arrays shaped like the starts: ``time`` to reach ``J1 + J2 >= J_end``
    (reduced continuous time; NaN if not reached within ``max_length``), ``cross_J1`` where
    the orbit crosses the anti-diagonal ``J1 + J2 = 1`` (NaN if it starts beyond it), ``eps``
    the flatness ``Jdot`` there (Sec. 2.3), and ``plateau``: whether that crossing is a
    plateau (``P6 < 0``, App. B.2), i.e. within ``a`` of a corner.
    """
    run = follow_orbits(J1, J2, J_end=J_end, ds=ds, max_length=max_length)
    cross = run["cross_J1"]
    a = plateau_intervals()
    return {"time": run["time"], "cross_J1": cross, "eps": flatness_on_antidiagonal(cross),
            "plateau": (cross <= a) | (cross >= 1 - a)}


def balanced_time(J0, J_end=1.9):
    """Reduced time along the diagonal ``J1 = J2 = u`` from ``J0/2`` to ``J_end/2`` (Fig. 8,
    dashed).

    On the diagonal ``udot = q(u)^2``, so ``T = F(J_end/2) - F(J0/2)`` with
    ``F(u) = -1/u + 1/(1-u) + 2 log(u / (1-u))``.
    """
    check_float("J0", J0, 0, J_end, low_open=True, high_open=True)
    check_float("J_end", J_end, 0, 2, low_open=True, high_open=True)

    def F(u):
        return -1 / u + 1 / (1 - u) + 2 * np.log(u / (1 - u))

    return float(F(J_end / 2) - F(J0 / 2))


def to_steps(time, eta, parameters="full"):
    """Updates of step size ``eta`` that a reduced continuous time ``time`` corresponds to.

    ``parameters="reduced"``: the paper's 3-parameter form, ``time / eta``;
    ``"full"``: the simulator's ``(W, b)``, where rates are doubled, ``time / (2 eta)``.
    """
    check_float("eta", eta, 0, None, low_open=True)
    if parameters not in ("full", "reduced"):
        raise ValueError(f"parameters must be 'full' or 'reduced'; got {parameters!r}")
    return np.asarray(time) / (eta * (2.0 if parameters == "full" else 1.0))


def slowdown_curve(J0=0.2, J_end=1.9, n_points=100, min_share=1e-4):
    """Fig. 8 under the ODE: starts on ``J1 + J2 = J0`` from balanced to very imbalanced.

    ``J1 = (J0/2) * s`` with ``s`` log-spaced in ``[min_share, 1]`` (``s = 1`` is the balanced
    start). Returns a dict of arrays: ``J1``, ``J2``, ``eps`` (reduced units), ``time`` and
    ``ratio = time / balanced_time``, ordered from flattest to balanced.
    """
    check_int("n_points", n_points, 2)
    check_float("min_share", min_share, 0, 1, low_open=True, high_open=True)
    share = np.geomspace(min_share, 1.0, n_points)
    J1 = J0 / 2 * share
    J2 = J0 - J1
    o = orbits(J1, J2, J_end)
    return {"J1": J1, "J2": J2, "eps": o["eps"], "time": o["time"],
            "ratio": o["time"] / balanced_time(J0, J_end), "plateau": o["plateau"]}


def eps_at_slowdown(curve, factor=10.0):
    """The flatness at which learning is ``factor`` times slower than the balanced run (Fig. 8).

    Log-log interpolation of ``ratio(eps)`` from :func:`slowdown_curve` (monotone: flatter
    plateaus cost more). Same units as ``curve["eps"]``.
    """
    check_float("factor", factor, 1, None, low_open=True)
    le, lr = np.log(curve["eps"]), np.log(curve["ratio"])
    order = np.argsort(lr)
    if not (lr.min() <= np.log(factor) <= lr.max()):
        raise ValueError(f"factor {factor} outside the curve's range of slowdowns "
                         f"[{np.exp(lr.min()):.3g}, {np.exp(lr.max()):.3g}]")
    return float(np.exp(np.interp(np.log(factor), lr[order], le[order])))


def fit_slowdown_exponent(eps, extra_time, eps_min=1e-12, eps_max=1e-5):
    """Least-squares ``b`` in ``extra_time ~ C eps^(-b)`` on ``eps_min <= eps <= eps_max``.

    The paper's "a plateau of flatness eps costs O(1/eps) steps" (Sec. 2.3) is an upper bound,
    ``b <= 1``. Returns ``(b, C)``.
    """
    eps, extra_time = np.asarray(eps, float), np.asarray(extra_time, float)
    keep = (eps >= eps_min) & (eps <= eps_max) & (extra_time > 0) & np.isfinite(extra_time)
    if keep.sum() < 2:
        raise ValueError(f"need at least 2 points with {eps_min:g} <= eps <= {eps_max:g}; "
                         f"got {keep.sum()}")
    slope, intercept = np.polyfit(np.log(eps[keep]), np.log(extra_time[keep]), 1)
    return float(-slope), float(np.exp(intercept))


def local_exponent(curve):
    """``-d log(T - T_bal) / d log eps`` along the curve (tends to 1/2 as eps -> 0)."""
    extra = curve["time"] * (1 - 1 / curve["ratio"])
    return -np.gradient(np.log(extra), np.log(curve["eps"]))


def start_flatness(J0, init, n_starts, rng, logit_scale=1.0):
    """Fig. 5: the plateau flatness (reduced units) hit from ``n_starts`` random starts.

    Starts are drawn by :func:`rayint_lib.bandit.initial_logits` (``init`` = simplex, angular
    or logit) for the 2x2 bandit with ``J(theta0) = J0``. Trajectories that cross the
    anti-diagonal outside the plateau intervals meet no plateau: their flatness is ``inf``.
    Returns ``(eps, J_start)`` with ``J_start`` of shape ``[n_starts, 2]``.
    """
    J = draw_starts(J0, init, n_starts, rng, logit_scale)
    return plateau_flatness(J), J


def draw_starts(J0, init, n_starts, rng, logit_scale=1.0):
    """``[n_starts, 2]`` performances ``(J1, J2)`` of random starts with ``J1 + J2 = J0``
    (:func:`rayint_lib.model.bandit.initial_logits`, ``init`` = simplex, angular or logit)."""
    check_float("J0", J0, 0, 1, low_open=True, high_open=True)
    return right_arm_probs(initial_logits(2, 2, J0, n_starts, rng, init, logit_scale))


def plateau_flatness(J):
    """Flatness (reduced units) of the plateau each start ``J [..., 2]`` meets; ``inf`` where
    its orbit crosses the anti-diagonal outside the plateau intervals. One vectorised call
    for any number of starts."""
    o = orbits(J[..., 0], J[..., 1], J_end=1.0 + 1e-6)  # only the anti-diagonal crossing matters
    return np.where(o["plateau"], o["eps"], np.inf)


def simulated_slowdown(runs, J_end=1.9):
    """Fig. 8 from the simulator (expected updates, full ``(W, b)``, step size ``eta``).

    Returns ``(eps_full, ratio, solved)``: each run's flatness (full-parameter units), its
    updates to reach ``J >= J_end`` divided by the balanced run's ``T_bal / (2 eta)``, and
    whether it got there (unsolved runs have a lower bound as ratio).
    """
    cfg = runs.config
    bal = to_steps(balanced_time(cfg.J0, J_end), cfg.eta, "full")
    return runs.flatness, runs.stop_step / bal, runs.solved


def _scatter_fit(eps, ratio, factor, spread):
    """``eps`` at ``ratio = factor`` from log-log lines through stacks of resamples
    ``[B, n]`` (points with ``factor / spread <= ratio <= factor * spread``) -> ``[B]``."""
    keep = (ratio >= factor / spread) & (ratio <= factor * spread) & np.isfinite(eps) & (eps > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(keep, np.log(np.where(keep, eps, 1.0)), 0.0)
        y = np.where(keep, np.log(np.where(keep, ratio, 1.0)), 0.0)
        n, sx, sy = keep.sum(-1), x.sum(-1), y.sum(-1)
        slope = (n * (x * y).sum(-1) - sx * sy) / (n * (x * x).sum(-1) - sx * sx)
        intercept = (sy - slope * sx) / n
        out = np.exp((np.log(factor) - intercept) / slope)
    return np.where(n >= 3, out, np.nan)


def eps_at_slowdown_scatter(eps, ratio, factor=10.0, spread=4.0, n_boot=0, seed=0):
    """Flatness at which ``ratio = factor``, from a scatter of runs (log-log line fit).

    Uses the points with ``factor / spread <= ratio <= factor * spread``; NaN if fewer than 3.
    With ``n_boot > 0`` returns an :class:`Estimate` with a bootstrap interval over runs.
    """
    eps, ratio = np.asarray(eps, float), np.asarray(ratio, float)
    value = float(_scatter_fit(eps[None], ratio[None], factor, spread)[0])
    if not n_boot:
        return value
    idx = np.random.default_rng(seed).integers(0, eps.size, size=(n_boot, eps.size))
    draws = _scatter_fit(eps[idx], ratio[idx], factor, spread)
    draws = draws[np.isfinite(draws)]
    if draws.size == 0 or not np.isfinite(value):
        return Estimate(value, np.nan, np.nan, eps.size, "bootstrap")
    low, high = np.percentile(draws, [2.5, 97.5])
    return Estimate(value, float(low), float(high), eps.size, "bootstrap")


def log10(x):
    """``log10`` of a number or of an :class:`Estimate` (interval transformed with it)."""
    if isinstance(x, Estimate):
        return Estimate(math.log10(x.value), math.log10(x.low), math.log10(x.high), x.n, x.method)
    return math.log10(x)

"""Appendix A: how much a plateau slows learning (Fig. 8) and how often it is hit (Fig. 5).

Deterministic (expected-update, continuous-time) dynamics of the 2x2 bandit, Eqs. (1)-(2),
in the paper's *reduced* parameters (``theta1, theta2, theta3``; see :mod:`.dynamics`).
The simulator trains the full ``(W, b)`` instead, where every rate is twice as large: a
flatness ``eps`` here is ``2 eps`` there and a time ``T`` here takes ``T / (2 eta)`` updates
there (``T / eta`` in the reduced form). Ratios of times do not depend on that factor.

Orbits are integrated by :func:`rayint_lib.dynamics.follow_orbits`, in logit coordinates where
the field is smooth and bounded, so that the very flat plateaus near the saddles are followed
accurately.
"""
from __future__ import annotations

import numpy as np

from ..model.config import check_float, check_int
from ..model.dynamics import flatness_on_antidiagonal, follow_orbits, plateau_intervals


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
    """Reduced time along the diagonal ``J1 = J2 = u`` from ``J0/2`` to ``J_end/2`` (Fig. 8, dashed).

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

    The paper's claim "a plateau of flatness eps costs O(1/eps) steps" (Sec. 2.3) means ``b = 1``.
    Returns ``(b, C)``.
    """
    eps, extra_time = np.asarray(eps, float), np.asarray(extra_time, float)
    keep = (eps >= eps_min) & (eps <= eps_max) & (extra_time > 0) & np.isfinite(extra_time)
    if keep.sum() < 2:
        raise ValueError(f"need at least 2 points with {eps_min:g} <= eps <= {eps_max:g}; got {keep.sum()}")
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
    from ..model.bandit import initial_logits, right_arm_probs

    check_float("J0", J0, 0, 1, low_open=True, high_open=True)
    J = right_arm_probs(initial_logits(2, 2, J0, n_starts, rng, init, logit_scale))
    o = orbits(J[:, 0], J[:, 1], J_end=1.0 + 1e-6)  # only the anti-diagonal crossing matters
    return np.where(o["plateau"], o["eps"], np.inf), J


NOTEBOOK = "05_appendix_a"


def validate(eta=0.1, J0=0.2, J_end=1.9, slowdown_factor=10.0, init="angular",
                        J0_list=(0.02, 0.05, 0.1, 0.2, 0.4, 0.8), n_starts=1000,
                        n_runs_deterministic=300, n_runs=200, etas=(0.01, 0.1, 1.0),
                        optimizers="sgd,momentum,rmsprop,adam", bad_eps=1e-5,
                        max_samples=100_000, seed=0):
    """Parameters of ``05_appendix_a`` (App. A, Figs. 5, 8, 9); raises ValueError first.

    Returns ``{"deterministic": BanditConfig (expected updates, Fig. 8),
    "sampled": {eta: BanditConfig} (Fig. 9 left), "optimizers": {name: BanditConfig}
    (Fig. 9 right), "J0_list": [...]}``.
    """
    from ..model.config import OPTIMIZERS, BanditConfig, check_choice

    check_float("J_end", J_end, 1, 2, low_open=True, high_open=True)
    check_float("J0", J0, 0, 1, low_open=True, high_open=True)
    check_float("slowdown_factor", slowdown_factor, 1, 1000, low_open=True)
    check_int("n_starts", n_starts, 1, 1_000_000)
    check_float("bad_eps", bad_eps, 0, 1, low_open=True)
    for name, values in (("J0_list", J0_list), ("etas", etas)):
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
            raise ValueError(f"{name} must be a non-empty list of numbers; got {values!r}")
    J0_list = [check_float(f"J0_list[{i}]", v, 0, 1, low_open=True, high_open=True)
               for i, v in enumerate(J0_list)]
    etas = [check_float(f"etas[{i}]", v, 0, 10, low_open=True) for i, v in enumerate(etas)]
    if not isinstance(optimizers, str):
        raise ValueError(f"optimizers must be a comma-separated string; got {optimizers!r}")
    names = [check_choice("optimizers", o.strip(), OPTIMIZERS) for o in optimizers.split(",")]
    base = BanditConfig(K=2, n=2, eta=eta, J0=J0, n_runs=n_runs, max_samples=max_samples,
                        seed=seed, init=init, solved_margin=2 - J_end)
    return {"deterministic": base.replace(batch="expected", n_runs=n_runs_deterministic),
            "sampled": {e: base.replace(eta=e) for e in etas},
            "optimizers": {o: base.replace(optimizer=o) for o in names},
            "J0_list": J0_list}


def simulate_each(configs):
    """``{key: simulate(config)}`` for a dict of configs; equal configs share one run."""
    from ..model.simulate import simulate

    done = {}
    out = {}
    for key, cfg in configs.items():
        if cfg not in done:
            done[cfg] = simulate(cfg)
        out[key] = done[cfg]
    return out


def simulated_slowdown(runs, J_end=1.9):
    """Fig. 8 from the simulator (expected updates, full ``(W, b)``, step size ``eta``).

    Returns ``(eps_full, ratio, solved)``: each run's flatness (full-parameter units), its
    updates to reach ``J >= J_end`` divided by the balanced run's ``T_bal / (2 eta)``, and
    whether it got there (unsolved runs have a lower bound as ratio).
    """
    cfg = runs.config
    bal = to_steps(balanced_time(cfg.J0, J_end), cfg.eta, "full")
    return runs.flatness, runs.stop_step / bal, runs.solved


def eps_at_slowdown_scatter(eps, ratio, factor=10.0, spread=4.0):
    """Flatness at which ``ratio = factor``, from a scatter of runs (log-log line fit).

    Uses the points with ``factor / spread <= ratio <= factor * spread``; NaN if fewer than 3.
    """
    eps, ratio = np.asarray(eps, float), np.asarray(ratio, float)
    keep = (ratio >= factor / spread) & (ratio <= factor * spread) & np.isfinite(eps) & (eps > 0)
    if keep.sum() < 3:
        return float("nan")
    slope, intercept = np.polyfit(np.log(eps[keep]), np.log(ratio[keep]), 1)
    return float(np.exp((np.log(factor) - intercept) / slope))

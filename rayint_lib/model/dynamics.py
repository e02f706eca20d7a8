"""Closed-form learning dynamics of the (2 x 2) bandit in (J1, J2) space (Sec. 2.1-2.5, App. B).

Continuous time, expected updates, the paper's reduced parameters
``theta = (W11 - W21, W22 - W12, b1 - b2)`` with ``J1 = sigma(theta1 + theta3)`` and
``J2 = sigma(theta2 - theta3)``. Write ``q_k = J_k (1 - J_k)``.

(The simulator works on the full (W, b): there every rate is twice the one here, because
each reduced coordinate is the difference of two trained parameters.)
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

CORNERS = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))


def q(J):
    """``J (1 - J)``: the on-policy coupling ``f(J)`` of Sec. 3.1."""
    return J * (1.0 - J)


def jdot_rl(J1, J2):
    """Eqs. (1)-(2): ``J1dot = 2 q1^2 - q1 q2``, ``J2dot = 2 q2^2 - q1 q2`` (on-policy, shared bias)."""
    q1, q2 = q(J1), q(J2)
    return 2 * q1**2 - q1 * q2, 2 * q2**2 - q1 * q2


def jdot_tabular(J1, J2):
    """Tabular policy (no shared bias): ``J_k dot = q_k^2``, no cross term (Sec. 2.6)."""
    return q(J1) ** 2, q(J2) ** 2


def jdot_supervised(J1, J2):
    """Cross-entropy learning (Sec. 2.5, App. B.5): ``J1dot = q1 (1 - 2 J1 + J2)``."""
    return q(J1) * (1 - 2 * J1 + J2), q(J2) * (1 - 2 * J2 + J1)


JDOT = {"on_policy": jdot_rl, "tabular": jdot_tabular, "supervised": jdot_supervised}


def jddot_rl(J1, J2):
    """``Jddot = <grad Jdot, grad J>`` (Eq. 3), by the chain rule in J space.

    ``Jdot = 2 q1^2 + 2 q2^2 - 2 q1 q2`` depends on theta only through (J1, J2), so
    ``Jddot = d Jdot/d J1 * J1dot + d Jdot/d J2 * J2dot``.
    """
    q1, q2 = q(J1), q(J2)
    d1, d2 = jdot_rl(J1, J2)
    return (4 * q1 - 2 * q2) * (1 - 2 * J1) * d1 + (4 * q2 - 2 * q1) * (1 - 2 * J2) * d2


def p6_from_dynamics(J1, J2):
    """``P6 = Jddot / (1 - J1 - J2)`` (Eq. 3), from the dynamics rather than the printed text.

    NaN on the anti-diagonal itself (use :func:`p6_antidiagonal` there).
    """
    num = np.asarray(jddot_rl(J1, J2), dtype=float)
    den = np.asarray(1 - J1 - J2, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    return np.divide(num, den, out=out, where=np.abs(den) > 1e-12)


def p6_antidiagonal(J1):
    """``P6(J1, 1 - J1)``, the limit of :func:`p6_from_dynamics` on the anti-diagonal (App. B.2).

    On ``J2 = 1 - J1`` both factors of Jddot vanish; the limit is taken along the normal.
    """
    h = 1e-6
    return (p6_from_dynamics(J1 - h, 1 - J1 - h) + p6_from_dynamics(J1 + h, 1 - J1 + h)) / 2


def plateau_intervals():
    """Anti-diagonal points that are plateaus (``P6 < 0``, App. B.2): ``[0, a] U [1 - a, 1]``.

    Returns the boundary ``a``, found numerically as the root of ``P6(J1, 1 - J1)``.
    """
    return brentq(p6_antidiagonal, 0.05, 0.49)


def flatness_on_antidiagonal(J1):
    """``epsilon = Jdot`` on ``J2 = 1 - J1`` (Sec. 2.3): ``2 J1^2 (1 - J1)^2``."""
    d1, d2 = jdot_rl(J1, 1 - J1)
    return d1 + d2


def antidiagonal_point_of_flatness(eps):
    """The ``J1 <= 1/2`` on the anti-diagonal where the flatness equals ``eps``."""
    return (1 - np.sqrt(1 - 4 * np.sqrt(eps / 2))) / 2


def numerical_jacobian(field, J1, J2, h=1e-6):
    """Jacobian of a J-space vector field by central differences, ``[[d1/dJ1, d1/dJ2], ...]``."""
    a = np.array(field(J1 + h, J2)) - np.array(field(J1 - h, J2))
    b = np.array(field(J1, J2 + h)) - np.array(field(J1, J2 - h))
    return np.column_stack([a, b]) / (2 * h)


def classify_corner(field, J1, J2, radius=1e-3, n_dirs=64):
    """Type of the fixed point at a corner from the flow on a small arc around it.

    Every inward-pointing direction -> ``stable``; every outward one -> ``unstable``; both ->
    ``saddle``. (The Jacobian of Eqs. 1-2 vanishes at the corners, so linearisation cannot
    classify them; see App. B.1.)
    """
    inward = np.array([0.5 - J1, 0.5 - J2])
    angles = np.linspace(-np.pi / 4, np.pi / 4, n_dirs) + np.arctan2(inward[1], inward[0])
    p1 = J1 + radius * np.cos(angles)
    p2 = J2 + radius * np.sin(angles)
    d1, d2 = field(p1, p2)
    radial = (p1 - J1) * d1 + (p2 - J2) * d2
    if np.all(radial < 0):
        return "stable"
    if np.all(radial > 0):
        return "unstable"
    return "saddle"


def null_cline_J1(J2, branch="low"):
    """The null cline ``J1dot = 0`` (Sec. 2.4): ``2 q(J1) = q(J2)``, solved for J1.

    ``branch="low"`` is the arc from (0, 0) to (0, 1) that bounds the WTA region of J2.
    """
    root = np.sqrt(np.clip(1 - 2 * q(J2), 0, None))
    return (1 - root) / 2 if branch == "low" else (1 + root) / 2


def winner_take_all(J1, J2, field=jdot_rl):
    """Definition 3: exactly one component improves, the other does not."""
    d1, d2 = field(J1, J2)
    return ((d1 > 0) & (d2 <= 0)) | ((d2 > 0) & (d1 <= 0))


def p_nc_closed_form():
    """App. B.4: chance that a start near the origin, uniform in angle, is under a null cline."""
    return 4 / np.pi * np.arctan(0.5)


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(z / 2))


def _logit(J):
    return np.log(J) - np.log1p(-J)


def follow_orbits(J1, J2, J_end=1.0, field=jdot_rl, ds=0.02, max_length=400.0):
    """Follow the deterministic flow of ``field`` from each start ``(J1, J2)``.

    Vectorised RK4 in logit coordinates ``z_k = log(J_k / (1 - J_k))``, where
    ``z_k dot = J_k dot / q_k`` stays well scaled even when a component is nearly 0 or 1 (flat
    plateaus have ``J1 ~ sqrt(eps / 2)``), parametrised by arc length (a plateau costs no
    integration steps) with the elapsed time carried along (``dt/ds = 1 / speed``). Stops each
    orbit when ``J1 + J2 >= J_end``. Returns ``{"time", "cross_J1"}`` shaped like the starts: the
    continuous time to reach ``J_end`` and the J1 where the orbit crosses the anti-diagonal
    ``J1 + J2 = 1`` (NaN where not reached within ``max_length``, or started beyond it).
    """
    J1, J2 = np.broadcast_arrays(np.asarray(J1, float), np.asarray(J2, float))
    shape = J1.shape
    z = np.stack([_logit(J1.ravel()), _logit(J2.ravel()), np.zeros(J1.size)])
    time = np.full(J1.size, np.nan)
    cross = np.full(J1.size, np.nan)
    alive = np.flatnonzero(J1.ravel() + J2.ravel() < J_end)

    def velocity(y):
        J = _sigmoid(y)
        d1, d2 = field(J[0], J[1])
        v1, v2 = d1 / (J[0] * (1 - J[0])), d2 / (J[1] * (1 - J[1]))
        speed = np.hypot(v1, v2) + 1e-300
        return np.stack([v1 / speed, v2 / speed, 1.0 / speed])

    for _ in range(int(max_length / ds)):
        if alive.size == 0:
            break
        y = z[:, alive]
        k1 = velocity(y[:2])
        k2 = velocity(y[:2] + ds / 2 * k1[:2])
        k3 = velocity(y[:2] + ds / 2 * k2[:2])
        k4 = velocity(y[:2] + ds * k3[:2])
        y_new = y + ds / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        s_old, s_new = _sigmoid(y[:2]).sum(axis=0), _sigmoid(y_new[:2]).sum(axis=0)
        rise = np.where(s_new > s_old, s_new - s_old, 1)
        hit = (s_old < 1) & (s_new >= 1)                 # interpolate linearly in z
        w = np.clip((1 - s_old) / rise, 0, 1)
        cross[alive[hit]] = _sigmoid(y[0] + w * (y_new[0] - y[0]))[hit]
        done = s_new >= J_end
        w = np.clip((J_end - s_old) / rise, 0, 1)
        time[alive[done]] = (y[2] + w * (y_new[2] - y[2]))[done]
        z[:, alive] = y_new
        alive = alive[~done]
    return {"time": time.reshape(shape), "cross_J1": cross.reshape(shape)}


def antidiagonal_crossing(J1, J2, field=jdot_rl):
    """J1 where the deterministic orbit from (J1, J2) crosses ``J1 + J2 = 1`` (see :func:`follow_orbits`)."""
    return follow_orbits(J1, J2, J_end=1.0, field=field)["cross_J1"]


def plateau_flatness_of_start(J1, J2):
    """Flatness of the plateau that the deterministic orbit from (J1, J2) traverses (Fig. 2, 5)."""
    return flatness_on_antidiagonal(antidiagonal_crossing(J1, J2))


def basin_polygon(eps):
    """App. B.3's lower bound of the basin of an ``eps``-plateau near the saddle (0, 1).

    Vertices ``(0,0), (0,1), (J1[2], 1 - J1[2]), (J1[1], J2[1]), (J1[1], 1 - J2[1])``: the
    plateau point ``J1[2]`` with flatness ``eps``, and the exit point ``(J1[1], J2[1])`` on the
    null cline with ``J1[2] = (1 + J1[1] - J2[1]) / 2``; the last vertex mirrors it.
    """
    a = antidiagonal_point_of_flatness(eps)

    def gap(J2):
        return (1 + null_cline_J1(J2) - J2) / 2 - a

    J2_exit = brentq(gap, 0.0, 1.0)  # gap decreases from 1/2 - a to -a along the null cline
    J1_exit = null_cline_J1(J2_exit)
    return np.array([(0, 0), (0, 1), (a, 1 - a), (J1_exit, J2_exit), (J1_exit, 1 - J2_exit)])


def supervised_jddot(J1, J2):
    """Eq. (4): ``Jddot_sup = -2 q1 (1 - 2J1 + J2)^2 - 2 q2 (1 - 2J2 + J1)^2 <= 0``."""
    return -2 * q(J1) * (1 - 2 * J1 + J2) ** 2 - 2 * q(J2) * (1 - 2 * J2 + J1) ** 2

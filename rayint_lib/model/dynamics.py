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
    """Eqs. (1)-(2): ``J1dot = 2 q1^2 - q1 q2``, ``J2dot = 2 q2^2 - q1 q2`` (on-policy, shared
    bias)."""
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
    return _flow_type(field, J1, J2, p1, p2)


def _flow_type(field, J1, J2, p1, p2) -> str:
    """Type of the fixed point (J1, J2) from the flow at the points (p1, p2) around it: all
    inward "stable", all outward "unstable", otherwise "saddle"."""
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


def arc_length_orbits(z, alive, velocity, step, ds, max_length):
    """The one orbit integrator of the expected-update flows: RK4 with arc-length steps
    ``ds`` on the orbits ``z`` ``[starts, D]`` (updated in place), at most ``max_length``.

    ``alive``: indices of the orbits to follow; ``velocity(y)``: ``dz/ds`` of the rows ``y``
    ``[m, D]`` (unit speed in the flow's coordinates; extra columns, such as the elapsed
    time, are carried along); after each step ``step(alive, y_old, y_new)`` records what it
    needs and returns which of the ``alive`` orbits are done.
    """
    for _ in range(int(max_length / ds)):
        if alive.size == 0:
            break
        y = z[alive]
        k1 = velocity(y)
        k2 = velocity(y + ds / 2 * k1)
        k3 = velocity(y + ds / 2 * k2)
        k4 = velocity(y + ds * k3)
        y_new = y + ds / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        z[alive] = y_new
        alive = alive[~step(alive, y, y_new)]


def follow_orbits(J1, J2, J_end=1.0, field=jdot_rl, ds=0.02, max_length=400.0, path=False):
    """Follow the deterministic flow of ``field`` from each start ``(J1, J2)``.

    :func:`arc_length_orbits` in logit coordinates ``z_k = log(J_k / (1 - J_k))``, where
    ``z_k dot = J_k dot / q_k`` stays well scaled even when a component is nearly 0 or 1 (flat
    plateaus have ``J1 ~ sqrt(eps / 2)``), parametrised by arc length (a plateau costs no
    integration steps) with the elapsed time carried along (``dt/ds = 1 / speed``). Stops each
    orbit when ``J1 + J2 >= J_end``. Returns ``{"time", "cross_J1"}`` shaped like the starts: the
    continuous time to reach ``J_end`` and the J1 where the orbit crosses the anti-diagonal
    ``J1 + J2 = 1`` (NaN where not reached within ``max_length``, or started beyond it).

    ``path=True`` also returns ``"path"``, ``[steps + 1, 2, starts]``: (J1, J2) at the start
    and after each RK4 step, and ``"path_time"``, ``[steps + 1, starts]``: the time there (NaN
    once an orbit has stopped; ``steps`` is the number of steps the longest orbit took).
    Memory: ``(steps + 1) x starts x 24`` bytes.
    """
    J1, J2 = np.broadcast_arrays(np.asarray(J1, float), np.asarray(J2, float))
    shape = J1.shape
    z = np.stack([_logit(J1.ravel()), _logit(J2.ravel()), np.zeros(J1.size)], axis=1)
    time = np.full(J1.size, np.nan)
    cross = np.full(J1.size, np.nan)

    def velocity(y):
        J = _sigmoid(y[:, :2].T)
        d1, d2 = field(J[0], J[1])
        v1, v2 = d1 / (J[0] * (1 - J[0])), d2 / (J[1] * (1 - J[1]))
        speed = np.hypot(v1, v2) + 1e-300
        return np.stack([v1 / speed, v2 / speed, 1.0 / speed], axis=1)

    trail, trail_time = [], []

    def snapshot(alive):
        J = np.full((2, J1.size), np.nan)
        t = np.full(J1.size, np.nan)
        J[:, alive] = _sigmoid(z[alive, :2].T)
        t[alive] = z[alive, 2]
        trail.append(J)
        trail_time.append(t)

    def step(alive, y, y_new):
        s_old, s_new = _sigmoid(y[:, :2].T).sum(axis=0), _sigmoid(y_new[:, :2].T).sum(axis=0)
        rise = np.where(s_new > s_old, s_new - s_old, 1)
        hit = (s_old < 1) & (s_new >= 1)                 # interpolate linearly in z
        w = np.clip((1 - s_old) / rise, 0, 1)
        cross[alive[hit]] = _sigmoid(y[:, 0] + w * (y_new[:, 0] - y[:, 0]))[hit]
        done = s_new >= J_end
        w = np.clip((J_end - s_old) / rise, 0, 1)
        time[alive[done]] = (y[:, 2] + w * (y_new[:, 2] - y[:, 2]))[done]
        if path:
            snapshot(alive)
        return done

    alive = np.flatnonzero(J1.ravel() + J2.ravel() < J_end)
    if path:
        snapshot(alive)
    arc_length_orbits(z, alive, velocity, step, ds, max_length)
    out = {"time": time.reshape(shape), "cross_J1": cross.reshape(shape)}
    if path:
        out["path"] = np.stack(trail).reshape((len(trail), 2) + shape)
        out["path_time"] = np.stack(trail_time).reshape((len(trail),) + shape)
    return out


def antidiagonal_crossing(J1, J2, field=jdot_rl):
    """J1 where the deterministic orbit from (J1, J2) crosses ``J1 + J2 = 1`` (see
    :func:`follow_orbits`)."""
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


def jddot_along_flow(J1, J2, field=jdot_rl, delta=1e-7):
    """``Jddot = <grad Jdot, grad J>`` of any J-space ``field``, by central differences along it.

    ``Jdot = F1 + F2``; its rate along the flow is ``|F| (Jdot(J + delta u) - Jdot(J - delta u))
    / (2 delta)`` with ``u = F / |F|`` (a step of fixed length, so that near the corners, where
    ``F`` is tiny, the difference is not lost to rounding). Independent of the closed forms.
    """
    F1, F2 = (np.asarray(f, dtype=float) for f in field(J1, J2))
    speed = np.hypot(F1, F2)
    safe = np.where(speed > 0, speed, 1.0)
    u1, u2 = F1 / safe, F2 / safe
    up = sum(field(J1 + delta * u1, J2 + delta * u2))
    down = sum(field(J1 - delta * u1, J2 - delta * u2))
    return np.where(speed > 0, speed * (up - down) / (2 * delta), 0.0)


def plateaus_along_orbits(J1, J2, field=jdot_rl, J_end=1.9, ds=0.02, max_length=400.0):
    """Definition 2 read off the orbits themselves: the flattest concave-to-convex inflection.

    Follows each start along ``field`` (:func:`follow_orbits` with its path) until
    ``J1 + J2 >= J_end``; wherever ``Jddot`` (:func:`jddot_along_flow`) changes sign from
    negative to positive between two steps, the point is an inflection of ``J(t)`` from
    concave to convex, an epsilon-plateau with ``epsilon = Jdot >= 0`` there (a change while
    J falls is no plateau). Returns the smallest
    such ``epsilon`` per start (NaN: no plateau on the orbit). Works for any field (tabular,
    supervised) where :func:`plateau_flatness_of_start` uses the anti-diagonal of Eqs. (1)-(2).
    Memory: ``steps x starts x 48`` bytes (the path and its derivatives).
    """
    J1, J2 = np.broadcast_arrays(np.asarray(J1, float), np.asarray(J2, float))
    orbit = follow_orbits(J1.ravel(), J2.ravel(), J_end, field, ds, max_length, path=True)
    P1, P2 = orbit["path"][:, 0], orbit["path"][:, 1]
    with np.errstate(invalid="ignore"):
        acc = jddot_along_flow(P1, P2, field)
        rate = sum(field(P1, P2))
    sign = np.sign(acc)
    rising = (sign[:-1] < 0) & (sign[1:] > 0) & (rate[:-1] >= 0)   # Def. 2: 0 <= Jdot
    # epsilon at the change, interpolated linearly in the step between the two signs
    w = np.where(rising, -acc[:-1] / np.where(rising, acc[1:] - acc[:-1], 1.0), 0.0)
    eps = np.where(rising, rate[:-1] + w * (rate[1:] - rate[:-1]), np.inf)
    flat = eps.min(axis=0)
    return np.where(np.isinf(flat), np.nan, flat).reshape(J1.shape)


def wta_exits(J1, J2, field=jdot_rl, J_end=1.9, ds=0.02):
    """Sec. 2.4: follow orbits that start in a WTA region (Definition 3) until they leave it.

    Returns ``{"winner", "loser_start", "loser_exit", "winner_exit", "left"}`` per start: the
    component that alone improves at the start (0 or 1), the other ("loser") at the start and
    at the first step outside the WTA region, the winner there, and whether the orbit left
    the region before ``J >= J_end``. Sec. 2.4 claims ``loser_exit < loser_start``.
    """
    J1, J2 = (np.asarray(x, float).ravel() for x in (J1, J2))
    if not winner_take_all(J1, J2, field).all():
        raise ValueError("wta_exits: every start must be in a WTA region")
    d1, _ = field(J1, J2)
    winner = np.where(d1 > 0, 0, 1)
    path = follow_orbits(J1, J2, J_end, field, ds, path=True)["path"]   # [steps, 2, starts]
    inside = winner_take_all(path[:, 0], path[:, 1], field)
    outside = ~inside & np.isfinite(path[:, 0])
    left = outside.any(axis=0)
    first = np.where(left, outside.argmax(axis=0), path.shape[0] - 1)
    idx = np.arange(J1.size)
    at_exit = path[first, :, idx]                                        # [starts, 2]
    start = np.column_stack([J1, J2])
    return {"winner": winner, "loser_start": start[idx, 1 - winner],
            "loser_exit": at_exit[idx, 1 - winner], "winner_exit": at_exit[idx, winner],
            "left": left}


def p_nc_quadrature(radius=1e-6, field=jdot_rl, n_coarse=4096):
    """App. B.4 without the printed slopes: the share of the quarter circle of ``radius``
    around (0, 0) (angle uniform in [0, pi/2]) where ``field`` is winner-take-all.

    The angles where ``J1dot`` or ``J2dot`` changes sign are found by root finding on the
    field itself (``brentq``); the WTA share is the total length of the arcs between them
    on which Definition 3 holds. Deterministic; as ``radius -> 0`` it tends to ``P_nc``.
    """
    def at(phi, k):
        return field(radius * np.cos(phi), radius * np.sin(phi))[k]

    phi = np.linspace(0, np.pi / 2, n_coarse + 1)
    cuts = [0.0, np.pi / 2]
    for k in (0, 1):
        v = at(phi, k)
        for i in np.flatnonzero(np.sign(v[:-1]) * np.sign(v[1:]) < 0):
            cuts.append(brentq(lambda p: at(p, k), phi[i], phi[i + 1], xtol=1e-15))
    cuts = np.unique(cuts)
    mid = (cuts[:-1] + cuts[1:]) / 2
    wta = winner_take_all(radius * np.cos(mid), radius * np.sin(mid), field)
    return float(np.sum(np.diff(cuts)[wta]) / (np.pi / 2))


def p_nc_monte_carlo(radius, n, rng, field=jdot_rl):
    """App. B.4 by Monte Carlo: share of ``n`` starts at distance ``radius`` from (0, 0), angle
    uniform in [0, pi/2], in a WTA region (Definition 3), with its Wilson 95% interval.

    The one Monte Carlo of ``P_nc`` in the library (Sec. 2.4 and App. B.4 both use it).
    """
    from .stats import fraction

    phi = rng.uniform(0, np.pi / 2, n)
    return fraction(winner_take_all(radius * np.cos(phi), radius * np.sin(phi), field))


def polygon_area(vertices):
    """Shoelace area of a simple polygon ``[m, 2]``."""
    x, y = np.asarray(vertices, dtype=float).T
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def inside_polygon(points, vertices):
    """Even-odd test: which ``points [m, 2]`` lie strictly inside the polygon ``vertices``.

    Points on an edge count as inside or outside depending on rounding; the grids used here
    (cell centres) keep away from the polygons' edges except along the anti-diagonal, which
    :func:`basin_check` excludes.
    """
    x, y = np.asarray(points, dtype=float).T
    v = np.asarray(vertices, dtype=float)
    inside = np.zeros(x.shape, dtype=bool)
    for (x0, y0), (x1, y1) in zip(v, np.roll(v, -1, axis=0)):
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (x < x_at)
    return inside


def upper_triangle_grid(n):
    """Cell centres of an ``n x n`` grid of the unit square with ``J1 < J2`` and ``J1 + J2 < 1``.

    By the symmetry J1 <-> J2 of Eqs. (1)-(2) this half holds the basin of the saddle (0, 1).
    Cell centres on the anti-diagonal itself (``J1 + J2 = 1``: no orbit to follow) are left
    out. Returns ``(points [m, 2], cell_area)``.
    """
    g = (np.arange(n) + 0.5) / n
    a, b = np.meshgrid(g, g, indexing="ij")
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    keep = (i < j) & (i + j + 1 < n)
    return np.column_stack([a[keep], b[keep]]), 1.0 / n**2


def basin_check(eps, n_grid=200, flatness=None):
    """App. B.3 (and Fig. 2): the basin of the ``eps``-plateau near the saddle (0, 1) on a
    grid, against the lower-bound polygon :func:`basin_polygon`.

    The basin: grid starts (:func:`upper_triangle_grid`) whose deterministic orbit crosses the
    anti-diagonal at flatness ``<= eps`` (:func:`plateau_flatness_of_start`). Also checks the
    polygon without its fifth vertex (the notch that appears when the exit point lies below
    ``J2 = 1/2``). ``flatness``: precomputed flatness of the grid starts (reuse across eps).
    The one basin routine of the library (Sec. 2.4 and App. B.3 both use it).

    Returns a dict: ``eps``, ``polygon``, ``exit_J2``, ``notch``; for ``printed`` and
    ``four_vertices``: ``*_n_inside`` (grid starts inside the polygon), ``*_inside_basin``
    (their share in the basin), ``*_area`` (exact); ``basin_area`` (area of the square),
    ``coverage`` (polygon area / basin area), ``points``, ``in_basin`` and ``grid``
    (``[n_grid, n_grid]`` mask of the basin over cell centres, indexed ``[J2, J1]`` for plots).
    """
    pts, cell = upper_triangle_grid(n_grid)
    f = plateau_flatness_of_start(pts[:, 0], pts[:, 1]) if flatness is None else flatness
    poly = basin_polygon(eps)
    out = {"eps": eps, "polygon": poly, "exit_J2": float(poly[3, 1]),
           "notch": bool(poly[3, 1] < 0.5)}
    in_basin = np.nan_to_num(f, nan=np.inf) <= eps
    for name, verts in (("printed", poly), ("four_vertices", poly[:4])):
        inside = inside_polygon(pts, verts)
        out[f"{name}_n_inside"] = int(inside.sum())
        out[f"{name}_inside_basin"] = (float(np.mean(in_basin[inside])) if inside.any()
                                       else float("nan"))
        out[f"{name}_area"] = float(polygon_area(verts))
    out["basin_area"] = float(in_basin.sum() * cell)
    out["coverage"] = float(out["printed_area"] / out["basin_area"])
    grid = np.zeros((n_grid, n_grid), dtype=bool)
    idx = np.round(pts * n_grid - 0.5).astype(int)
    grid[idx[:, 1], idx[:, 0]] = in_basin
    out.update(points=pts, in_basin=in_basin, grid=grid)
    return out


def classify_point(field, J1, J2, radius=1e-3, n_dirs=181):
    """Type of a fixed point of a J-space ``field`` in the closed square, from the flow on a
    small circle around it (the part inside the square, edges included).

    Every direction flowing inward -> ``stable``; every one outward -> ``unstable``; both ->
    ``saddle`` (also for points on an edge or a corner, where linearisation fails).
    """
    angles = np.linspace(0, 2 * np.pi, 8 * (n_dirs - 1), endpoint=False)
    p1, p2 = J1 + radius * np.cos(angles), J2 + radius * np.sin(angles)
    tol = 1e-12
    keep = (p1 >= -tol) & (p1 <= 1 + tol) & (p2 >= -tol) & (p2 <= 1 + tol)
    p1, p2 = np.clip(p1[keep], 0, 1), np.clip(p2[keep], 0, 1)
    return _flow_type(field, J1, J2, p1, p2)


def fixed_points_closed_square(field, n=4001, interior_grid=201, speed_tol=1e-9):
    """Fixed points of a J-space ``field`` in the closed square [0, 1]^2, with their types.

    On the edges (``J_k`` = 0 or 1, i.e. ``theta -> +-inf``, where Sec. 2.2 puts the saddles of
    Eqs. (1)-(2)) the field is tangential; its zeros are found by sign changes on ``n`` points
    and ``brentq``. Inside, the smallest speed on a grid is reported instead (a zero inside
    would show as a speed near 0). Returns ``(points, min_interior_speed)``: ``points`` is a
    list of ``((J1, J2), type)`` sorted by (J1, J2).
    """
    found = set()
    s = np.linspace(0, 1, n)
    for fixed_axis in (0, 1):
        for value in (0.0, 1.0):
            def tangential(t, fixed_axis=fixed_axis, value=value):
                J = (value, t) if fixed_axis == 0 else (t, value)
                return np.asarray(field(*J)[1 - fixed_axis], dtype=float)

            v = tangential(s)
            roots = list(s[v == 0])
            for i in np.flatnonzero(np.sign(v[:-1]) * np.sign(v[1:]) < 0):
                roots.append(brentq(tangential, s[i], s[i + 1], xtol=1e-14))
            for r in roots:
                point = (value, r) if fixed_axis == 0 else (r, value)
                found.add(tuple(round(float(x), 9) for x in point))
    g = np.linspace(0.005, 0.995, interior_grid)
    G1, G2 = np.meshgrid(g, g)
    speed = float(np.min(np.hypot(*field(G1, G2))))
    if speed < speed_tol:
        raise ValueError("fixed_points_closed_square: a zero inside the square; refine the grid")
    points = sorted(found)
    return [(p, classify_point(field, *p)) for p in points], speed

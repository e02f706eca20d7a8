"""Factored objectives (Sec. 3.1, App. C): ``grad J_k = f_k(J_k) v_k(theta)``, Eq. (5).

Two views of the same dynamics:

* :class:`FactoredModel`: the J-space flow when the ``v_k`` are frozen (their Gram matrix
  ``G_kj = v_k . v_j`` is constant: norms ``||v_k||`` and interference ``rho``). This is the
  model of Sec. 3.1 and App. C.2, exact for the 2x2 bandit (whose ``v_k`` are constant).
  Optionally the update coupling ``f`` differs from the factor ``g`` of the performance
  gradient (``grad J_k = g_k v_k``, update ``sum_k f_k v_k``): this covers the supervised and
  the mixed-behaviour learners, whose updates are not the gradient of ``J``.
* the ``bandit_*`` functions: the (2 x n) bandit with a shared bias, where for ``n > 2`` the
  ``v_k`` depend on theta, so the ``grad v_k`` terms that App. C.1 neglects can be measured.

Coupling functions ``f`` (Fig. 6) are sympy expressions in ``u = J_k`` so that their
derivatives are exact; see :func:`coupling`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations, product

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp
from scipy.optimize import brentq, linprog
from scipy.special import expit

from .bandit import softmax
from .config import check_choice, check_float, check_int
from .dynamics import arc_length_orbits, classify_corner

U = sp.Symbol("u", real=True)
COUPLINGS = ("on_policy", "supervised", "mixture", "power")


@dataclass(frozen=True)
class Coupling:
    """A scalar coupling function ``f(u)`` of Eq. (5), with its exact derivative."""

    name: str
    label: str
    expr: sp.Expr
    f: object = field(repr=False, compare=False, default=None)
    df: object = field(repr=False, compare=False, default=None)

    def __post_init__(self):
        object.__setattr__(self, "f", _lambdify(self.expr))
        object.__setattr__(self, "df", _lambdify(sp.diff(self.expr, U)))

    def __call__(self, u):
        return self.f(u)

    @property
    def at_zero(self) -> float:
        """``f(0)``: zero means no learning at the minimum (a saddle, Sec. 3.1)."""
        return float(self.expr.subs(U, 0))

    @property
    def at_one(self) -> float:
        """``f(1)``: zero means no learning at the optimum (required by Sec. 3.1)."""
        return float(self.expr.subs(U, 1))


def _lambdify(expr):
    fn = sp.lambdify(U, expr, "numpy")
    def f(u):
        u = np.asarray(u, dtype=float)
        return np.asarray(fn(u), dtype=float) + 0 * u     # constants broadcast to u's shape

    return f


def mixture_expr(alpha, n_actions=2):
    """``f`` for REINFORCE on data from ``mu = (1 - alpha) pi + alpha / n``, no importance weights.

    Derivation (per context k, ``J_k = pi(k|s_k)``, reward ``1[a = k]``):
    ``E_{a~mu}[r grad log pi(a)] = mu(k) grad log pi(k) = ((1-alpha) J_k + alpha/n) (1 - J_k) v_k``
    because ``grad log pi(k) = grad J_k / J_k = (1 - J_k) v_k`` when ``grad J_k = J_k (1-J_k) v_k``.
    So ``f(u) = ((1 - alpha) u + alpha / n)(1 - u)`` and ``f(0) = alpha / n > 0``. With importance
    weights ``pi/mu`` the expectation is ``grad J_k`` again, ``f(u) = u (1 - u)`` and the saddle
    returns: the weights would undo exactly what the mixture is for (Fig. 6, orange).
    """
    a = sp.nsimplify(alpha)
    return ((1 - a) * U + a / n_actions) * (1 - U)


def coupling(name, alpha=0.1, p=1.0, n_actions=2):
    """The coupling functions of Fig. 6 and a family ``u^p (1 - u)``.

    ``on_policy``: ``u (1 - u)`` (REINFORCE, Sec. 2); ``supervised``: ``1 - u`` (Sec. 2.5);
    ``mixture``: :func:`mixture_expr` with fraction ``alpha`` of uniform actions;
    ``power``: ``u^p (1 - u)`` (``p = 1`` is on-policy).
    """
    check_choice("coupling", name, COUPLINGS)
    if name == "on_policy":
        return Coupling(name, "on-policy REINFORCE $u(1-u)$", U * (1 - U))
    if name == "supervised":
        return Coupling(name, "supervised $1-u$", 1 - U)
    if name == "mixture":
        check_float("alpha", alpha, 0, 1)
        check_int("n_actions", n_actions, 2)
        return Coupling(f"mixture_{alpha:g}", f"on-policy + {100 * alpha:g}% uniform",
                        mixture_expr(alpha, n_actions))
    check_float("p", p, 0, None, low_open=True)
    return Coupling(f"power_{p:g}", f"$u^{{{p:g}}}(1-u)$", U ** sp.nsimplify(p) * (1 - U))


class FactoredModel:
    """J-space flow of ``K`` factored components, constant Gram matrix (Sec. 3.1, App. C.2).

    ``Jdot_k = g_k(J_k) sum_j G_kj f_j(J_j)``: the change of ``J_k`` (gradient ``g_k v_k``)
    under the update ``sum_j f_j v_j``. With ``g = f`` (the default) this is gradient flow on
    ``J = sum J_k``, Eqs. (1)-(2) for the 2x2 bandit with ``f = u(1-u)``, ``||v_k||^2 = 2``,
    ``rho = -1/2``.
    """

    def __init__(self, f, gram=None, norms=(np.sqrt(2), np.sqrt(2)), rho=-0.5, g=None):
        self.f = list(f) if isinstance(f, (list, tuple)) else [f, f]
        K = len(self.f)
        if gram is None:
            check_float("rho", rho, -1, 1)
            if K != 2:
                raise ValueError(f"norms/rho describe 2 components; got {K} couplings (pass gram)")
            a, b = (check_float("norm", x, 0, None, low_open=True) for x in norms)
            gram = [[a * a, rho * a * b], [rho * a * b, b * b]]
        self.G = np.asarray(gram, dtype=float)
        if self.G.shape != (K, K):
            raise ValueError(f"gram must be {K}x{K}; got shape {self.G.shape}")
        self.g = self.f if g is None else (list(g) if isinstance(g, (list, tuple)) else [g] * K)
        self.K = K

    @property
    def rho(self):
        """Interference ``rho_12`` (Definition 1): the cosine of ``v_1`` and ``v_2``."""
        return self.G[0, 1] / np.sqrt(self.G[0, 0] * self.G[1, 1])

    def _fs(self, J):
        J = np.asarray(J, dtype=float)
        fv = np.stack([fk(J[..., k]) for k, fk in enumerate(self.f)], -1)
        dfv = np.stack([fk.df(J[..., k]) for k, fk in enumerate(self.f)], -1)
        gv = np.stack([gk(J[..., k]) for k, gk in enumerate(self.g)], -1)
        dgv = np.stack([gk.df(J[..., k]) for k, gk in enumerate(self.g)], -1)
        return fv, dfv, gv, dgv

    def jdot(self, J):
        """``[..., K]`` rates ``Jdot_k`` at ``J`` (``[..., K]``); Eqs. (1)-(2) and C.1."""
        fv, _, gv, _ = self._fs(J)
        return gv * (fv @ self.G.T)

    def jdot_total(self, J):
        """``Jdot = sum_k Jdot_k`` (``= ||grad J||^2`` when ``g = f``)."""
        return self.jdot(J).sum(-1)

    def jddot(self, J):
        """``Jddot`` by the chain rule in J space: ``sum_m dJdot/dJ_m Jdot_m`` (exact for
        constant G)."""
        fv, dfv, gv, dgv = self._fs(J)
        grad = dgv * (fv @ self.G.T) + dfv * (gv @ self.G)
        return (grad * self.jdot(J)).sum(-1)

    def jddot_c2(self, J):
        """App. C.2's closed form ``sum_k 2 f_k'/f_k Jdot_k^2`` (gradient flow, ``g = f``,
        ``f > 0``)."""
        fv, dfv, _, _ = self._fs(J)
        return (2 * dfv / fv * self.jdot(J) ** 2).sum(-1)

    def jddot_edge(self, J2):
        """Sec. 3.1 / App. C.1: ``Jddot|_{J1=0} ~ 2 f2^3 f2' ||v2||^4`` (``grad v`` terms
        dropped)."""
        f2 = self.f[1]
        return 2 * f2(J2) ** 3 * f2.df(J2) * self.G[1, 1] ** 2

    def field(self, J1, J2):
        """``(J1dot, J2dot)`` as a 2-D vector field (for plots and ``dynamics.classify_corner``)."""
        d = self.jdot(np.stack(np.broadcast_arrays(J1, J2), -1))
        return d[..., 0], d[..., 1]

    def wta(self, J1, J2):
        """Definition 3: one component improves, the other does not."""
        d1, d2 = self.field(J1, J2)
        return ((d1 > 0) & (d2 <= 0)) | ((d2 > 0) & (d1 <= 0))

    def wta_strip_width(self, J2, J1_max=0.5):
        """Largest ``J1`` of the WTA strip ``J1dot <= 0`` next to ``J1 = 0`` at height ``J2``
        (Sec. 3.1).

        Solves ``f1(J1) ||v1|| + rho f2(J2) ||v2|| = 0`` (the null cline). 0 when ``J1dot > 0`` at
        small ``J1`` (no strip), NaN when the whole range up to ``J1_max`` is WTA.
        """
        out = []
        for y in np.atleast_1d(J2).astype(float):
            h = lambda x: self.field(x, y)[0] / max(self.g[0](x), 1e-300)  # noqa: E731 (sign of J1dot)
            lo = 1e-9
            if h(lo) > 0:
                out.append(0.0)
            elif h(J1_max) <= 0:
                out.append(np.nan)
            else:
                out.append(brentq(h, lo, J1_max, xtol=1e-12))
        return np.array(out) if np.ndim(J2) else out[0]

    def null_cline(self, k, J_other, lo=1e-9, hi=0.5):
        """Points ``J_k`` in ``(lo, hi)`` where ``Jdot_k = 0``, for each value of the other
        component."""
        out = []
        for y in np.atleast_1d(J_other).astype(float):
            def h(x):
                J = (x, y) if k == 0 else (y, x)
                return self.field(*J)[k] / max(self.g[k](x), 1e-300)
            out.append(brentq(h, lo, hi, xtol=1e-12) if h(lo) * h(hi) < 0 else np.nan)
        return np.array(out)

    def saddle_signs(self, xi):
        """Sec. 3.1's test at the corner (0, 1): ``(Jddot(0, 1 - xi), Jddot(xi, 1))``."""
        return float(self.jddot([0.0, 1 - xi])), float(self.jddot([xi, 1.0]))

    def inflection_on_segment(self, xi, n=2001):
        """Zero of ``Jddot`` on the straight segment from (0, 1 - xi) to (xi, 1); NaN if none.

        Returns the fraction ``s`` along the segment and the point ``(J1, J2)``.
        """
        s = np.linspace(0, 1, n)
        P = np.stack([xi * s, 1 - xi + xi * s], -1)
        v = self.jddot(P)
        idx = np.flatnonzero(np.sign(v[:-1]) != np.sign(v[1:]))
        if not idx.size:
            return np.nan, (np.nan, np.nan)
        i = idx[0]
        t = brentq(lambda x: float(self.jddot([xi * x, 1 - xi + xi * x])), s[i], s[i + 1])
        return t, (xi * t, 1 - xi + xi * t)


def statements(model, xi=1e-2):
    """Sec. 3.1's three statements evaluated for a 2-component ``model`` near the corner (0, 1).

    * ``saddle``: ``f1(0) = 0`` and (0, 1) is a saddle of the flow (classified from the flow on a
      small arc, see :func:`rayint_lib.model.dynamics.classify_corner`);
    * ``plateau``: ``Jddot(0, 1 - xi) < 0 < Jddot(xi, 1)`` (so ``Jddot`` crosses zero between);
    * ``wta_strip``: ``rho < 0`` and a strip ``0 < J1 < w(J2)`` with ``J1dot <= 0`` exists at
      ``J2 = 1 - 10 xi``, ``1/2`` (its width is returned).
    """
    jd0 = float(model.jdot_total([0.0, 1.0]))
    corner = classify_corner(model.field, 0.0, 1.0, radius=xi)
    lo, hi = model.saddle_signs(xi)
    s, point = model.inflection_on_segment(xi)
    widths = model.wta_strip_width(np.array([1 - 10 * xi, 0.5]))
    return {
        "f1_at_zero": model.f[0].at_zero,
        "jdot_at_corner": jd0,
        "corner_type": corner if abs(jd0) < 1e-12 else "not a fixed point",
        "saddle": bool(model.f[0].at_zero == 0 and abs(jd0) < 1e-12 and corner == "saddle"),
        "jddot_below": lo,
        "jddot_right": hi,
        "plateau": bool(lo < 0 < hi),
        "inflection_J1": point[0],
        "rho": model.rho,
        "wta_width_near_saddle": float(widths[0]),
        "wta_width_middle": float(widths[1]),
        "wta_strip": bool(model.rho < 0 and np.all(np.nan_to_num(widths, nan=1.0) > 0)),
    }


# --- the (2 x n) bandit with a shared bias: v_k depends on theta when n > 2 -------------

def bandit_logits(J1, J2, n, skew=0.0):
    """Logits ``[..., 2, n]`` with ``pi(k|s_k) = J_k``; the wrong arms share ``1 - J_k``.

    ``skew = 0``: equal shares; ``skew = s``: shares proportional to ``exp(-s i)`` for the i-th
    wrong arm (any logits are reachable since W is free per context; App. C needs a theta).
    """
    J = np.stack(np.broadcast_arrays(np.asarray(J1, float), np.asarray(J2, float)), -1)
    w = np.exp(-skew * np.arange(n - 1))
    w = w / w.sum()
    probs = np.empty(J.shape + (n,))
    for k in range(2):
        wrong = [a for a in range(n) if a != k]
        probs[..., k, k] = J[..., k]
        probs[..., k, wrong] = (1 - J[..., k])[..., None] * w
    return np.log(probs)


def _bandit_parts(logits):
    pi = softmax(logits)                                   # [..., K, n]
    K = pi.shape[-2]
    idx = np.arange(K)
    Jk = pi[..., idx, idx]
    resid = -pi
    resid[..., idx, idx] += 1                              # e_k - pi_k
    return pi, Jk, resid


def bandit_rates(logits):
    """Exact ``Jdot_k`` for gradient flow on ``J`` over ``theta = (W, b)``, ``l_k = W[:, k] + b``.

    ``d l_k/dt = dJ_k/dl_k + sum_j dJ_j/dl_j`` (own column of W plus the shared bias), so
    ``Jdot_k = <dJ_k/dl_k, d l_k/dt>``. Returns ``(Jdot [..., K], logit velocities [..., K, n])``.
    """
    _, Jk, resid = _bandit_parts(logits)
    gl = Jk[..., None] * resid                             # dJ_k/dl_k
    vel = gl + gl.sum(-2, keepdims=True)
    return (gl * vel).sum(-1), vel


def bandit_jddot_exact(logits):
    """Exact ``Jddot = 2 grad J^T H grad J`` (H the Hessian of J in theta), shared-bias bandit.

    In context k, ``d^2 J_k / dl^2 = J_k [r r^T - diag(pi) + pi pi^T]`` with ``r = e_k - pi_k``;
    ``Jddot = 2 sum_k ldot_k^T (d^2 J_k/dl^2) ldot_k`` with ``ldot_k`` the logit velocity.
    """
    pi, Jk, resid = _bandit_parts(logits)
    _, vel = bandit_rates(logits)
    rv = (resid * vel).sum(-1)
    pv = (pi * vel).sum(-1)
    quad = rv ** 2 - (pi * vel ** 2).sum(-1) + pv ** 2
    return 2 * (Jk * quad).sum(-1)


def bandit_factored(logits):
    """The factored reading ``grad J_k = f(J_k) v_k`` with ``f(u) = u (1 - u)`` at this theta.

    Returns ``(norms [..., K], rho [...], jddot_approx)`` where ``jddot_approx`` is App. C.2's
    ``sum_k 2 f'/f Jdot_k^2`` with the *current* ``v_k`` (the ``grad v_k`` terms dropped).
    """
    _, Jk, resid = _bandit_parts(logits)
    v_logit = resid / (1 - Jk)[..., None]                  # v_k in logit space of context k
    # parameter-space v_k = (W column k, b): both blocks equal v_logit
    norms = np.sqrt(2 * (v_logit ** 2).sum(-1))
    rho = (v_logit[..., 0, :] * v_logit[..., 1, :]).sum(-1) / (norms[..., 0] * norms[..., 1])
    jdot, _ = bandit_rates(logits)
    f = Jk * (1 - Jk)
    df = 1 - 2 * Jk
    return norms, rho, (2 * df / f * jdot ** 2).sum(-1)


def neglected_terms(J1, J2, n, skew=0.0):
    """Exact ``Jddot``, App. C's approximation, and the neglected ``grad v_k`` part, at (J1, J2)."""
    logits = bandit_logits(J1, J2, n, skew)
    exact = bandit_jddot_exact(logits)
    _, _, approx = bandit_factored(logits)
    return exact, approx, exact - approx


def bandit_segment(xi, n, skew=0.0, n_points=401, trim=1e-3):
    """Exact and App.-C-approximate ``Jddot`` along the segment (0, 1 - xi) -> (xi, 1) (Sec. 3.1).

    The end points themselves lie at infinite logits, so the segment is trimmed by ``trim``
    (a fraction of its length) at both ends. Returns ``(s, exact, approx)``.
    """
    s = np.linspace(trim, 1 - trim, n_points)
    exact, approx, _ = neglected_terms(xi * s, 1 - xi + xi * s, n, skew)
    return s, exact, approx


def first_zero(s, values):
    """Linear-interpolated first sign change of ``values`` along ``s`` (NaN if none)."""
    v = np.asarray(values)
    idx = np.flatnonzero(np.sign(v[:-1]) != np.sign(v[1:]))
    if not idx.size:
        return np.nan
    i = idx[0]
    return s[i] - v[i] * (s[i + 1] - s[i]) / (v[i + 1] - v[i])


def between_null_clines(model, J2_values, J1_max=0.5):
    """App. C.2's conclusion at each height ``J2``: where the sign change of ``Jddot`` lies.

    For each ``J2`` finds ``a`` (``J1dot(a, J2) = 0``) and ``b`` (``J2dot(b, J2) = 0``) in
    ``(0, J1_max)``, ``Jddot`` at both, and the first zero ``z`` of ``Jddot(., J2)`` on
    ``(0, J1_max)``. Returns a dict of arrays (NaN where a curve has no point at this height).
    """
    rows = {"J2": [], "a": [], "b": [], "jddot_a": [], "jddot_b": [], "zero": []}
    for y in np.atleast_1d(J2_values).astype(float):
        def rate(x, k):  # J_k dot without its positive factor g_k (same sign, no 0 at the edge)
            return model.field(x, y)[k] / np.maximum(model.g[k]((x, y)[k]), 1e-300)
        xs = np.linspace(1e-6, J1_max, 4001)
        roots = []
        for k in (0, 1):  # first sign change of J_k dot along J1, refined by brentq
            r = rate(xs, k)
            i = np.flatnonzero(np.sign(r[:-1]) != np.sign(r[1:]))
            roots.append(brentq(rate, xs[i[0]], xs[i[0] + 1], args=(k,), xtol=1e-13)
                         if i.size else np.nan)
        jd = model.jddot(np.stack([xs, np.full_like(xs, y)], -1))
        z = first_zero(xs, jd)
        rows["J2"].append(y)
        rows["a"].append(roots[0])
        rows["b"].append(roots[1])
        for key, root in (("jddot_a", roots[0]), ("jddot_b", roots[1])):
            rows[key].append(float(model.jddot([root, y])) if np.isfinite(root) else np.nan)
        rows["zero"].append(z)
    return {k: np.array(v) for k, v in rows.items()}


def learning_curves(model, J_start, t_max=1e4, n_points=300):
    """Deterministic ``J_k(t)`` from ``J_start`` under ``model`` (expected updates, continuous
    time).

    Integrates the J-space ODE in the logit coordinates ``x_k = log(J_k / (1 - J_k))``
    (stiff-free near the corners) with ``scipy.integrate.solve_ivp``; returns
    ``(t [n_points], J [n_points, K])`` on a log-spaced time grid.
    """
    J_start = np.asarray(J_start, dtype=float)

    def rhs(_, x):
        J = 1 / (1 + np.exp(-x))
        return model.jdot(J) / (J * (1 - J))

    t = np.minimum(np.concatenate([[0.0], np.logspace(-2, np.log10(t_max), n_points - 1)]), t_max)
    x0 = np.log(J_start / (1 - J_start))
    sol = solve_ivp(rhs, (0, t_max), x0, t_eval=t, method="LSODA", rtol=1e-8, atol=1e-10)
    return sol.t, 1 / (1 + np.exp(-sol.y.T))


# --- more than two components (Sec. 3.2) ------------------------------------------------

def gram_fully_interfering(K, rho=-0.5, norm2=2.0):
    """Gram matrix of ``K`` equally interfering components: ``||v_k||^2 = norm2`` and
    ``rho_kj = rho / (K - 1)`` for every pair (Sec. 3.2's 'fully interfering' case).

    This is the (K x K) shared-bias bandit at the uniform policy (``rho_kj = -1/(2(K - 1))``
    for ``rho = -1/2``) and the 2x2 bandit's ``||v||^2 = 2, rho = -1/2`` for ``K = 2``. The
    matrix is positive semi-definite for ``rho >= -1`` (its smallest eigenvalue is
    ``norm2 (1 + rho)``).
    """
    K = check_int("K", K, 2)
    r = check_float("rho", rho, -1, 1) / (K - 1)
    return norm2 * ((1 - r) * np.eye(K) + r * np.ones((K, K)))


def fully_interfering(K, f="on_policy", rho=-0.5, n_zero=None):
    """A :class:`FactoredModel` of ``K`` fully interfering components.

    ``f``: the coupling of every component (a name of :data:`COUPLINGS` or a
    :class:`Coupling`). ``n_zero``: if given, only the first ``n_zero`` components use ``f``
    and the others supervised learning's ``1 - u`` (``f(0) > 0``), so that the number of
    components with ``f_k(0) = 0`` varies at fixed ``K`` (Sec. 3.2).
    """
    c = coupling(f) if isinstance(f, str) else f
    fs = [c] * K
    if n_zero is not None:
        check_int("n_zero", n_zero, 0, K)
        fs = [c] * n_zero + [coupling("supervised")] * (K - n_zero)
    return FactoredModel(fs, gram=gram_fully_interfering(K, rho))


def zeros_in_unit_interval(c):
    """The zeros of a coupling ``f`` on ``[0, 1]``, solved exactly by sympy (sorted floats)."""
    roots = sp.solveset(sp.simplify(c.expr), U, sp.Interval(0, 1))
    if not isinstance(roots, sp.FiniteSet):
        raise ValueError(f"coupling {c.name}: zeros on [0, 1] are not a finite set ({roots})")
    return sorted(float(r) for r in roots)


def _positive_null_vector(G):
    """Is there ``y > 0`` with ``G y = 0``? (``y >= 1`` by scale invariance; a linear program)."""
    m = G.shape[0]
    res = linprog(np.zeros(m), A_eq=G, b_eq=np.zeros(m), bounds=[(1, None)] * m,
                  method="highs")
    return res.status == 0


def fixed_points(model):
    """Fixed points of the K-component flow ``Jdot_k = g_k(J_k) sum_j G_kj f_j(J_j)`` in
    ``[0, 1]^K`` (``g = f``), found without assuming where they are.

    At a fixed point each component either sits at a zero of its ``f_k`` (found by sympy), or
    has ``f_k(J_k) > 0`` and then ``sum_j G_kj f_j = 0``: for the set ``S`` of such components
    this needs ``y > 0`` with ``G_SS y = 0`` (a linear program for each of the ``2^K - 1``
    sets). Returns ``(points, free_sets)``: the isolated fixed points (every combination of
    zeros, ``[n, K]``) and the sets ``S`` that admit non-isolated fixed points (none when
    ``G`` is positive definite).
    """
    zeros = [zeros_in_unit_interval(c) for c in model.f]
    points = np.array(list(product(*zeros)), dtype=float).reshape(-1, model.K)
    free = [S for m in range(1, model.K + 1) for S in combinations(range(model.K), m)
            if _positive_null_vector(model.G[np.ix_(S, S)])]
    return points, free


def _inward_directions(point, K):
    """Unit directions from ``point`` into the cube: ``{0, 1, 2}^K`` lattice, signed inward
    at coordinates on the boundary, both signs inside."""
    grid = np.array([d for d in product((0, 1, 2), repeat=K) if any(d)], dtype=float)
    sign = np.where(np.asarray(point) >= 1, -1.0, 1.0)
    inside = (np.asarray(point) > 0) & (np.asarray(point) < 1)
    dirs = grid * sign
    if inside.any():
        dirs = np.concatenate([dirs, grid * np.where(inside, -sign, sign)])
    return dirs / np.linalg.norm(dirs, axis=1, keepdims=True)


def classify_fixed_point(model, point, radius=1e-3):
    """``stable`` / ``unstable`` / ``saddle`` from the flow on a small sphere around ``point``.

    The radial velocity ``<Jdot(p), p - point>`` at ``p = point + radius d`` for the
    ``3^K - 1`` lattice directions ``d`` into the cube: all inward -> stable, all outward ->
    unstable, both -> saddle (the corners are degenerate fixed points, whose Jacobian vanishes
    or is singular, so linearisation cannot classify them; cf. App. B.1). Generalises
    :func:`rayint_lib.model.dynamics.classify_corner` to ``K`` dimensions.
    """
    dirs = _inward_directions(point, model.K)
    p = np.asarray(point, float) + radius * dirs
    radial = (model.jdot(p) * dirs).sum(-1)
    if np.all(radial < 0):
        return "stable"
    if np.all(radial > 0):
        return "unstable"
    return "saddle"


def saddle_census(model, radius=1e-3):
    """Every fixed point of ``model`` with its type: ``{"points", "types", "free_sets",
    "n_saddles"}``."""
    points, free = fixed_points(model)
    types = [classify_fixed_point(model, p, radius) for p in points]
    return {"points": points, "types": types, "free_sets": free,
            "n_saddles": sum(t == "saddle" for t in types)}


def growth_factor(m, counts):
    """Factor per extra component of a log-linear least-squares fit ``count ~ C b^m``.

    Exponential growth has a constant factor ``b > 1`` per component; a polynomial count
    ``m^p`` has successive factors ``(1 + 1/m)^p`` that fall towards 1.
    """
    m, counts = np.asarray(m, float), np.asarray(counts, float)
    if np.any(counts <= 0) or m.size < 2:
        return np.nan
    return float(np.exp(np.polyfit(m, np.log(counts), 1)[0]))


def difference_factor(counts):
    """Factor by which the successive differences of ``counts`` grow in the last step,
    ``(c[-1] - c[-2]) / (c[-2] - c[-3])``.

    An exponential count ``C b^m + D`` gives exactly ``b`` at every ``m`` (the offset ``D``
    cancels); a polynomial count of degree ``p`` gives about ``1 + (p - 1)/m``, falling to 1
    (``m^3`` gives 1.49 at ``m = 6``, ``m^2`` 1.22, a linear count 1).
    """
    c = np.asarray(counts, float)
    if c.size < 3 or c[-2] - c[-3] <= 0:
        return np.nan
    return float((c[-1] - c[-2]) / (c[-2] - c[-3]))


def jdddot(model, J, h=1e-6):
    """``d Jddot / dt`` along the flow (central difference in the direction of ``Jdot``)."""
    J = np.asarray(J, float)
    v = model.jdot(J)
    return (model.jddot(J + h * v) - model.jddot(J - h * v)) / (2 * h)


def plateau_between(model, start, end, n=2001):
    """Definition 2 on the segment ``start -> end``: the first point where ``Jddot`` changes
    sign from negative to positive, with ``Jdot`` there (its flatness ``eps``) and the sign of
    ``Jdddot``. Returns ``{"signs": Jddot(start) < 0 < Jddot(end), "point", "eps",
    "jdddot", "plateau"}`` (``plateau``: an inflection with ``Jdddot > 0`` was found).
    """
    start, end = np.asarray(start, float), np.asarray(end, float)
    s = np.linspace(0, 1, n)
    P = start + s[:, None] * (end - start)
    v = model.jddot(P)
    out = {"signs": bool(v[0] < 0 < v[-1]), "point": np.full(model.K, np.nan), "eps": np.nan,
           "jdddot": np.nan, "plateau": False}
    idx = np.flatnonzero((v[:-1] < 0) & (v[1:] >= 0))
    if not idx.size:
        return out
    i = idx[0]
    t = brentq(lambda x: float(model.jddot(start + x * (end - start))), s[i], s[i + 1],
               xtol=1e-14)
    point = start + t * (end - start)
    third = float(jdddot(model, point))
    out.update(point=point, eps=float(model.jdot_total(point)), jdddot=third,
               plateau=bool(third > 0))
    return out


def plateaus_near_saddles(model, xi=1e-2, radius=1e-3, n=401):
    """Sec. 3.1's test near every saddle of ``model``, for any ``K``.

    For a saddle with components ``Z`` at 0 and ``O`` at 1, and each pair ``i in Z``,
    ``j in O``: the segment from the saddle with ``J_j = 1 - xi`` to the saddle with
    ``J_i = xi`` (in 2-D: from (0, 1 - xi) to (xi, 1)), tested by :func:`plateau_between`.
    Returns one row per (saddle, i, j): ``{"saddle", "i", "j", "signs", "plateau", "eps"}``.
    """
    census = saddle_census(model, radius)
    rows = []
    for p, kind in zip(census["points"], census["types"]):
        if kind != "saddle":
            continue
        for i in np.flatnonzero(p == 0):
            for j in np.flatnonzero(p == 1):
                a, b = p.copy(), p.copy()
                a[j], b[i] = 1 - xi, xi
                r = plateau_between(model, a, b, n)
                rows.append({"saddle": tuple(p), "i": int(i), "j": int(j),
                             "signs": r["signs"], "plateau": r["plateau"], "eps": r["eps"]})
    return rows


def wta_mask(model, J):
    """Definition 3 in ``K`` dimensions: exactly one ``Jdot_k > 0`` and all others ``<= 0``."""
    d = model.jdot(J)
    return (d > 0).sum(-1) == 1


def wta_area(model, n_grid=400):
    """Fraction of the square in a WTA region (midpoint rule on ``n_grid^2`` cells, 2-D)."""
    g = (np.arange(n_grid) + 0.5) / n_grid
    X, Y = np.meshgrid(g, g)
    return float(model.wta(X, Y).mean())


def wta_face_width(model, k, level=0.5, hi=0.5):
    """Largest ``w`` such that ``J_k = level``, ``J_j = w`` (every ``j != k``) is WTA for ``k``.

    A positive width is a WTA region next to the face where every other component is 0
    (Sec. 3.2: 'WTA regions must exist near the boundaries'); 0 when there is none.
    """
    def point(w):
        J = np.full(model.K, float(w))
        J[k] = level
        return J

    def worst_other(w):  # largest Jdot_j / g_j of the other components (<= 0 inside WTA)
        J = point(w)
        d = model.jdot(J) / np.maximum([g(x) for g, x in zip(model.g, J)], 1e-300)
        return float(np.delete(d, k).max())

    lo = 1e-9
    if model.jdot(point(lo))[k] <= 0 or worst_other(lo) > 0:
        return 0.0
    if worst_other(hi) <= 0:
        return hi
    return float(brentq(worst_other, lo, hi, xtol=1e-13))


def follow_flow(model, J_start, J_end=None, ds=0.05, max_length=400.0):
    """Follow the flow of ``model`` from each start (``[runs, K]``) and find its plateaus.

    The one orbit integrator (:func:`rayint_lib.model.dynamics.arc_length_orbits`, RK4 by arc
    length) in logit coordinates ``z_k = log(J_k / (1 - J_k))``, in ``K`` dimensions, until
    ``J >= J_end`` (default ``K - 0.1``, App. A's stopping rule). Along each orbit every point
    where ``Jddot`` changes sign from negative to positive (a local minimum of ``Jdot`` in
    time: Definition 2's inflection with ``Jdddot > 0``) is a plateau. Returns
    ``{"flatness": min Jdot over those points (inf if none), "n_plateaus", "solved"}``.
    """
    J_start = np.atleast_2d(np.asarray(J_start, float))
    runs, K = J_start.shape
    J_end = K - 0.1 if J_end is None else J_end
    z = np.log(J_start) - np.log1p(-J_start)
    flat = np.full(runs, np.inf)
    count = np.zeros(runs, int)
    solved = J_start.sum(1) >= J_end
    prev = model.jddot(J_start)

    def velocity(y):
        J = expit(y)
        v = model.jdot(J) / (J * expit(-y))          # dz/dt, finite even where J rounds to 1
        return v / (np.linalg.norm(v, axis=-1, keepdims=True) + 1e-300)

    def step(alive, _, y):
        J = expit(y)
        jdd = model.jddot(J)
        turn = (prev[alive] < 0) & (jdd >= 0)
        if turn.any():
            who = alive[turn]
            flat[who] = np.minimum(flat[who], model.jdot_total(J[turn]))
            count[who] += 1
        prev[alive] = jdd
        done = J.sum(1) >= J_end
        solved[alive[done]] = True
        return done

    arc_length_orbits(z, np.flatnonzero(~solved), velocity, step, ds, max_length)
    return {"flatness": flat, "n_plateaus": count, "solved": solved}


def low_performance_starts(K, n_starts, rng, J0=None):
    """Starts ``[n_starts, K]`` with total performance ``J0`` (default ``K/10``, App. A),
    uniform over the simplex ``sum_k J_k = J0`` (Dirichlet(1, ..., 1) scaled)."""
    J0 = K / 10 if J0 is None else J0
    J = rng.dirichlet(np.ones(K), size=n_starts) * J0
    return np.clip(J, 1e-9, 1 - 1e-9)


def basins_beyond_wta(model, n_starts, rng, eps=0.1, J0=None, **flow):
    """Do the basins of eps-plateaus extend beyond the WTA regions (Sec. 3.2, Fig. 2)?

    Draws low-performance starts (:func:`low_performance_starts`), marks those in a WTA
    region (Definition 3), follows each orbit (:func:`follow_flow`) and marks those that
    traverse a plateau with ``Jdot <= eps``. Returns per start ``{"starts", "wta",
    "flatness", "hits", "beyond"}`` with ``beyond = hits & ~wta`` (other ``eps`` from
    ``flatness``).
    """
    starts = low_performance_starts(model.K, n_starts, rng, J0)
    wta = wta_mask(model, starts)
    flatness = follow_flow(model, starts, **flow)["flatness"]
    hits = flatness <= eps
    return {"starts": starts, "wta": wta, "flatness": flatness, "hits": hits,
            "beyond": hits & ~wta}

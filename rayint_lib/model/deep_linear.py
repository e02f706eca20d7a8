"""Deep linear networks (Sec. 3.4): the Saxe, McClelland & Ganguli (2014) comparison.

A network ``y = W2 W1 x`` (no biases; ``W1``: hidden x inputs, ``W2``: outputs x hidden)
trained by full-batch gradient descent on ``L = ||Y - W2 W1 X||^2 / (2P)`` over ``P``
samples. With ``Sigma_xx = X X^T / P`` and ``Sigma_yx = Y X^T / P`` the gradient only
depends on the correlations (the paper's update rule of Sec. 3.4)::

    W1 <- W1 + eta W2^T (Sigma_yx - W2 W1 Sigma_xx)
    W2 <- W2 + eta (Sigma_yx - W2 W1 Sigma_xx) W1^T

Conventions: time ``t = eta * step`` (``tau = 1``); ``Sigma_yx = U diag(s) V^T``; the
strength of mode ``i`` is ``a_i = u_i^T W2 W1 v_i`` and its performance ``p_i = a_i / s_i``
(0 = nothing learned, 1 = learned). With ``Sigma_xx = I`` and a decoupled, balanced start
(``W1 = O diag(sqrt(a0)) V^T``, ``W2 = U diag(sqrt(a0)) O^T``) every mode follows
``da/dt = 2 a (s - a)``, Saxe et al.'s Eq. (5)-(6) with ``a = u v`` and ``u = v``.

Arrays have a leading runs axis, as in the bandit simulator.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import check_float, check_int, check_list, check_memory

# --------------------------------------------------------------------------- parameters

@dataclass(frozen=True)
class DeepLinearConfig:
    """Validated parameters of ``04_deep_linear`` (Sec. 3.4)."""

    singular_values: tuple = (4.0, 1.0, 0.25)  # of Sigma_yx, largest first
    hidden: int = 16             # hidden width
    eta: float = 0.02            # step size of the random-initialisation runs
    init_scale: float = 1e-4     # std of each weight at a small random initialisation
    n_steps: int = 2500          # gradient steps of the random-initialisation runs
    n_runs: int = 20             # independent random initialisations
    seed: int = 0                # seed of the numpy Generator
    eta_closed_form: float = 0.002   # small step size for the closed-form check
    aligned_strength: float = 1e-4   # a0 of every mode at the decoupled initialisation
    tolerance: float = 0.02      # plateau detector: flatness tolerance
    min_ratio: float = 2.0       # plateau detector: t_b / t_a at least

    def __post_init__(self):
        s = check_list("singular_values", self.singular_values, check_float, low=0, high=10.0,
                       low_open=True)
        if s != sorted(s, reverse=True) or len(set(s)) != len(s):
            raise ValueError("singular_values must be distinct and in decreasing order; "
                             f"got {s}")
        object.__setattr__(self, "singular_values", tuple(s))
        check_int("hidden", self.hidden, len(s), 512)
        check_float("eta", self.eta, 0, 1.0 / max(s), low_open=True, high_open=True)
        check_float("init_scale", self.init_scale, 0, 1.0, low_open=True)
        check_int("n_steps", self.n_steps, 10, 1_000_000)
        check_int("n_runs", self.n_runs, 1, 10_000)
        check_int("seed", self.seed, 0)
        check_float("eta_closed_form", self.eta_closed_form, 0, self.eta, low_open=True)
        check_float("aligned_strength", self.aligned_strength, 0, min(s), low_open=True,
                    high_open=True)
        check_float("tolerance", self.tolerance, 0, 0.5, low_open=True, high_open=True)
        check_float("min_ratio", self.min_ratio, 1.0, None, low_open=True)
        check_memory(f"n_runs={self.n_runs}, n_steps={self.n_steps}, "
                     f"singular_values ({len(s)} modes)", self.memory_bytes(),
                     "runs x steps x (modes^2 x 10 + modes x 2 + 8) x 8 bytes: the recorded "
                     "trajectories of the chapter, gradient cosines included, plus the "
                     "closed-form runs")

    def memory_bytes(self) -> int:
        """Bytes the chapter's runs keep at once (:func:`train` records ``[runs, steps + 1,
        modes, modes]`` per trajectory: the random start with its gradient cosines and a
        second decomposition, the decoupled, orthogonal and shallow starts, one solo run),
        plus the three closed-form runs at the small step sizes."""
        N, T = len(self.singular_values), self.n_steps + 1
        per_step = 10 * N * N + 2 * N + 8
        closed = 1.75 * self.t_max / self.eta_closed_form * (N * N + 1)
        return int(8 * (self.n_runs * T * per_step + closed))

    @property
    def s(self) -> np.ndarray:
        return np.asarray(self.singular_values)

    @property
    def t_max(self) -> float:
        """Continuous time covered by the random-initialisation runs."""
        return self.eta * self.n_steps


# --------------------------------------------------------------------------------- data

@dataclass(frozen=True)
class Task:
    """Synthetic data with ``Sigma_xx = I`` exactly and ``Sigma_yx = U diag(s) V^T``."""

    X: np.ndarray          # inputs x samples
    Y: np.ndarray          # outputs x samples
    U: np.ndarray          # output singular vectors (columns)
    s: np.ndarray
    V: np.ndarray          # input singular vectors (columns)

    @property
    def sigma_xx(self):
        return self.X @ self.X.T / self.X.shape[1]

    @property
    def sigma_yx(self):
        return self.Y @ self.X.T / self.X.shape[1]

    @property
    def sigma_yy(self):
        return self.Y @ self.Y.T / self.X.shape[1]


def random_orthogonal(rng, n):
    """A Haar-random ``n x n`` orthogonal matrix."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def make_task(singular_values, rng, samples_per_dim=4) -> Task:
    """Orthonormal inputs (``X X^T / P = I``) and targets ``Y = Sigma_yx X``.

    Inputs and outputs have as many dimensions as there are singular values; ``P =
    samples_per_dim`` times that many samples.
    """
    s = np.asarray(singular_values, dtype=float)
    n = s.size
    P = samples_per_dim * n
    X = np.sqrt(P) * random_orthogonal(rng, P)[:n]
    U, V = random_orthogonal(rng, n), random_orthogonal(rng, n)
    Y = (U * s) @ V.T @ X
    return Task(X=X, Y=Y, U=U, s=s, V=V)


# ------------------------------------------------------------------------ closed forms

def saxe_mode(t, s, a0):
    """Saxe et al. (2014): ``a(t) = s e^{2st} / (e^{2st} - 1 + s/a0)``, solving ``da/dt = 2a(s-a)``.

    Decoupled, balanced initialisation with ``Sigma_xx = I``, ``tau = 1``, ``t = eta * step``.
    Broadcasts over ``t``, ``s`` and ``a0``; overflow-safe for large ``s t``.
    """
    t, s, a0 = np.broadcast_arrays(np.asarray(t, float), np.asarray(s, float),
                                   np.asarray(a0, float))
    e = np.exp(-2 * s * t)
    return s / (1.0 + (s / a0 - 1.0) * e)


def saxe_half_time(s, a0):
    """Time at which the closed-form mode reaches half its strength: ``ln(s/a0 - 1) / (2s)``."""
    s = np.asarray(s, float)
    return np.log(s / a0 - 1.0) / (2 * s)


def deep_rate(p, s):
    """Learning speed of a mode against its own performance, deep (closed form):
    ``dp/dt = 2 s p (1 - p)``.

    The per-mode analogue of ``f(J)`` (Sec. 3.1): the same ``u (1 - u)`` shape as on-policy
    REINFORCE, vanishing at ``p = 0``.
    """
    p = np.asarray(p, float)
    return 2 * s * p * (1 - p)


def shallow_rate(p, s):
    """Shallow network ``W <- W + eta (Sigma_yx - W)``: ``dp/dt = 1 - p`` (the supervised
    ``1 - u`` shape)."""
    p = np.asarray(p, float)
    return np.ones_like(np.asarray(s, float)) * (1 - p)


# ---------------------------------------------------------------------- initialisations

def init_random(rng, n_runs, hidden, n_in, n_out, scale):
    """Small random weights: every entry ``N(0, scale^2)``.

    Returns ``W1 [R,h,in], W2 [R,out,h]``."""
    W1 = scale * rng.standard_normal((n_runs, hidden, n_in))
    W2 = scale * rng.standard_normal((n_runs, n_out, hidden))
    return W1, W2


def init_aligned(task, hidden, a0, rng):
    """Decoupled, balanced start: ``W1 = O diag(sqrt a0) V^T``, ``W2 = U diag(sqrt a0) O^T``.

    ``O`` has orthonormal columns (hidden x modes). One run (leading axis of size 1).
    """
    n = task.s.size
    Q = random_orthogonal(rng, hidden)[:, :n]
    r = np.sqrt(np.broadcast_to(np.asarray(a0, float), (n,)))
    W1 = (Q * r) @ task.V.T
    W2 = (task.U * r) @ Q.T
    return W1[None], W2[None]


def init_decoupled_random(task, n_runs, hidden, scale, rng):
    """Decoupled start at the scale of :func:`init_random`: aligned with the data's ``U, V``.

    ``W1 = O r V^T``, ``W2 = U r O^T`` with ``r = scale sqrt(hidden)`` (the norm of a random
    column) and a random ``O`` per run: it needs the data's singular vectors, as
    pretraining would find them (Saxe et al. 2014, Sec. 3), but keeps the weights small.
    """
    W = [init_aligned(task, hidden, (scale * np.sqrt(hidden)) ** 2, rng) for _ in range(n_runs)]
    return np.concatenate([w[0] for w in W]), np.concatenate([w[1] for w in W])


def init_orthogonal(rng, n_runs, hidden, n_in, n_out):
    """Norm-preserving start (Saxe et al.'s remedy): each layer a random isometry.

    ``W1`` has orthonormal columns and ``W2`` orthonormal rows, so every layer preserves
    the norm of every input variation (all singular values 1).
    """
    W1 = np.stack([random_orthogonal(rng, hidden)[:, :n_in] for _ in range(n_runs)])
    W2 = np.stack([random_orthogonal(rng, hidden)[:n_out, :] for _ in range(n_runs)])
    return W1, W2


# ----------------------------------------------------------------------------- training

@dataclass
class Trajectory:
    """Recorded training of ``R`` networks for ``T`` steps (index 0 = start)."""

    t: np.ndarray            # [T+1] continuous time eta * step
    modes: np.ndarray        # [R, T+1, N, N]  U^T W V (diagonal = mode strengths a_i)
    loss: np.ndarray         # [R, T+1]
    s: np.ndarray            # [N]
    grad_cos: np.ndarray | None = None    # [R, T+1, N, N] cosines of per-mode gradients
    grad_norm: np.ndarray | None = None   # [R, T+1, N] norms of per-mode gradients

    @property
    def strength(self):
        """Mode strengths ``a_i(t)``, ``[R, T+1, N]``."""
        return np.diagonal(self.modes, axis1=-2, axis2=-1)

    @property
    def performance(self):
        """Per-mode performance ``p_i = a_i / s_i``, ``[R, T+1, N]``."""
        return self.strength / self.s

    @property
    def progress(self):
        """Mean performance over modes, clipped to ``[0, 1]`` (the analogue of ``J / K``)."""
        return np.clip(self.performance, 0, 1).mean(-1)

    @property
    def loss_progress(self):
        """``1 - L(t) / L(0)``: the normalised training-error curve of Saxe et al."""
        return 1 - self.loss / self.loss[:, :1]


def mode_gradients(W1, W2, task_or_corr, decomposition="input"):
    """Per-mode components of the loss gradient, flattened: ``[R, N, n_params]``.

    The loss is split into one term per mode; the component of mode ``i`` is the gradient
    of its term with respect to ``(W1, W2)``:

    * ``"input"``: ``L_i = ||E v_i||^2 / 2`` (the error on input direction ``v_i``; these
      terms add up to ``L``, like the bandit's contexts add up to ``J``);
    * ``"output"``: ``L_i = ||u_i^T E||^2 / 2`` (error on output direction ``u_i``; adds up);
    * ``"strength"``: ``L_i = (s_i - a_i)^2 / 2`` (the diagonal terms only).

    ``E = Sigma_yx - W2 W1`` (``Sigma_xx = I``).
    """
    U, s, V, S = _corr(task_or_corr)
    E = S - W2 @ W1                                        # [R, out, in]
    W2T = W2.transpose(0, 2, 1)                            # [R, h, out]
    if decomposition == "input":
        Ev = E @ V                                          # [R, out, N]: E v_i
        left = (W2T @ Ev).transpose(0, 2, 1)                # [R, N, h]: W2^T E v_i
        g1 = -left[..., None] * V.T[None, :, None, :]       # -W2^T E v_i v_i^T
        g2 = -(W1 @ V).transpose(0, 2, 1)[..., None] * Ev.transpose(0, 2, 1)[:, :, None, :]
    elif decomposition == "output":
        uE = U.T @ E                                        # [R, N, in]: u_i^T E
        g1 = -(W2T @ U).transpose(0, 2, 1)[..., None] * uE[:, :, None, :]
        g2 = -(uE @ W1.transpose(0, 2, 1))[..., None] * U.T[None, :, None, :]
    elif decomposition == "strength":
        W2u, W1v = W2T @ U, W1 @ V                          # [R, h, N] each
        err = (s - (W2u * W1v).sum(1))[:, None, :]          # s_i - a_i, [R, 1, N]
        g1 = -(err * W2u).transpose(0, 2, 1)[..., None] * V.T[None, :, None, :]
        g2 = -(err * W1v).transpose(0, 2, 1)[..., None] * U.T[None, :, None, :]
    else:
        raise ValueError("decomposition must be 'input', 'output' or 'strength'; "
                         f"got {decomposition!r}")
    R, N = g1.shape[:2]
    return np.concatenate([g1.reshape(R, N, -1), g2.reshape(R, N, -1)], axis=-1)


def gradient_cosines(G):
    """Cosines between per-mode gradient components ``G [R, N, P]`` -> ``[R, N, N]``, and
    their norms ``[R, N]``."""
    gram = G @ G.transpose(0, 2, 1)
    norm = np.sqrt(np.einsum("rii->ri", gram))
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = gram / (norm[..., :, None] * norm[..., None, :])
    return cos, norm


def _corr(task_or_corr):
    if isinstance(task_or_corr, Task):
        t = task_or_corr
        return t.U, t.s, t.V, t.sigma_yx
    U, s, V = task_or_corr
    return U, s, V, (U * s) @ V.T


def train(W1, W2, task, eta, n_steps, decomposition=None, sigma_yx=None):
    """Full-batch gradient descent of the two-layer network, all runs at once.

    ``sigma_yx`` overrides the task's target correlation (used to train on a subset of the
    modes); mode strengths are always measured on the task's ``U, V``. With
    ``decomposition`` set, the per-mode gradient cosines and norms are recorded too.
    """
    S = task.sigma_yx if sigma_yx is None else sigma_yx
    Sxx = task.sigma_xx
    syy = np.trace(task.sigma_yy if sigma_yx is None else S @ S.T)
    corr = (task.U, np.einsum("oi,oj,ji->i", task.U, S, task.V), task.V)
    W1, W2 = W1.copy(), W2.copy()
    R = W1.shape[0]
    N = task.s.size
    W = np.empty((R, n_steps + 1) + S.shape)
    gcos = np.empty((R, n_steps + 1, N, N)) if decomposition else None
    gnorm = np.empty((R, n_steps + 1, N)) if decomposition else None
    for k in range(n_steps + 1):
        Wk = W[:, k] = W2 @ W1
        if decomposition:
            gcos[:, k], gnorm[:, k] = gradient_cosines(mode_gradients(W1, W2, corr, decomposition))
        if k == n_steps:
            break
        E = S - Wk @ Sxx
        W1, W2 = W1 + eta * W2.transpose(0, 2, 1) @ E, W2 + eta * E @ W1.transpose(0, 2, 1)
    return Trajectory(t=eta * np.arange(n_steps + 1), modes=task.U.T @ W @ task.V,
                      loss=_loss(W, S, Sxx, syy), s=task.s, grad_cos=gcos, grad_norm=gnorm)


def _loss(W, S, Sxx, syy):
    """``L = (tr Syy - 2 tr(W^T Syx) + tr(W Sxx W^T)) / 2`` for every recorded
    ``W [..., out, in]``."""
    return 0.5 * (syy - 2 * np.einsum("...oi,oi->...", W, S)
                  + np.einsum("...oi,ij,...oj->...", W, Sxx, W, optimize=True))


def train_shallow(W, task, eta, n_steps):
    """Full-batch gradient descent of the one-layer network ``y = W x``."""
    S, Sxx, syy = task.sigma_yx, task.sigma_xx, np.trace(task.sigma_yy)
    Ws = np.empty((W.shape[0], n_steps + 1) + S.shape)
    Ws[:, 0] = W
    for k in range(n_steps):
        Ws[:, k + 1] = Ws[:, k] + eta * (S - Ws[:, k] @ Sxx)
    return Trajectory(t=eta * np.arange(n_steps + 1), modes=task.U.T @ Ws @ task.V,
                      loss=_loss(Ws, S, Sxx, syy), s=task.s)


# ---------------------------------------------------------------------------- measures

def closed_form_error(traj, a0):
    """Max over modes and time of ``|a_sim - a_closed| / s`` (one run)."""
    cf = saxe_mode(traj.t[:, None], traj.s[None, :], a0)
    return float(np.max(np.abs(traj.strength[0] - cf) / traj.s))


def crossing_times(t, p, level=0.5):
    """First time each curve ``p [..., T+1]`` reaches ``level`` (NaN if never), linearly
    interpolated."""
    p = np.asarray(p, float)
    above = p >= level
    hit = above.any(-1)
    k = np.where(hit, above.argmax(-1), 0)
    k0 = np.maximum(k - 1, 0)
    p1 = np.take_along_axis(p, k[..., None], -1)[..., 0]
    p0 = np.take_along_axis(p, k0[..., None], -1)[..., 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where((k > 0) & (p1 > p0), (level - p0) / (p1 - p0), 0.0)
    out = t[k0] + frac * (t[k] - t[k0])
    return np.where(hit, np.where(k == 0, t[0], out), np.nan)


def max_regression(p):
    """Largest drop of each curve below its running maximum:
    ``max_t (max_{t'<=t} p - p(t))``, ``[...]``."""
    return np.max(np.maximum.accumulate(p, axis=-1) - p, axis=-1)


def rates(traj):
    """Per-mode performance ``p`` and its speed ``dp/dt`` (forward differences), ``[R, T, N]``
    each."""
    p = traj.performance
    return p[:, :-1], np.diff(p, axis=1) / np.diff(traj.t)[None, :, None]


def rate_at(traj, level):
    """``dp/dt`` of each mode of each run when ``p`` first reaches ``level``, ``[R, N]`` (NaN
    if never)."""
    p, dp = rates(traj)
    above = p >= level
    k = above.argmax(1)                                   # [R, N]
    out = np.take_along_axis(dp, k[:, None, :], 1)[:, 0]
    return np.where(above.any(1), out, np.nan)


# ------------------------------------------------------------------------- the chapter

def closed_form_check(task, cfg: DeepLinearConfig, rng, etas=None):
    """Decoupled start (``a0 = cfg.aligned_strength``) trained up to ``cfg.t_max`` at each step
    size.

    Returns ``{eta: Trajectory}`` (default step sizes ``4, 2, 1`` times ``eta_closed_form``).
    """
    etas = etas or [4 * cfg.eta_closed_form, 2 * cfg.eta_closed_form, cfg.eta_closed_form]
    W1, W2 = init_aligned(task, cfg.hidden, cfg.aligned_strength, rng)
    return {eta: train(W1, W2, task, eta, int(round(cfg.t_max / eta))) for eta in etas}


def convergence_order(errors):
    """Slope of ``log error`` against ``log eta`` (``errors``: ``{eta: error}``); 1 = linear."""
    e = np.array(sorted(errors.items()))
    return float(np.polyfit(np.log(e[:, 0]), np.log(e[:, 1]), 1)[0])


def half_times(traj, level=0.5):
    """Time at which each mode of each run reaches ``level`` of its strength, ``[R, N]``."""
    return crossing_times(traj.t, np.moveaxis(traj.performance, 1, -1), level)


def slope_sums(traj, lo=1e-3, hi=1e-1):
    """Per run and mode, the sums that a least-squares line of ``log(dp/dt)`` against
    ``log p`` needs (``n, sum x, sum y, sum x^2, sum x y`` over ``lo <= p <= hi``),
    ``[R, N, 5]``: pooled fits over any resample of runs are sums of these rows."""
    p, dp = rates(traj)
    m = (p >= lo) & (p <= hi) & (dp > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(m, np.log(np.where(m, p, 1.0)), 0.0)
        y = np.where(m, np.log(np.where(m, dp, 1.0)), 0.0)
    return np.stack([m.sum(1), x.sum(1), y.sum(1), (x * x).sum(1), (x * y).sum(1)], axis=-1)


def slope_from_sums(sums):
    """Pooled least-squares slopes per mode from :func:`slope_sums` rows ``[R, N, 5]`` -> ``[N]``
    (NaN for a mode with fewer than 3 points)."""
    n, sx, sy, sxx, sxy = np.moveaxis(np.asarray(sums, float).sum(0), -1, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    return np.where(n > 2, slope, np.nan)


def low_performance_slope(traj, lo=1e-3, hi=1e-1):
    """Per mode, the slope of ``log(dp/dt)`` against ``log p`` for ``lo <= p <= hi`` (all runs
    pooled), ``[N]``.

    1 means the learning speed vanishes linearly as the mode's performance goes to 0 (the
    deep closed form, ``2 s p (1 - p)``); 0 means it does not depend on it (shallow, ``1 - p``).
    """
    return slope_from_sums(slope_sums(traj, lo, hi))

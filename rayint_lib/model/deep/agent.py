"""An on-policy actor-critic (REINFORCE with a learned baseline) on the multi-room task
(Sec. 3.3), many seeds at once, and the paper's controls.

The network is a shared-torso MLP (``depth`` ReLU layers of ``width`` units) whose output
layer has two heads: ``4`` policy logits and one value (the baseline). Each update rolls out
``episodes`` episodes of at most ``horizon`` steps (fixed-length rollouts with a done mask,
vmapped), and takes one optimizer step (optax) on

    loss = - sum_t A_t log pi(a_t | s_t) + value_coef * 1/2 sum_t (Y_t - V(s_t))^2,

averaged over episodes, with ``A_t = Y_t - V(s_t)`` and ``Y_t`` (held fixed: no gradient
flows through it) the critic's target, chosen by ``critic``:

* ``"mc"`` (the default): the Monte Carlo return to go ``Y_t = G_t`` (undiscounted, 0/1);
  the baseline moves no expectation;
* ``"td"``: the bootstrapped TD(0) target ``Y_t = r_t + gamma V(s_{t+1})`` (semi-gradient
  TD for the critic, the one-step TD error as the actor's advantage). ``V(s_{t+1})`` counts
  as 0 when step ``t`` ended the episode, at the goal (a terminal state) or at the time
  limit: the objective ``J_k`` is the success probability *within* the horizon, so the
  time limit is part of the task and no return follows it (as for ``G_t``); the value of
  a time-limit state is never bootstrapped. ``gamma`` (default 1, as ``G_t``) discounts
  the bootstrap.

Learners (the controls of Fig. 3 and Sec. 3.3):

* ``on_policy``: behaviour = the policy;
* ``mixture``: behaviour ``(1 - m) pi + m / 4`` (``m = mix``, uniform-action mixing as in
  Fig. 6), same loss without importance weights (coupling reduced);
* ``uniform``: a fixed uniform-random behaviour (``m = 1``): data no longer depend on the
  policy (coupling removed);
* ``supervised``: cross-entropy toward a shortest-path action at the states the policy visits
  (imitation of the optimal policy, no reward involved).

``separate=True`` gives each room its own network (no shared parameter: no interference).
The learner, ``mix`` and ``critic`` are traced arguments of the compiled trainer, so every
learner and both critics share one compiled program per network structure (and JAX's
persistent compilation cache serves them all).

Measured inside the jitted run (memory independent of the number of updates): the exact
``J_k`` (:func:`.rooms.success_probabilities`) on a log grid of checkpoints; every ``window``
updates the slope ``|J(t) - J(t - window)| / (lr window)`` of the exact curve and its minimum
once started and before solved (the library's ``curve`` flatness); the empirical coupling
``f_k(J_k)``: the mean rate ``dJ_k/dt / lr`` in bins of ``J_k`` (``n_bins`` bins on [0, 1]);
the environment steps used until ``J >= K - solved_margin``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..config import check_choice, check_float, check_int
from . import rooms
from .policies import apply, init_mlp, n_parameters

LEARNERS = ("on_policy", "mixture", "uniform", "supervised")
OPTIMIZERS = ("sgd", "adam")
CRITICS = ("mc", "td")


@dataclass(frozen=True)
class AgentSpec:
    """Static description of one batch of agent runs (one compiled trainer each)."""

    env: rooms.RoomsParams = rooms.RoomsParams()
    depth: int = 1
    width: int = 32
    learner: str = "on_policy"
    mix: float = 0.0                 # uniform-action fraction of the behaviour (mixture)
    separate: bool = False
    optimizer: str = "adam"
    lr: float = 3e-3
    episodes: int = 16               # episodes per update
    value_coef: float = 0.5
    critic: str = "mc"               # the critic's target: Monte Carlo return or TD(0)
    gamma: float = 1.0               # discount of the TD(0) bootstrap
    output_scale: float = 0.1        # spread of the initial logits (near-uniform policy)
    n_updates: int = 2000
    window: int = 10
    start_margin: float = 0.05
    solved_margin: float = 0.1
    n_checkpoints: int = 40
    n_bins: int = 10

    def __post_init__(self):
        check_int("depth", self.depth, 1, 8)
        check_int("width", self.width, 1, 4096)
        check_choice("learner", self.learner, LEARNERS)
        check_float("mix", self.mix, 0, 1)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_float("lr", self.lr, 0, 10, low_open=True)
        check_int("episodes", self.episodes, 1, 4096)
        check_float("value_coef", self.value_coef, 0, None)
        check_choice("critic", self.critic, CRITICS)
        check_float("gamma", self.gamma, 0, 1)
        check_float("output_scale", self.output_scale, 0, None, low_open=True)
        check_int("window", self.window, 1)
        check_int("n_updates", self.n_updates, self.window)
        check_int("n_checkpoints", self.n_checkpoints, 2)
        check_int("n_bins", self.n_bins, 2, 1000)

    @property
    def behaviour_mix(self) -> float:
        return {"on_policy": 0.0, "mixture": self.mix, "uniform": 1.0,
                "supervised": 0.0}[self.learner]

    @property
    def steps(self) -> np.ndarray:
        """Log-spaced checkpoints in whole windows: ``0, window, ..., n_updates``."""
        n_windows = self.n_updates // self.window
        grid = np.unique(np.round(np.geomspace(1, n_windows, self.n_checkpoints - 1)))
        return np.concatenate([[0], grid.astype(np.int64) * self.window])

    @property
    def env_steps_per_update(self) -> int:
        """Environment steps simulated per update and seed (fixed-length rollouts)."""
        return self.episodes * self.env.horizon


@dataclass
class AgentRuns:
    """What a batch of agent runs recorded."""

    spec: AgentSpec
    steps: np.ndarray          # [T] updates at the checkpoints
    curves: np.ndarray         # [runs, T, K] exact J_k
    stop_step: np.ndarray      # [runs] updates until solved (n_updates if never)
    env_steps: np.ndarray      # [runs] environment steps (alive) until solved
    solved: np.ndarray         # [runs]
    flatness: np.ndarray       # [runs] min |dJ/dt| / lr (NaN if no window qualified)
    flattest_J: np.ndarray     # [runs, K]
    rate_sum: np.ndarray       # [runs, K, bins] sum of dJ_k/dt / lr per J_k bin
    rate_count: np.ndarray     # [runs, K, bins]

    @property
    def env_steps_to_solve(self):
        return np.where(self.solved, self.env_steps, np.nan)


def n_outputs(spec: AgentSpec) -> int:
    return spec.env.n_actions + 1


def init_params(spec: AgentSpec, n_runs: int, seed: int):
    """Network parameters with a leading runs axis (numpy, from ``seed``); the value head
    starts at zero."""
    rng = np.random.default_rng(seed)
    lead = (n_runs, spec.env.K) if spec.separate else (n_runs,)
    params = init_mlp(rng, spec.env.obs_dim, n_outputs(spec), spec.depth, spec.width,
                      spec.output_scale, lead=lead)
    W, b = params[-1]
    W[..., -1] = 0.0
    return params


def _net(spec: AgentSpec):
    K = spec.env.K

    def net(p, obs):
        out = apply(p, obs, K, spec.separate)
        return out[..., :-1], out[..., -1]
    return net


def exact_success(spec: AgentSpec, params):
    """Exact ``J_k`` ``[K]`` of one seed's policy."""
    net = _net(spec)
    logits, _ = net(params, jnp.asarray(rooms.all_observations(spec.env)))
    return rooms.success_probabilities(jax.nn.softmax(logits), spec.env)


def rollout(spec: AgentSpec, params, key, mix=None):
    """``episodes`` episodes under the behaviour policy (uniform-action fraction ``mix``,
    default ``spec.behaviour_mix``): observations ``[H, B, D]``, actions, rewards and alive
    masks ``[H, B]``."""
    env, net = spec.env, _net(spec)
    m = spec.behaviour_mix if mix is None else mix
    keys = jax.random.split(key, spec.episodes + 1)
    obs, state = jax.vmap(lambda k: rooms.reset(k, env))(keys[1:])

    def one(carry, k):
        obs, state, alive = carry
        logits, _ = net(params, obs)
        probs = (1.0 - m) * jax.nn.softmax(logits) + m / env.n_actions
        a = jax.random.categorical(k, jnp.log(probs))
        obs2, state2, r, done, _ = jax.vmap(lambda s, a_: rooms.step_env(None, s, a_, env))(
            state, a)
        out = (obs, a, r * alive, alive)
        return (obs2, state2, alive * (1.0 - done)), out

    ks = jax.random.split(keys[0], env.horizon)
    _, (o, a, r, alive) = jax.lax.scan(one, (obs, state, jnp.ones(spec.episodes)), ks)
    return o, a, r, alive


def loss(spec: AgentSpec, params, batch, supervised=None, td=None):
    """The loss of one update (module doc); ``batch`` from :func:`rollout`. ``supervised``
    (default: ``spec.learner == "supervised"``) and ``td`` (default: ``spec.critic ==
    "td"``) may be traced bools."""
    if supervised is None:
        supervised = spec.learner == "supervised"
    if td is None:
        td = spec.critic == "td"
    if isinstance(supervised, bool):
        return (_supervised_loss(spec, params, batch) if supervised
                else _rl_loss(spec, params, batch, td))
    return jax.lax.cond(supervised, lambda p: _supervised_loss(spec, p, batch),
                        lambda p: _rl_loss(spec, p, batch, td), params)


def _supervised_loss(spec, params, batch):
    o, a, r, alive = batch
    logits, v = _net(spec)(params, o)
    logp = jax.nn.log_softmax(logits)
    B = spec.episodes
    K, S = spec.env.K, spec.env.size
    room = jnp.argmax(o[..., :K], axis=-1)
    cell = jnp.argmax(o[..., K:K + S], -1) * S + jnp.argmax(o[..., K + S:], -1)
    target = jnp.asarray(rooms.optimal_actions(spec.env))[room, cell]
    lp = jnp.take_along_axis(logp, target[..., None], -1)[..., 0]
    return -(alive * lp).sum() / B


def targets(r, v, alive, td, gamma=1.0):
    """The critic's targets ``Y_t`` ``[H, B]`` of one batch (module doc): the return to go
    ``G_t`` (``td`` false) or ``r_t + gamma V(s_{t+1})`` with ``V(s_{t+1}) = 0`` where step
    ``t`` ended its episode (``alive_{t+1} = 0``: goal or time limit) and after the last
    step. ``td`` may be a traced bool; the targets carry no gradient."""
    G = jnp.cumsum(r[::-1], axis=0)[::-1]                        # return to go (0/1)
    alive_next = jnp.concatenate([alive[1:], jnp.zeros_like(alive[:1])], 0)
    v_next = jnp.concatenate([v[1:], jnp.zeros_like(v[:1])], 0) * alive_next
    Y = jnp.where(td, r + gamma * v_next, G)
    return jax.lax.stop_gradient(Y)


def _rl_loss(spec, params, batch, td=False):
    o, a, r, alive = batch
    logits, v = _net(spec)(params, o)
    logp = jax.nn.log_softmax(logits)
    B = spec.episodes
    Y = targets(r, v, alive, td, spec.gamma)
    lp = jnp.take_along_axis(logp, a[..., None], -1)[..., 0]
    A = jax.lax.stop_gradient(Y - v)
    actor = -(alive * A * lp).sum() / B
    critic = 0.5 * (alive * (Y - v) ** 2).sum() / B
    return actor + spec.value_coef * critic


def _optimizer(spec: AgentSpec):
    return optax.sgd(spec.lr) if spec.optimizer == "sgd" else optax.adam(spec.lr)


def _run_one(params, key, mix, supervised, td, spec: AgentSpec):
    """One training run in ``lax`` loops (vmapped over seeds by the caller). ``mix``,
    ``supervised`` and ``td`` are traced, so that the controls share one compiled trainer."""
    K, nb = spec.env.K, spec.n_bins
    opt = _optimizer(spec)
    grad = jax.grad(lambda p, b: loss(spec, p, b, supervised, td))
    target = K - spec.solved_margin
    J_first = exact_success(spec, params)
    threshold = J_first.sum() + spec.start_margin * K
    scale = 1.0 / (spec.lr * spec.window)

    def one_update(_, c):
        p, s, active, t, env_steps, i = c
        batch = rollout(spec, p, jax.random.fold_in(key, i), mix)
        g = grad(p, batch)
        upd, s_new = opt.update(g, s, p)
        p_new = optax.apply_updates(p, upd)
        keep = lambda new, old: jnp.where(active, new, old)  # noqa: E731
        p = jax.tree_util.tree_map(keep, p_new, p)
        s = jax.tree_util.tree_map(keep, s_new, s)
        env_steps = env_steps + active * batch[3].sum()
        return p, s, active, t + active.astype(jnp.int32), env_steps, i + 1

    def one_window(c):
        p, s, active, t, es, i, Jk_prev, flat, flattest, run_max, rsum, rcnt, nw = c
        p, s, moved, t, es, i = jax.lax.fori_loop(0, spec.window, one_update,
                                                  (p, s, active, t, es, i))
        Jk = exact_success(spec, p)
        J = Jk.sum()
        run_max = jnp.maximum(run_max, J)
        rate_k = (Jk - Jk_prev) * scale
        slope = jnp.abs(rate_k.sum())
        better = moved & (run_max >= threshold) & (slope < flat)
        flat = jnp.where(better, slope, flat)
        flattest = jnp.where(better, Jk, flattest)
        bins = jnp.clip((Jk_prev * nb).astype(jnp.int32), 0, nb - 1)
        hit = jax.nn.one_hot(bins, nb) * moved
        rsum = rsum + hit * rate_k[:, None]
        rcnt = rcnt + hit
        active = moved & (J < target)
        return p, s, active, t, es, i, Jk, flat, flattest, run_max, rsum, rcnt, nw + 1

    def segment(c, n_windows):
        out = jax.lax.while_loop(lambda cw: (cw[-1] < n_windows) & cw[2], one_window,
                                 (*c, 0))
        return out[:-1], out[6]

    carry = (params, opt.init(params), J_first.sum() < target, jnp.int32(0), jnp.float32(0),
             jnp.int32(0), J_first, jnp.float32(jnp.inf), jnp.full((K,), jnp.nan),
             J_first.sum(), jnp.zeros((K, nb)), jnp.zeros((K, nb)))
    n_windows = jnp.asarray(np.diff(spec.steps) // spec.window, jnp.int32)
    carry, curve = jax.lax.scan(segment, carry, n_windows)
    _, _, _, t, es, _, Jk, flat, flattest, _, rsum, rcnt = carry
    return (jnp.concatenate([J_first[None], curve], 0), t, es, Jk, flat, flattest, rsum, rcnt)


def _structure(spec: AgentSpec) -> AgentSpec:
    """The spec with the traced settings (learner, mix, critic) at their defaults: the
    cache key."""
    return replace(spec, learner="on_policy", mix=0.0, critic="mc")


def _variant(spec: AgentSpec):
    return (jnp.float32(spec.behaviour_mix), jnp.bool_(spec.learner == "supervised"),
            jnp.bool_(spec.critic == "td"))


@lru_cache(maxsize=32)
def _compiled(spec: AgentSpec):
    return jax.jit(jax.vmap(lambda p, k, m, s, td: _run_one(p, k, m, s, td, spec),
                            in_axes=(0, 0, None, None, None)))


def train_one(spec: AgentSpec, params, key):
    """The jitted single-seed trainer (the benchmark loops it over seeds)."""
    return _compiled_single(_structure(spec))(params, key, *_variant(spec))


@lru_cache(maxsize=32)
def _compiled_single(spec: AgentSpec):
    return jax.jit(lambda p, k, m, s, td: _run_one(p, k, m, s, td, spec))


def run_keys(seed: int, n_runs: int):
    return jax.random.split(jax.random.PRNGKey(seed), n_runs)


def train(spec: AgentSpec, n_runs: int, seed: int = 0) -> AgentRuns:
    """Train ``n_runs`` agents together (one jitted, vmapped call)."""
    check_int("n_runs", n_runs, 1)
    check_int("seed", seed, 0)
    params = init_params(spec, n_runs, seed)
    out = _compiled(_structure(spec))(params, run_keys(seed, n_runs), *_variant(spec))
    curves, t, es, Jk, flat, flattest, rsum, rcnt = (np.asarray(x, np.float64) for x in out)
    flat = np.where(np.isinf(flat), np.nan, flat)
    solved = Jk.sum(axis=1) >= spec.env.K - spec.solved_margin
    return AgentRuns(spec, spec.steps, curves, t.astype(np.int64), es, solved, flat, flattest,
                     rsum, rcnt)


def memory_bytes(spec: AgentSpec, n_runs: int) -> int:
    """Bytes of one batch, per run: parameters x 6 (gradient, Adam state, scratch), the
    rollout's activations (episodes x horizon x (obs + width x depth x 3)), the exact-J
    propagation, the curves and the coupling bins (float32)."""
    P = n_parameters(spec.env.obs_dim, n_outputs(spec), spec.depth, spec.width, spec.separate,
                     spec.env.K)
    env = spec.env
    acts = spec.episodes * env.horizon * (env.obs_dim + 3 * spec.width * spec.depth + 16)
    acts *= env.K if spec.separate else 1
    dp = env.K * env.size ** 2 * (env.size ** 2 + spec.width * spec.depth + 8)
    per_run = 4 * (6 * P + acts + dp + len(spec.steps) * env.K + 2 * env.K * spec.n_bins)
    return n_runs * (per_run + 1024)

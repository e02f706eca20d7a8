"""An on-policy actor-critic (REINFORCE with a learned baseline) on the K-room task
(Sec. 3.3, :mod:`.rooms`), many seeds at once, the paper's controls and the remedies of
Sec. 4 in their neural form.

The network is an MLP (``depth`` ReLU layers of ``width`` units) whose output layer has two
heads: ``4`` policy logits and one value (the baseline); with ``heads=True`` the output layer
is one per room on a shared torso (separate heads). Each update rolls out ``episodes`` episodes
of at most ``horizon`` steps (fixed-length rollouts with a done mask, vmapped), and takes one
optimizer step (optax) on

    loss = - sum_t A_t log pi(a_t | s_t) + value_coef * 1/2 sum_t (Y_t - V(s_t))^2,

averaged over episodes, with ``A_t = Y_t - V(s_t)`` and ``Y_t`` (held fixed: no gradient
flows through it) the critic's target, chosen by ``critic``:

* ``"mc"`` (the default): the Monte Carlo return to go ``Y_t = G_t`` (undiscounted, 0/1);
* ``"td"``: the bootstrapped TD(0) target ``Y_t = r_t + gamma V(s_{t+1})`` (semi-gradient
  TD for the critic, the one-step TD error as the actor's advantage); ``V(s_{t+1})`` counts
  as 0 when step ``t`` ended the episode.

Learners (the controls of Fig. 3 and Sec. 3.3):

* ``on_policy``: behaviour = the policy;
* ``mixture``: behaviour ``(1 - m) pi + m / 4`` (``m = mix``, uniform-action mixing as in
  Fig. 6), same loss without importance weights (coupling reduced);
* ``uniform``: a fixed uniform-random behaviour (``m = 1``): data no longer depend on the
  policy (coupling removed);
* ``supervised``: cross-entropy toward a target action at the states the policy visits: the
  room's keys (imitation of the optimal policy, no reward involved), or a teacher's greedy
  actions (distillation, :func:`train` with ``targets``).

Remedies (Sec. 4): ``separate=True`` gives each room its own network (no shared parameter: no
interference); ``heads=True`` separate output heads; ``clip > 0`` a PPO-style clipped step,
``epochs`` passes over each batch with the ratio ``pi / pi_old`` clipped to
``[1 - clip, 1 + clip]`` (a trust-region, natural-gradient-like step); ``grad_mode="pcgrad"``
projects each room's gradient off the others' where they conflict (Yu et al. 2020).

The learner, ``mix``, ``critic`` and the target table are traced arguments of the compiled
trainer, so they share one compiled program per network structure.

Measured inside the jitted run (memory independent of the number of updates) on a log grid of
checkpoints: the exact ``J_k`` (:func:`.rooms.success_probabilities`), and the interference
cosine and the coupling ratio of :mod:`.measures`; every ``window`` updates the slope
``|J(t) - J(t - window)| / (lr window)`` of the exact curve and its minimum once started and
before solved; the environment steps used until ``J >= K - solved_margin``; the mean sampled
return of the training episodes of each room between checkpoints (the noisy learning curve a
training log shows, for the detector).
"""
from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, replace
from functools import lru_cache, partial

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import optax

from ..config import check_choice, check_float, check_int
from ..record import Runs, checkpoint_steps, flattest_window, start_threshold
from . import measures as ms
from . import rooms
from .policies import apply, heads_mlp, init_heads, init_mlp, n_parameters

LEARNERS = ("on_policy", "mixture", "uniform", "supervised")
OPTIMIZERS = ("sgd", "adam")
CRITICS = ("mc", "td")
GRAD_MODES = ("sum", "pcgrad")


@dataclass(frozen=True)
class AgentSpec:
    """Static description of one batch of agent runs (one compiled trainer each)."""

    env: rooms.RoomsParams = rooms.RoomsParams()
    depth: int = 1
    width: int = 32
    learner: str = "on_policy"
    mix: float = 0.0                 # uniform-action fraction of the behaviour (mixture)
    separate: bool = False
    heads: bool = False              # one output layer per room on a shared torso
    optimizer: str = "adam"
    lr: float = 3e-3
    episodes: int = 16               # episodes per update
    value_coef: float = 0.5
    critic: str = "mc"               # the critic's target: Monte Carlo return or TD(0)
    gamma: float = 1.0               # discount of the TD(0) bootstrap
    clip: float = 0.0                # PPO-style ratio clipping (0: the plain policy gradient)
    epochs: int = 1                  # optimizer steps per batch
    grad_mode: str = "sum"           # "pcgrad": project conflicting per-room gradients
    output_scale: float = 0.1        # spread of the initial logits (near-uniform policy)
    n_updates: int = 2000
    window: int = 10
    start_margin: float = 0.05
    solved_margin: float = 0.1
    n_checkpoints: int = 40

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
        check_float("clip", self.clip, 0, 1, high_open=True)
        check_int("epochs", self.epochs, 1, 64)
        check_choice("grad_mode", self.grad_mode, GRAD_MODES)
        check_float("output_scale", self.output_scale, 0, None, low_open=True)
        check_int("window", self.window, 1)
        check_int("n_updates", self.n_updates, self.window)
        check_int("n_checkpoints", self.n_checkpoints, 2)
        if self.separate and self.heads:
            raise ValueError("separate and heads: choose one (separate networks have their "
                             "own heads)")

    @property
    def behaviour_mix(self) -> float:
        return {"on_policy": 0.0, "mixture": self.mix, "uniform": 1.0,
                "supervised": 0.0}[self.learner]

    @property
    def steps(self) -> np.ndarray:
        """Log-spaced checkpoints in whole windows: ``0, window, ..., n_updates``."""
        return checkpoint_steps(self.n_updates, self.n_checkpoints, self.window)

    @property
    def env_steps_per_update(self) -> int:
        """Environment steps simulated per update and seed (fixed-length rollouts)."""
        return self.episodes * self.env.horizon


@dataclass(kw_only=True)
class AgentRuns(Runs):
    """What a batch of agent runs recorded: the record of every trainer
    (:class:`~rayint_lib.model.record.Runs`: ``config`` is the spec, ``curves`` the exact
    ``J_k``, ``stop_step`` the updates until solved (``n_updates`` if never), ``flatness``
    ``min |dJ/dt| / lr``), and the agent's measures at the checkpoints.

    ``cosine`` ``[runs, T]``: interference, the mean cosine of per-room gradients;
    ``coupling`` ``[runs, T, K]``: ``|g_k| / |g_k under uniform data|``; ``returns``
    ``[runs, T, K]``: mean sampled training return per room since the previous checkpoint
    (NaN at 0): the noisy curve a log shows; ``env_steps`` ``[runs]``: environment steps
    (alive) until solved; ``params``: final network parameters (leading runs axis).
    """

    cosine: np.ndarray
    coupling: np.ndarray
    returns: np.ndarray
    env_steps: np.ndarray
    params: object = None

    @property
    def env_steps_to_solve(self):
        return np.where(self.solved, self.env_steps, np.nan)

    @property
    def env_step_grid(self) -> np.ndarray:
        """Environment steps simulated at each checkpoint (per seed, fixed-length rollouts)."""
        return self.steps * self.config.env_steps_per_update


def n_outputs(spec: AgentSpec) -> int:
    return spec.env.n_actions + 1


def init_params(spec: AgentSpec, n_runs: int, seed: int):
    """Network parameters with a leading runs axis (numpy, from ``seed``); the value head
    starts at zero. Separate heads: one output layer per room, drawn independently."""
    rng = np.random.default_rng(seed)
    K = spec.env.K
    lead = (n_runs, K) if spec.separate else (n_runs,)
    init = partial(init_heads, K=K) if spec.heads else init_mlp
    params = init(rng, spec.env.obs_dim, n_outputs(spec), spec.depth, spec.width,
                  spec.output_scale, lead=lead)
    W, b = params[-1]
    W[..., -1] = 0.0
    return params


def _net(spec: AgentSpec):
    K = spec.env.K

    def net(p, obs):
        out = heads_mlp(p, obs, K) if spec.heads else apply(p, obs, K, spec.separate)
        return out[..., :-1], out[..., -1]
    return net


def all_logits(spec: AgentSpec, params):
    """Policy logits of every (room, cell): ``[K, length, 4]``."""
    return _net(spec)(params, jnp.asarray(rooms.all_observations(spec.env)))[0]


def exact_success(spec: AgentSpec, params):
    """Exact ``J_k`` ``[K]`` of one seed's policy."""
    return rooms.success_probabilities(jax.nn.softmax(all_logits(spec, params)), spec.env)


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


def loss(spec: AgentSpec, params, batch, supervised=None, td=None, target=None,
         old_logp=None, weight=None):
    """The loss of one update (module doc); ``batch`` from :func:`rollout`. ``supervised``
    (default: ``spec.learner == "supervised"``) and ``td`` (default: ``spec.critic ==
    "td"``) may be traced bools; ``target`` ``[K, length]``: the supervised learner's actions
    (default: the keys); ``old_logp`` ``[H, B]``: log-probabilities of the batch's actions at
    collection (the PPO ratio's denominator, ``spec.clip > 0``); ``weight`` ``[B]``: a weight
    per episode (one room's episodes, for per-room gradients)."""
    if supervised is None:
        supervised = spec.learner == "supervised"
    if td is None:
        td = spec.critic == "td"
    if target is None:
        target = jnp.asarray(rooms.optimal_actions(spec.env))
    B = spec.episodes
    w = jnp.ones(B) if weight is None else weight
    if isinstance(supervised, bool):
        return (_supervised_loss(spec, params, batch, target, w) if supervised
                else _rl_loss(spec, params, batch, td, old_logp, w))
    return jax.lax.cond(supervised, lambda p: _supervised_loss(spec, p, batch, target, w),
                        lambda p: _rl_loss(spec, p, batch, td, old_logp, w), params)


def _supervised_loss(spec, params, batch, target, w):
    o, a, r, alive = batch
    logits, v = _net(spec)(params, o)
    room, cell = rooms.decode(o, spec.env)
    lp = jnp.take_along_axis(jax.nn.log_softmax(logits), target[room, cell][..., None],
                             -1)[..., 0]
    return -(w * alive * lp).sum() / spec.episodes


def targets(r, v, alive, td, gamma=1.0):
    """The critic's targets ``Y_t`` ``[H, B]`` of one batch (module doc): the return to go
    ``G_t`` (``td`` false) or ``r_t + gamma V(s_{t+1})`` with ``V(s_{t+1}) = 0`` where step
    ``t`` ended its episode (``alive_{t+1} = 0``) and after the last step. ``td`` may be a
    traced bool; the targets carry no gradient."""
    G = jnp.cumsum(r[::-1], axis=0)[::-1]                        # return to go (0/1)
    alive_next = jnp.concatenate([alive[1:], jnp.zeros_like(alive[:1])], 0)
    v_next = jnp.concatenate([v[1:], jnp.zeros_like(v[:1])], 0) * alive_next
    Y = jnp.where(td, r + gamma * v_next, G)
    return jax.lax.stop_gradient(Y)


def action_logp(spec, params, batch):
    """``log pi(a_t | s_t)`` ``[H, B]`` of the batch's actions."""
    o, a = batch[0], batch[1]
    logp = jax.nn.log_softmax(_net(spec)(params, o)[0])
    return jnp.take_along_axis(logp, a[..., None], -1)[..., 0]


def _rl_loss(spec, params, batch, td, old_logp, w):
    o, a, r, alive = batch
    logits, v = _net(spec)(params, o)
    B = spec.episodes
    Y = targets(r, v, alive, td, spec.gamma)
    lp = jnp.take_along_axis(jax.nn.log_softmax(logits), a[..., None], -1)[..., 0]
    A = jax.lax.stop_gradient(Y - v)
    if spec.clip > 0:
        ratio = jnp.exp(lp - jax.lax.stop_gradient(old_logp))
        clipped = jnp.clip(ratio, 1 - spec.clip, 1 + spec.clip)
        actor_t = -jnp.minimum(ratio * A, clipped * A)
    else:
        actor_t = -A * lp
    actor = (w * alive * actor_t).sum() / B
    critic = 0.5 * (w * alive * (Y - v) ** 2).sum() / B
    return actor + spec.value_coef * critic


def pcgrad(g):
    """PCGrad (Yu et al. 2020) on per-room gradients ``g`` ``[K, P]``: each row, in turn,
    loses its component along every other (original) row it conflicts with (negative dot
    product); returns the sum of the projected rows ``[P]``."""
    K = g.shape[0]

    def project(gk):
        def one(x, gj):
            d = x @ gj
            return jnp.where(d < 0, x - d / jnp.maximum(gj @ gj, 1e-30) * gj, x), None
        return jax.lax.scan(one, gk, g)[0]
    # a row never conflicts with itself (x @ x >= 0), so scanning over all rows is exact
    return jax.vmap(project)(g).sum(0) if K > 1 else g[0]


def update_gradient(spec, params, batch, supervised, td, target, old_logp):
    """The gradient of one optimizer step: of the loss, or PCGrad of the per-room losses."""
    grad = jax.grad(lambda p, w: loss(spec, p, batch, supervised, td, target, old_logp, w))
    if spec.grad_mode == "sum":
        return grad(params, None)
    K = spec.env.K
    room = jnp.argmax(batch[0][0, :, :K], -1)                   # each episode's room
    per_room = jax.vmap(lambda k: grad(params, (room == k).astype(jnp.float32)))(
        jnp.arange(K))
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    rows = jax.vmap(lambda t: jax.flatten_util.ravel_pytree(t)[0])(per_room)
    return unravel(pcgrad(rows))


def _optimizer(spec: AgentSpec):
    """The optimizer at step size 1 (updates are scaled by the traced ``lr``; for SGD and
    Adam this is the same as the optimizer at step size ``lr``)."""
    return optax.sgd(1.0) if spec.optimizer == "sgd" else optax.adam(1.0)


def _run_one(params, key, target, lr, mix, supervised, td, spec: AgentSpec):
    """One training run in ``lax`` loops (vmapped over seeds by the caller). ``target``,
    ``lr``, ``mix``, ``supervised`` and ``td`` are traced, so that the controls and a step
    size grid share one compiled trainer."""
    K = spec.env.K
    opt = _optimizer(spec)
    logits_fn = lambda p: all_logits(spec, p)  # noqa: E731
    keys_table = jnp.asarray(rooms.optimal_actions(spec.env))
    measure_target = jnp.where(supervised, target, keys_table)
    target_J = K - spec.solved_margin
    J_first = exact_success(spec, params)
    threshold = start_threshold(J_first.sum(), spec.start_margin, K)
    scale = 1.0 / (lr * spec.window)

    def one_update(_, c):
        p, s, active, t, env_steps, i, ret = c
        batch = rollout(spec, p, jax.random.fold_in(key, i), mix)
        old = action_logp(spec, p, batch)

        def epoch(_, ps):
            p, s = ps
            g = update_gradient(spec, p, batch, supervised, td, target, old)
            upd, s = opt.update(g, s, p)
            upd = jax.tree_util.tree_map(lambda u: lr * u, upd)
            return optax.apply_updates(p, upd), s
        p_new, s_new = jax.lax.fori_loop(0, spec.epochs, epoch, (p, s))
        keep = lambda new, old: jnp.where(active, new, old)  # noqa: E731
        p = jax.tree_util.tree_map(keep, p_new, p)
        s = jax.tree_util.tree_map(keep, s_new, s)
        env_steps = env_steps + active * batch[3].sum()
        room = jax.nn.one_hot(jnp.argmax(batch[0][0, :, :K], -1), K)     # [B, K]
        ret = ret + jnp.stack([room.T @ batch[2].sum(0), room.sum(0)])
        return p, s, active, t + active.astype(jnp.int32), env_steps, i + 1, ret

    def one_window(c):
        p, s, active, t, es, i, ret, J_prev, flat, flattest, run_max, nw = c
        p, s, moved, t, es, i, ret = jax.lax.fori_loop(0, spec.window, one_update,
                                                       (p, s, active, t, es, i, ret))
        Jk = exact_success(spec, p)
        J = Jk.sum()
        flat, flattest, run_max = flattest_window(jnp, flat, flattest, run_max, Jk,
                                                  jnp.abs(J - J_prev) * scale, moved, threshold)
        active = moved & (J < target_J)
        return p, s, active, t, es, i, ret, J, flat, flattest, run_max, nw + 1

    def segment(c, n_windows):
        c = (*c[:6], jnp.zeros((2, K)), *c[6:])
        out = jax.lax.while_loop(lambda cw: (cw[-1] < n_windows) & cw[2], one_window,
                                 (*c, 0))
        ret = out[6]
        c = (*out[:6], *out[7:-1])
        cos, ratio = ms.measures(logits_fn, c[0], measure_target, mix, supervised)
        returns = ret[0] / jnp.where(ret[1] > 0, ret[1], jnp.nan)
        return c, (exact_success(spec, c[0]), cos, ratio, returns)

    cos0, ratio0 = ms.measures(logits_fn, params, measure_target, mix, supervised)
    carry = (params, opt.init(params), J_first.sum() < target_J, jnp.int32(0),
             jnp.float32(0), jnp.int32(0), J_first.sum(), jnp.float32(jnp.inf),
             jnp.full((K,), jnp.nan), J_first.sum())
    n_windows = jnp.asarray(np.diff(spec.steps) // spec.window, jnp.int32)
    carry, (curve, cos, ratio, returns) = jax.lax.scan(segment, carry, n_windows)
    p, _, _, t, es, _, _, flat, flattest, _ = carry
    return (jnp.concatenate([J_first[None], curve], 0),
            jnp.concatenate([cos0[None], cos], 0),
            jnp.concatenate([ratio0[None], ratio], 0),
            jnp.concatenate([jnp.full((1, K), jnp.nan), returns], 0), t, es,
            exact_success(spec, p), flat, flattest, p)


def _structure(spec: AgentSpec) -> AgentSpec:
    """The spec with the traced settings (learner, mix, critic, lr) at their defaults: the
    cache key."""
    return replace(spec, learner="on_policy", mix=0.0, critic="mc", lr=AgentSpec.lr)


def _variant(spec: AgentSpec):
    return (jnp.float32(spec.lr), jnp.float32(spec.behaviour_mix),
            jnp.bool_(spec.learner == "supervised"), jnp.bool_(spec.critic == "td"))


@lru_cache(maxsize=32)
def _compiled(spec: AgentSpec):
    return jax.jit(jax.vmap(lambda p, k, tg, *v: _run_one(p, k, tg, *v, spec),
                            in_axes=(0, 0, 0, None, None, None, None)))


def run_batch(spec: AgentSpec, params, keys):
    """The jitted, vmapped trainer's raw outputs for parameters and keys with a leading runs
    axis, the keys as targets (what :func:`train` calls; the benchmark times it)."""
    tg = jnp.broadcast_to(jnp.asarray(rooms.optimal_actions(spec.env)),
                          (len(keys), spec.env.K, spec.env.length))
    return _compiled(_structure(spec))(params, keys, tg, *_variant(spec))


def train_one(spec: AgentSpec, params, key, target=None):
    """The jitted single-seed trainer (the benchmark loops it over seeds)."""
    tg = jnp.asarray(rooms.optimal_actions(spec.env) if target is None else target)
    return _compiled_single(_structure(spec))(params, key, tg, *_variant(spec))


@lru_cache(maxsize=32)
def _compiled_single(spec: AgentSpec):
    return jax.jit(lambda p, k, tg, *v: _run_one(p, k, tg, *v, spec))


def run_keys(seed: int, n_runs: int):
    return jax.random.split(jax.random.PRNGKey(seed), n_runs)


_TRAINERS: dict = {}        # (structure, n_runs) -> Future of the compiled trainer
_TRAINERS_LOCK = threading.Lock()


def _trainer(spec: AgentSpec, n_runs: int):
    """The compiled trainer of ``spec``'s structure for ``n_runs`` runs (the program
    :func:`_compiled` jits for those shapes), compiled once, by whichever thread asks first
    (:func:`compile_ahead` or :func:`train`); the others wait for it."""
    key = (_structure(spec), n_runs)
    with _TRAINERS_LOCK:
        job = _TRAINERS.get(key)
        mine = job is None
        if mine:
            job = _TRAINERS[key] = Future()
    if mine:
        try:
            tg = jnp.zeros((n_runs, spec.env.K, spec.env.length), jnp.int32)
            job.set_result(_compiled(key[0]).lower(init_params(spec, n_runs, 0),
                                                   run_keys(0, n_runs), tg,
                                                   *_variant(spec)).compile())
        except BaseException as e:  # the callers waiting for it raise it too
            job.set_exception(e)
    return job.result()


def compile_ahead(batches) -> threading.Thread:
    """Compile the trainers of ``batches`` (``(spec, n_runs)`` pairs, in that order) in a
    background thread and return it: XLA compiles while the caller does other work (numba's
    compilation holds one core, the other is free), and :func:`train` then finds them ready.
    The programs are those :func:`train` would compile: the results do not change."""
    def work():
        for spec, n_runs in batches:
            try:
                _trainer(spec, n_runs)
            except Exception:  # noqa: BLE001 - train raises it when it needs this trainer
                pass
    thread = threading.Thread(target=work, name="compile_ahead", daemon=True)
    thread.start()
    return thread


def train(spec: AgentSpec, n_runs: int, seed: int = 0, targets=None) -> AgentRuns:
    """Train ``n_runs`` agents together (one jitted, vmapped call). ``targets``
    ``[n_runs, K, length]``: the supervised learner's actions per run (default: the keys;
    a teacher's greedy actions distil the teacher)."""
    check_int("n_runs", n_runs, 1)
    check_int("seed", seed, 0)
    params = init_params(spec, n_runs, seed)
    if targets is None:
        targets = np.broadcast_to(rooms.optimal_actions(spec.env), (n_runs,) + (
            spec.env.K, spec.env.length))
    out = _trainer(spec, n_runs)(params, run_keys(seed, n_runs),
                                 jnp.asarray(targets, jnp.int32), *_variant(spec))
    curves, cos, ratio, returns, t, es, Jk, flat, flattest = (np.asarray(x, np.float64)
                                                               for x in out[:-1])
    return AgentRuns.collect(spec, spec.steps, curves, curves[:, 0], t.astype(np.int64), Jk,
                             flat, flattest, cosine=cos, coupling=ratio, returns=returns,
                             env_steps=es, params=out[-1])


def greedy_actions(spec: AgentSpec, params) -> np.ndarray:
    """Each run's most probable action in every (room, cell), ``[runs, K, length]`` (a
    teacher's actions for distillation)."""
    logits = jax.vmap(lambda p: all_logits(spec, p))(params)
    return np.asarray(jnp.argmax(logits, -1), np.int32)


def memory_bytes(spec: AgentSpec, n_runs: int) -> int:
    """Bytes of one batch, per run: parameters x 6 (gradient, Adam state, scratch) and once
    more per room for per-room gradients, the rollout's activations (episodes x horizon x
    (obs + width x depth x 3)), the curves and measures (float32)."""
    P = n_parameters(spec.env.obs_dim, n_outputs(spec), spec.depth, spec.width, spec.separate,
                     spec.env.K)
    env = spec.env
    acts = spec.episodes * env.horizon * (env.obs_dim + 3 * spec.width * spec.depth + 16)
    acts *= env.K if spec.separate else 1
    per_run = 4 * ((6 + 2 * env.K) * P + acts + len(spec.steps) * (2 * env.K + 1))
    return n_runs * (per_run + 1024)

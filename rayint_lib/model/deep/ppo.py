"""PPO configured the way practitioners configure it, on the multi-task DeepSea problem
(:mod:`.multitask`), many seeds at once (issue 20 item 3; Sec. 3.3's shared network against
the "separate networks" control).

The algorithm and its defaults are those of PureJaxRL's ``ppo.py`` (Lu et al., 2022,
github.com/luchris429/purejaxrl) and CleanRL: ``num_envs`` environments stepped in parallel
for ``num_steps`` steps per update, generalised advantage estimation (``gamma``,
``gae_lambda``), ``update_epochs`` epochs over ``num_minibatches`` shuffled minibatches of the
clipped surrogate (``clip_eps``) with per-minibatch advantage normalisation, a clipped value
loss (``vf_coef``), an entropy bonus (``ent_coef``), global gradient-norm clipping
(``max_grad_norm``) and Adam (``eps = 1e-5``). The actor and the critic are two MLPs
(``depth`` ReLU layers of ``width`` units, :mod:`.policies`) that both read the observation
(the task one-hot and the DeepSea grid). ``separate=True`` is the paper's control without
interference: ``K`` independent PPO agents, one per task, each with its own actor and critic,
its own ``num_envs / K`` environments of its task (the same budget in all), and its own
advantage normalisation (over its own samples), gradient-norm clip and Adam state, so that no
task's returns or gradients scale another task's update. The shared network keeps
PureJaxRL's configuration: advantages normalised over each minibatch of all tasks, one clip of
the global gradient norm.
``behaviour="uniform"`` collects the data with a fixed uniform-random behaviour instead of the
policy (the paper's control for coupling, Sec. 3.3: the data no longer depend on the policy)
and trains on them with the same loss, without importance weights: the ratio's denominator is
the policy's probability at collection, as on-policy, so the expected update is REINFORCE's
from uniform data (chapter 03b's "uniform" learner).

Measured inside the jitted run, on a log grid of ``n_checkpoints`` updates: every task's
exact success probability ``J_k`` and expected return (:func:`.multitask.exact_returns`), and
the cosine between the gradients of the tasks' exact returns with respect to the actor's
parameters (the paper's interference ``rho`` between tasks; exactly 0 for separate networks,
whose parameters are disjoint), averaged over pairs of tasks; and each task's *coupling
ratio* (:mod:`.measures`): the size of the expected update of the learner's own data (the
policy's, or the uniform behaviour's) over that of uniform data at the same parameters, from
the exact success path (:func:`.multitask.success_path`). On-policy it is ``J_k / 2^-N``
exactly, so a value near 0 at low ``J_k`` is the paper's ``f_k(0) ~ 0``; for the uniform
behaviour it is 1 by construction.

The remedies of Sec. 4 (chapter 03c's ``remedies``), each a field of :class:`PPOSpec` on the
shared network: ``heads`` (a shared torso with one output layer per task, for the actor and for
the critic), ``mix`` (the behaviour takes a uniform-random action with probability ``mix``;
the ratio's denominator stays the policy's probability at collection, as for the uniform
behaviour: the expected update is REINFORCE's from the mixture's data, the bandit's remedy and
chapter 08's, with no importance weight that would cancel the mixing), ``grad_mode =
"pcgrad"`` (PCGrad, Yu et al. 2020, on the per-task losses of each minibatch, before the
global clip and Adam; advantages still normalised over the whole minibatch) and ``learner =
"distill"`` (the decoupling solution: a shared student imitates the greedy actions of
teachers, one per task, at the states it visits itself; cross-entropy in place of the PPO loss,
the same rollouts, epochs, minibatches and optimiser). PPO's clipped step is itself the
trust-region ("natural-gradient-like") step of Sec. 4.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import optax

from ..config import check_choice, check_float, check_int
from . import measures as ms
from . import multitask as mt
from .agent import pcgrad
from .policies import apply, heads_mlp, init_heads, init_mlp, n_parameters

BEHAVIOURS = ("on_policy", "uniform")
GRAD_MODES = ("sum", "pcgrad")
LEARNERS = ("ppo", "distill")


@dataclass(frozen=True)
class PPOSpec:
    """Static description of one batch of PPO runs (one compiled trainer each)."""

    env: mt.MultiTaskParams = mt.MultiTaskParams()
    separate: bool = False
    behaviour: str = "on_policy"     # who collects the data: the policy, or uniform-random
    depth: int = 2
    width: int = 64
    lr: float = 2.5e-4
    num_envs: int = 16
    num_steps: int = 32
    update_epochs: int = 4
    num_minibatches: int = 4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_eps: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    n_updates: int = 100
    n_checkpoints: int = 20
    heads: bool = False              # remedies (module doc)
    mix: float = 0.0
    grad_mode: str = "sum"
    learner: str = "ppo"

    def __post_init__(self):
        check_choice("behaviour", self.behaviour, BEHAVIOURS)
        check_choice("grad_mode", self.grad_mode, GRAD_MODES)
        check_choice("learner", self.learner, LEARNERS)
        check_float("mix", self.mix, 0, 1)
        if self.separate and (self.heads or self.grad_mode != "sum"):
            raise ValueError("heads and pcgrad are remedies of the shared network, not of "
                             "separate networks")
        check_int("depth", self.depth, 1, 8)
        check_int("width", self.width, 1, 4096)
        check_float("lr", self.lr, 0, 1, low_open=True)
        check_int("num_envs", self.num_envs, 1, 65536)
        check_int("num_steps", self.num_steps, 1, 100_000)
        check_int("update_epochs", self.update_epochs, 1, 100)
        check_int("num_minibatches", self.num_minibatches, 1, self.num_envs * self.num_steps)
        if (self.num_envs * self.num_steps) % self.num_minibatches:
            raise ValueError("num_minibatches must divide num_envs * num_steps "
                             f"({self.num_envs * self.num_steps}); got {self.num_minibatches}")
        if self.separate and (self.num_envs % self.env.K
                              or (self.num_envs // self.env.K * self.num_steps)
                              % self.num_minibatches):
            raise ValueError(f"num_envs must be a multiple of K = {self.env.K} for separate "
                             "agents (one per task, on num_envs / K environments), with "
                             "num_minibatches dividing num_envs / K x num_steps; got "
                             f"num_envs = {self.num_envs}")
        check_float("gamma", self.gamma, 0, 1)
        check_float("gae_lambda", self.gae_lambda, 0, 1)
        check_float("clip_eps", self.clip_eps, 0, 10, low_open=True)
        check_float("ent_coef", self.ent_coef, 0, 10)
        check_float("vf_coef", self.vf_coef, 0, 100)
        check_float("max_grad_norm", self.max_grad_norm, 0, 1e6, low_open=True)
        check_int("n_checkpoints", self.n_checkpoints, 2, 1000)
        check_int("n_updates", self.n_updates, self.n_checkpoints - 1)

    @property
    def steps(self) -> np.ndarray:
        """Updates at the checkpoints: 0 and a log grid that ends at ``n_updates``."""
        grid = np.round(np.geomspace(1, self.n_updates, self.n_checkpoints - 1))
        return np.unique(np.concatenate([[0], grid, [self.n_updates]])).astype(np.int64)

    @property
    def env_steps_per_update(self) -> int:
        return self.num_envs * self.num_steps


@dataclass
class PPORuns:
    """What a batch of PPO runs recorded."""

    spec: PPOSpec
    steps: np.ndarray          # [T] updates at the checkpoints
    curves: np.ndarray         # [runs, T, K] exact success probability J_k
    returns: np.ndarray        # [runs, T, K] exact expected episode return of each task
    cosine: np.ndarray         # [runs, T] mean pairwise cosine of the tasks' actor gradients
    coupling: np.ndarray       # [runs, T, K] |own expected update| / |uniform data's|
    actor: list = None         # the final actor parameters (leading runs axis)

    @property
    def env_steps(self) -> np.ndarray:
        return self.steps * self.spec.env_steps_per_update

    env_step_grid = env_steps       # the name the rooms agent's record uses


def init_params(spec: PPOSpec, n_runs: int, seed: int):
    """``(actor, critic)`` parameters with a leading runs axis (numpy, from ``seed``): the
    actor's last layer small (near-uniform initial policy, PureJaxRL's ``orthogonal(0.01)``),
    the critic's of unit scale."""
    rng = np.random.default_rng(seed)
    lead = (n_runs, spec.env.K) if spec.separate else (n_runs,)
    d, K = spec.env.obs_dim, spec.env.K
    if spec.heads:
        return tuple(init_heads(rng, d, n, spec.depth, spec.width, s, K, lead=lead)
                     for n, s in ((spec.env.n_actions, 0.01), (1, 1.0)))
    actor = init_mlp(rng, d, spec.env.n_actions, spec.depth, spec.width, 0.01, lead=lead)
    critic = init_mlp(rng, d, 1, spec.depth, spec.width, 1.0, lead=lead)
    return actor, critic


def network(spec: PPOSpec, params, obs):
    """The outputs of one network (actor or critic) of ``spec``'s kind at ``obs``."""
    if spec.heads:
        return heads_mlp(params, obs, spec.env.K)
    return apply(params, obs, spec.env.K, spec.separate)


def _heads(spec: PPOSpec, params, obs):
    actor, critic = params
    return network(spec, actor, obs), network(spec, critic, obs)[..., 0]


def exact(spec: PPOSpec, actor):
    """Exact ``(J_k, R_k)`` ``([K], [K])`` of one seed's actor."""
    logits = network(spec, actor, jnp.asarray(mt.all_observations(spec.env)))
    return mt.exact_returns(jax.nn.softmax(logits), spec.env)


def greedy_targets(spec: PPOSpec, actor):
    """``[K, N * N]`` the greedy action of one seed's actor in every cell of every task (a
    teacher's, for ``learner = "distill"``)."""
    logits = network(spec, actor, jnp.asarray(mt.all_observations(spec.env)))
    return jnp.argmax(logits, -1).reshape(spec.env.K, -1).astype(jnp.int32)


def gradient_cosine(spec: PPOSpec, actor):
    """Mean over task pairs of ``cos(grad R_j, grad R_k)`` of the actor's parameters."""
    jac = jax.jacrev(lambda a: exact(spec, a)[1])(actor)
    G = jnp.concatenate([x.reshape(spec.env.K, -1) for x in jax.tree_util.tree_leaves(jac)],
                        axis=1)
    G = G / jnp.maximum(jnp.linalg.norm(G, axis=1, keepdims=True), 1e-30)
    C = G @ G.T
    K = spec.env.K
    return (C.sum() - jnp.trace(C)) / max(K * (K - 1), 1)


def behaviour_mix(spec: PPOSpec) -> float:
    """The behaviour's probability of a uniform-random action: 1 for the uniform behaviour,
    else ``spec.mix``."""
    return 1.0 if spec.behaviour == "uniform" else spec.mix


def coupling_ratio(spec: PPOSpec, actor, mix=None):
    """Each task's coupling ratio ``[K]`` (module doc) at one seed's actor; NaN where the
    uniform data's gradient underflows. ``mix`` (default: :func:`behaviour_mix`) may be
    traced."""
    if mix is None:
        mix = behaviour_mix(spec)
    obs, target = mt.success_path(spec.env)
    logits_fn = lambda a: network(spec, a, jnp.asarray(obs))  # noqa: E731
    return ms.measures(logits_fn, actor, jnp.asarray(target), mix, False)[1]


def gae(spec: PPOSpec, reward, value, done, last_value):
    """Advantages and value targets ``[num_steps, num_envs]`` (GAE, reverse scan)."""
    def back(c, x):
        adv, next_v = c
        r, v, d = x
        delta = r + spec.gamma * next_v * (1 - d) - v
        adv = delta + spec.gamma * spec.gae_lambda * (1 - d) * adv
        return (adv, v), adv

    _, adv = jax.lax.scan(back, (jnp.zeros_like(last_value), last_value),
                          (reward, value, done), reverse=True, unroll=16)
    return adv, adv + value


def loss(spec: PPOSpec, params, batch, weight=None):
    """The clipped PPO loss of one minibatch ``(obs, action, logp, value, adv, target)``;
    ``weight`` ``[n]``: a weight per sample (one task's samples: its part of the loss)."""
    obs, action, old_logp, old_v, adv, target = batch
    logits, v = _heads(spec, params, obs)
    logp_all = jax.nn.log_softmax(logits)
    logp = jnp.take_along_axis(logp_all, action[..., None], -1)[..., 0]
    v_clip = old_v + jnp.clip(v - old_v, -spec.clip_eps, spec.clip_eps)
    v_loss = 0.5 * jnp.maximum((v - target) ** 2, (v_clip - target) ** 2)
    ratio = jnp.exp(logp - old_logp)
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    surrogate = jnp.minimum(ratio * adv,
                            jnp.clip(ratio, 1 - spec.clip_eps, 1 + spec.clip_eps) * adv)
    entropy = -(jnp.exp(logp_all) * logp_all).sum(-1)
    mean = (lambda x: x.mean()) if weight is None else (lambda x: (weight * x).mean())
    return -mean(surrogate) + spec.vf_coef * mean(v_loss) - spec.ent_coef * mean(entropy)


def distill_loss(spec: PPOSpec, params, batch, table):
    """Cross-entropy of the student's policy to the teachers' greedy actions ``table`` ``[K,
    N * N]`` at the minibatch's observations (visited by the student)."""
    obs, K = batch[0], spec.env.K
    target = table[jnp.argmax(obs[..., :K], -1), jnp.argmax(obs[..., K:], -1)]
    logp = jax.nn.log_softmax(network(spec, params[0], obs))
    return -jnp.take_along_axis(logp, target[..., None], -1).mean()


def update_gradient(spec: PPOSpec, params, batch, table):
    """The gradient of one minibatch: of the PPO loss, of the distillation loss, or PCGrad
    of the tasks' parts of the PPO loss (each task's samples; they sum to the loss)."""
    if spec.learner == "distill":
        return jax.grad(lambda p: distill_loss(spec, p, batch, table))(params)
    if spec.grad_mode == "sum":
        return jax.grad(lambda p: loss(spec, p, batch))(params)
    task = jnp.argmax(batch[0][..., :spec.env.K], -1)
    per_task = jax.vmap(lambda k: jax.grad(lambda p: loss(
        spec, p, batch, (task == k).astype(jnp.float32)))(params))(jnp.arange(spec.env.K))
    _, unravel = jax.flatten_util.ravel_pytree(params)
    rows = jax.vmap(lambda t: jax.flatten_util.ravel_pytree(t)[0])(per_task)
    return unravel(pcgrad(rows))


def optimizer(spec: PPOSpec):
    return optax.chain(optax.clip_by_global_norm(spec.max_grad_norm),
                       optax.adam(spec.lr, eps=1e-5))


def act(logits, key, mix):
    """The behaviour's actions ``[E]`` (the policy's; with probability ``mix``, a traced
    float, uniform-random) and the policy's log-probability of each, the denominator of the
    PPO ratio (no importance weight)."""
    mixed = jnp.log((1.0 - mix) * jax.nn.softmax(logits) + mix / logits.shape[-1])
    a = jax.random.categorical(key, jnp.where(mix >= 1, 0.0, jnp.where(mix > 0, mixed, logits)))
    return a, jnp.take_along_axis(jax.nn.log_softmax(logits), a[:, None], -1)[:, 0]


def agent_spec(spec: PPOSpec) -> PPOSpec:
    """The spec of one agent: ``spec`` itself for a shared network; for separate networks
    each task's own PPO agent, one network on ``num_envs / K`` environments of its task."""
    if not spec.separate:
        return spec
    return replace(spec, separate=False, num_envs=spec.num_envs // spec.env.K)


def _agent(spec: PPOSpec, mix, table):
    """``(start, update, opt_init)`` of one PPO agent (``spec`` not separate): ``start(key,
    task)`` the observations and states of its ``num_envs`` environments, ``update(key, carry,
    task)`` one PPO update of ``carry = (params, opt_state, obs, state)``: a rollout of
    ``num_steps`` steps, GAE, ``update_epochs`` epochs over shuffled minibatches. ``task``:
    the agent's only task (a traced int), or ``None`` (a task drawn at each reset); ``mix``:
    the behaviour's uniform share (traced); ``table``: the distilled teachers' actions."""
    env, E, S = spec.env, spec.num_envs, spec.num_steps
    opt = optimizer(spec)
    n_batch = E * S

    def start(key, task):
        return jax.vmap(lambda k: mt.reset(k, env, task))(jax.random.split(key, E))

    def env_step(c, k, task):
        p, obs, state = c
        k_act, k_env = jax.random.split(k)
        logits, v = _heads(spec, p, obs)
        a, logp = act(logits, k_act, mix)
        obs2, state2, r, done, _ = jax.vmap(lambda kk, s, aa: mt.step(kk, s, aa, env, task))(
            jax.random.split(k_env, E), state, a)
        return (p, obs2, state2), (obs, a, logp, v, r, done.astype(jnp.float32))

    def minibatch(c, mb):
        p, s = c
        upd, s = opt.update(update_gradient(spec, p, mb, table), s, p)
        return (optax.apply_updates(p, upd), s), None

    def epoch(c, k):
        p, s, batch = c
        perm = jax.random.permutation(k, n_batch)
        mbs = jax.tree_util.tree_map(
            lambda x: x.reshape((spec.num_minibatches, -1) + x.shape[1:]),
            jax.tree_util.tree_map(lambda x: x[perm], batch))
        # unrolled: about 5% faster on 2 cores (benchmarks/deep_rl.py), equal to rounding
        (p, s), _ = jax.lax.scan(minibatch, (p, s), mbs,
                                 unroll=min(spec.num_minibatches, 4))
        return (p, s, batch), None

    def update(key, c, task):
        p, s, obs, state = c
        k_roll, k_epochs = jax.random.split(key)
        (p, obs, state), traj = jax.lax.scan(lambda cc, k: env_step(cc, k, task),
                                             (p, obs, state), jax.random.split(k_roll, S))
        o, a, logp, v, r, d = traj
        _, last_v = _heads(spec, p, obs)
        adv, target = gae(spec, r, v, d, last_v)
        batch = jax.tree_util.tree_map(lambda x: x.reshape((n_batch,) + x.shape[2:]),
                                       (o, a, logp, v, adv, target))
        (p, s, _), _ = jax.lax.scan(epoch, (p, s, batch),
                                    jax.random.split(k_epochs, spec.update_epochs))
        return p, s, obs, state

    return start, update, opt.init


def checkpointed(update, measure, carry, steps):
    """Run ``update(i, carry)`` for ``i < steps[-1]`` and ``measure(carry)`` at every entry of
    ``steps`` (a scan over the segments between checkpoints): ``(the last carry, the measures
    stacked [T])``."""
    steps = jnp.asarray(steps, jnp.int32)

    def segment(c, bounds):
        c = jax.lax.fori_loop(bounds[0], bounds[1], update, c)
        return c, measure(c)

    first = measure(carry)
    last, rest = jax.lax.scan(segment, carry, jnp.stack([steps[:-1], steps[1:]], axis=1))
    return last, tuple(jnp.concatenate([a[None], b], 0) for a, b in zip(first, rest))


def _run_one(params, key, mix, table, spec: PPOSpec):
    """One training run (vmapped over seeds by the caller): the measures and the final actor;
    ``mix``: the behaviour's uniform share, traced (so that every behaviour shares one
    compiled trainer); ``table``: the teachers' actions of a distilled student. Separate
    networks are ``K`` independent PPO agents run side by side (a vmap over tasks): each its own
    environments, advantage normalisation, gradient clipping and Adam state."""
    begin, one, opt_init = _agent(agent_spec(spec), mix, table)
    k_reset, k_run = jax.random.split(key)
    if spec.separate:
        tasks, K = jnp.arange(spec.env.K), spec.env.K
        envs = jax.vmap(begin)(jax.random.split(k_reset, K), tasks)
        opt_init = jax.vmap(opt_init)

        def update(k, c):
            return jax.vmap(one)(jax.random.split(k, K), c, tasks)
    else:
        envs = begin(k_reset, None)

        def update(k, c):
            return one(k, c, None)

    def step(i, c):
        return update(jax.random.fold_in(k_run, i), c)

    def measure(c):
        actor = c[0][0]
        J, R = exact(spec, actor)
        return J, R, gradient_cosine(spec, actor), coupling_ratio(spec, actor, mix)

    last, measures = checkpointed(step, measure, (params, opt_init(params)) + tuple(envs),
                                  spec.steps)
    return measures, last[0][0]


@lru_cache(maxsize=16)
def compiled(spec: PPOSpec):
    """The jitted trainer of ``spec`` (its behaviour is an argument), vmapped over seeds:
    ``(params, keys, mix, tables) -> ((J, R, cos, coupling), final actor)``."""
    return jax.jit(jax.vmap(lambda p, k, m, t: _run_one(p, k, m, t, spec),
                            in_axes=(0, 0, None, 0)))


def run_keys(seed: int, n_runs: int):
    return jax.random.split(jax.random.PRNGKey(seed), n_runs)


def no_teachers(spec: PPOSpec, n_runs: int) -> np.ndarray:
    """The ``tables`` argument of :func:`compiled`'s trainer where no student is distilled."""
    return np.zeros((n_runs, spec.env.K, spec.env.size ** 2), np.int32)


def teacher_tables(teachers: PPORuns) -> np.ndarray:
    """``[runs, K, N * N]`` the greedy actions of each run's final actor (the teachers)."""
    return np.asarray(jax.vmap(lambda a: greedy_targets(teachers.spec, a))(teachers.actor))


def train(spec: PPOSpec, n_runs: int, seed: int = 0, teachers: PPORuns | None = None
          ) -> PPORuns:
    """Train ``n_runs`` agents together (one jitted, vmapped call); ``teachers``: the runs
    whose final actors a distilled student (``learner = "distill"``) imitates, one per run."""
    check_int("n_runs", n_runs, 1)
    check_int("seed", seed, 0)
    if (spec.learner == "distill") != (teachers is not None):
        raise ValueError("teachers are needed for learner = 'distill', and only there")
    params = init_params(spec, n_runs, seed)
    shape = (n_runs, spec.env.K, spec.env.size ** 2)
    tables = no_teachers(spec, n_runs) if teachers is None else teacher_tables(teachers)
    if tables.shape != shape:
        raise ValueError(f"teachers: {tables.shape[0]} runs of {tables.shape[1]} tasks, "
                         f"expected {n_runs} of {spec.env.K}")
    trainer = compiled(replace(spec, behaviour="on_policy", mix=0.0))
    measures, actor = trainer(params, run_keys(seed, n_runs),
                              jnp.float32(behaviour_mix(spec)), tables)
    J, R, cos, coupling = (np.asarray(x, np.float64) for x in measures)
    return PPORuns(spec, spec.steps, J, R, cos, coupling,
                   jax.tree_util.tree_map(np.asarray, actor))


def memory_bytes(spec: PPOSpec, n_runs: int) -> int:
    """Bytes of one batch: per run, parameters x 8 (gradients, Adam, Jacobian per task),
    the rollout (observations and activations of ``num_envs x num_steps`` steps) and the
    curves (float32)."""
    env = spec.env
    P = 2 * n_parameters(env.obs_dim, env.n_actions, spec.depth, spec.width, spec.separate,
                         env.K, spec.heads)
    acts = spec.env_steps_per_update * (env.obs_dim + 6 * spec.width * spec.depth + 16)
    per_run = 4 * ((8 + env.K) * P + acts + 4 * len(spec.steps) * env.K)
    return n_runs * (per_run + 1024)

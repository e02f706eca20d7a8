"""K DeepSea tasks from bsuite (through gymnax) as one multi-task problem (Sec. 3.3's
``J = sum_k J_k``; issue 20's "benchmark nobody here wrote").

Each task is gymnax's ``DeepSea-bsuite`` environment (Osband et al., 2020: bsuite) of the
same ``size`` N with its own random *action mapping* (which of the two actions moves right
in each cell), drawn by gymnax from ``jax.random.key(mapping_seed)`` folded with the task
index. An episode starts at the top-left cell of a task drawn uniformly at random; every step
moves one row down and one column right or left, so every episode lasts exactly N steps.
Only the path that moves right at every step reaches the treasure (+1); each move right costs
``0.01 / N``. A uniform-random policy finds the treasure with probability ``2^-N``: the data
of a random policy carry almost no signal (``f_k(0) ~ 0``, the coupling regime of Sec. 3.3).
The agent sees the task's one-hot followed by gymnax's ``N x N`` observation (flattened).

The dynamics are gymnax's own ``step_env``; this module only chooses the task at reset
(and at the automatic reset after each episode) and writes its action mapping into gymnax's
state. :func:`exact_returns` computes every task's success probability and expected return
exactly from the policy's action probabilities (forward propagation of the column
distribution), no sampling.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..config import check_int

ENV_ID = "DeepSea-bsuite"
N_ACTIONS = 2
MAX_TASKS = 16


@dataclass(frozen=True)
class MultiTaskParams:
    """``K`` DeepSea tasks of ``size`` rows; action mappings drawn from ``mapping_seed``."""

    K: int = 2
    size: int = 6
    mapping_seed: int = 0

    def __post_init__(self):
        check_int("K", self.K, 1, MAX_TASKS)
        check_int("size", self.size, 2, 30)
        check_int("mapping_seed", self.mapping_seed, 0)

    @property
    def obs_dim(self) -> int:
        return self.K + self.size ** 2

    @property
    def n_actions(self) -> int:
        return N_ACTIONS

    @property
    def episode_length(self) -> int:
        return self.size


class TaskState(NamedTuple):
    task: jnp.ndarray      # int32: which DeepSea instance
    inner: Any             # gymnax's DeepSea EnvState (carries the task's action mapping)


@lru_cache(maxsize=16)
def gymnax_envs(params: MultiTaskParams):
    """The K gymnax environments (``gymnax.make``) and gymnax's default env params."""
    import gymnax

    with jax.ensure_compile_time_eval():                 # concrete even when first traced
        base = jax.random.key(params.mapping_seed)
        envs = [gymnax.make(ENV_ID, size=params.size,
                            action_mapping_key=jax.random.fold_in(base, k))
                for k in range(params.K)]
    return tuple(e for e, _ in envs), envs[0][1]


@lru_cache(maxsize=16)
def action_mappings(params: MultiTaskParams) -> np.ndarray:
    """``[K, N, N]`` the action that moves right in each cell of each task."""
    envs, _ = gymnax_envs(params)
    with jax.ensure_compile_time_eval():
        return np.stack([np.asarray(e.action_mapping) for e in envs])


def observe(task, inner_obs, params: MultiTaskParams):
    """The agent's observation: task one-hot, then gymnax's observation flattened."""
    return jnp.concatenate([jax.nn.one_hot(task, params.K), inner_obs.reshape(-1)])


def reset(key, params: MultiTaskParams, task=None):
    """A new episode in ``task`` (an int, may be traced: an agent that learns one task only),
    or in a task drawn uniformly (``None``): ``(obs, state)``."""
    envs, env_params = gymnax_envs(params)
    k_task, k_env = jax.random.split(key)
    if task is None:
        task = jax.random.randint(k_task, (), 0, params.K)
    _, inner = envs[0].reset_env(k_env, env_params)
    inner = inner.replace(action_mapping=jnp.asarray(action_mappings(params))[task])
    return observe(task, envs[0].get_obs(inner), params), TaskState(task, inner)


def step(key, state: TaskState, action, params: MultiTaskParams, task=None):
    """gymnax's DeepSea step in the current task, with automatic reset (a new task drawn, or
    ``task`` again, :func:`reset`) when the episode ends: ``(obs, state, reward, done,
    info)``; ``info["task"]`` is the task of the step taken."""
    envs, env_params = gymnax_envs(params)
    k_step, k_reset = jax.random.split(key)
    _, inner, reward, done, _ = envs[0].step_env(k_step, state.inner, action, env_params)
    stepped_obs = observe(state.task, envs[0].get_obs(inner), params)
    reset_obs, reset_state = reset(k_reset, params, task)
    pick = lambda a, b: jax.lax.select(done, a, b)  # noqa: E731
    new_state = jax.tree_util.tree_map(pick, reset_state, TaskState(state.task, inner))
    return pick(reset_obs, stepped_obs), new_state, reward, done, {"task": state.task}


def all_observations(params: MultiTaskParams) -> np.ndarray:
    """``[K, N, N, obs_dim]`` the observation of every cell of every task (gymnax's layout:
    a one-hot of the agent's cell)."""
    K, N = params.K, params.size
    cells = np.eye(N * N, dtype=np.float32).reshape(N, N, N * N)
    tasks = np.eye(K, dtype=np.float32)
    return np.concatenate([np.broadcast_to(tasks[:, None, None, :], (K, N, N, K)),
                           np.broadcast_to(cells[None], (K, N, N, N * N))], axis=-1)


def success_path(params: MultiTaskParams) -> tuple[np.ndarray, np.ndarray]:
    """The only path that reaches the treasure, per task: the observations of its cells
    ``[K, N, obs_dim]`` (the diagonal ``(r, r)``) and the action that moves right there
    ``[K, N]``; ``J_k`` is the product over its cells of that action's probability."""
    diag = np.arange(params.size)
    obs = all_observations(params)[:, diag, diag]
    return np.ascontiguousarray(obs), action_mappings(params)[:, diag, diag]


def exact_returns(probs, params: MultiTaskParams, move_cost: float = 0.01):
    """Exact success probability ``J_k`` and expected return ``R_k`` of each task, ``([K],
    [K])``, from the policy's action probabilities ``probs`` ``[K, N, N, 2]`` at every cell.

    The column distribution ``p_r(c)`` is propagated row by row: from ``(r, c)`` the agent
    moves right with ``q = pi(mapping[r, c] | r, c)`` (to ``min(c + 1, N - 1)``), else left (to
    ``max(c - 1, 0)``). ``J_k = p_{N-1}(N-1) q(N-1, N-1)`` and ``R_k = J_k - move_cost / N *
    E[moves right]`` (gymnax's deterministic DeepSea rewards). Differentiable in ``probs``.
    """
    N = params.size
    maps = jnp.asarray(action_mappings(params))
    q = jnp.take_along_axis(probs, maps[..., None], -1)[..., 0]          # [K, N, N]
    cols = jnp.arange(N)
    right = jax.nn.one_hot(jnp.minimum(cols + 1, N - 1), N)              # [N, N]
    left = jax.nn.one_hot(jnp.maximum(cols - 1, 0), N)

    def row(p, q_r):                                                     # p, q_r: [K, N]
        moved = (p * q_r) @ right + (p * (1 - q_r)) @ left
        return moved, (p, (p * q_r).sum(-1))

    p0 = jnp.broadcast_to(jax.nn.one_hot(0, N), (params.K, N))
    _, (ps, rights) = jax.lax.scan(row, p0, jnp.swapaxes(q, 0, 1))       # [N, K, N], [N, K]
    J = ps[N - 1, :, N - 1] * q[:, N - 1, N - 1]
    return J, J - move_cost / N * rights.sum(0)

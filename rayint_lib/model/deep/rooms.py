"""A multi-room task for Sec. 3.3, as pure functions in gymnax's conventions.

``K`` rooms, each a ``size x size`` grid (``size`` odd). An episode starts in the centre of a
room chosen uniformly at random; the room is visible to the agent (its one-hot is part of
the observation). Room ``k`` has its goal in its own corner (room 0 top-left, room 1
bottom-right, room 2 top-right, room 3 bottom-left), so the optimal behaviour differs per
room. Actions: up, down, left, right (a move into a wall stays put). Reward 1 on reaching
the goal, which ends the episode; the episode also ends after ``horizon`` steps. So
``J = sum_k J_k`` with ``J_k`` the success rate from room ``k`` (Sec. 3.3's decomposition),
and a uniform-random policy rarely succeeds: little can be learned from its data
(``f_k(0) ~ 0``).

``reset(key, params) -> obs, state`` and ``step(key, state, action, params) -> obs, state,
reward, done, info`` (with automatic reset, as gymnax); :func:`step_env` without reset.
:func:`success_probabilities` computes every ``J_k`` exactly from the policy's action
probabilities (forward propagation of the position distribution), no sampling.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..config import check_int

MOVES = np.array([(-1, 0), (1, 0), (0, -1), (0, 1)])     # up, down, left, right
ACTION_NAMES = ("up", "down", "left", "right")
MAX_ROOMS = 4


@dataclass(frozen=True)
class RoomsParams:
    """The task: ``K`` rooms of ``size x size`` cells, episodes of at most ``horizon`` steps."""

    K: int = 2
    size: int = 5
    horizon: int = 12

    def __post_init__(self):
        check_int("K", self.K, 1, MAX_ROOMS)
        check_int("size", self.size, 3, 15)
        if self.size % 2 == 0:
            raise ValueError(f"size must be odd (the start is the centre cell); got {self.size}")
        check_int("horizon", self.horizon, self.size - 1, 1000)

    @property
    def n_actions(self) -> int:
        return len(MOVES)

    @property
    def obs_dim(self) -> int:
        return self.K + 2 * self.size

    @property
    def start(self) -> tuple[int, int]:
        return (self.size // 2, self.size // 2)

    def goals(self) -> np.ndarray:
        """Goal cell ``(row, col)`` of each room, ``[K, 2]``."""
        s = self.size - 1
        return np.array([(0, 0), (s, s), (0, s), (s, 0)][:self.K])


class EnvState(NamedTuple):
    room: jnp.ndarray
    row: jnp.ndarray
    col: jnp.ndarray
    t: jnp.ndarray


def observation(state: EnvState, params: RoomsParams):
    """One-hot room, one-hot row, one-hot column: ``[K + 2 size]``."""
    return jnp.concatenate([jax.nn.one_hot(state.room, params.K),
                            jax.nn.one_hot(state.row, params.size),
                            jax.nn.one_hot(state.col, params.size)])


def reset(key, params: RoomsParams):
    """A new episode: uniform room, agent in the centre."""
    room = jax.random.randint(key, (), 0, params.K)
    r, c = params.start
    state = EnvState(room, jnp.int32(r), jnp.int32(c), jnp.int32(0))
    return observation(state, params), state


def step_env(key, state: EnvState, action, params: RoomsParams):
    """One move (no reset). Returns ``obs, state, reward, done, info``."""
    del key                                          # the dynamics are deterministic
    moves = jnp.asarray(MOVES, jnp.int32)
    row = jnp.clip(state.row + moves[action, 0], 0, params.size - 1)
    col = jnp.clip(state.col + moves[action, 1], 0, params.size - 1)
    goal = jnp.asarray(params.goals(), jnp.int32)[state.room]
    success = (row == goal[0]) & (col == goal[1])
    t = state.t + 1
    state = EnvState(state.room, row, col, t)
    done = success | (t >= params.horizon)
    info = {"room": state.room, "success": success}
    return observation(state, params), state, success.astype(jnp.float32), done, info


def step(key, state: EnvState, action, params: RoomsParams):
    """gymnax-style step: as :func:`step_env`, and a fresh episode once ``done``."""
    k_step, k_reset = jax.random.split(key)
    obs, state2, reward, done, info = step_env(k_step, state, action, params)
    obs_r, state_r = reset(k_reset, params)
    state2 = jax.tree_util.tree_map(lambda a, b: jnp.where(done, a, b), state_r, state2)
    obs = jnp.where(done, obs_r, obs)
    return obs, state2, reward, done, info


def all_observations(params: RoomsParams) -> np.ndarray:
    """Observation of every (room, cell): ``[K, size * size, obs_dim]`` (row-major cells)."""
    K, S = params.K, params.size
    out = np.zeros((K, S * S, params.obs_dim), np.float32)
    for k in range(K):
        for r in range(S):
            for c in range(S):
                out[k, r * S + c, k] = 1
                out[k, r * S + c, K + r] = 1
                out[k, r * S + c, K + S + c] = 1
    return out


def transition_table(params: RoomsParams) -> np.ndarray:
    """``T[p, a, q] = 1`` when action ``a`` moves cell ``p`` to cell ``q``."""
    S = params.size
    T = np.zeros((S * S, len(MOVES), S * S), np.float32)
    for r in range(S):
        for c in range(S):
            for a, (dr, dc) in enumerate(MOVES):
                r2, c2 = min(max(r + dr, 0), S - 1), min(max(c + dc, 0), S - 1)
                T[r * S + c, a, r2 * S + c2] = 1
    return T


def success_probabilities(probs, params: RoomsParams):
    """Exact ``J_k`` (probability of reaching room k's goal within the horizon) for action
    probabilities ``probs`` ``[K, size * size, 4]``; returns ``[K]``."""
    S, K = params.size, params.K
    T = jnp.asarray(transition_table(params))
    goal_idx = jnp.asarray(params.goals()[:, 0] * S + params.goals()[:, 1])
    start = params.start[0] * S + params.start[1]
    d0 = jnp.zeros((K, S * S)).at[:, start].set(1.0)
    not_goal = 1.0 - jax.nn.one_hot(goal_idx, S * S)             # [K, S*S]

    def one(carry, _):
        d, won = carry
        d = jnp.einsum("kp,kpa,paq->kq", d, probs, T)
        won = won + (d * (1.0 - not_goal)).sum(axis=1)
        return (d * not_goal, won), None

    (_, won), _ = jax.lax.scan(one, (d0, jnp.zeros(K)), None, length=params.horizon)
    return won


def optimal_actions(params: RoomsParams) -> np.ndarray:
    """A shortest-path action for every (room, cell), ``[K, size * size]``: first move along
    the rows toward the goal, then along the columns (any shortest path is optimal)."""
    S = params.size
    out = np.zeros((params.K, S * S), np.int32)
    for k, (gr, gc) in enumerate(params.goals()):
        for r in range(S):
            for c in range(S):
                if r != gr:
                    a = 0 if gr < r else 1
                else:
                    a = 2 if gc < c else 3
                out[k, r * S + c] = a
    return out


def random_policy_success(params: RoomsParams) -> np.ndarray:
    """``J_k`` of the uniform-random policy (the floor from which learning starts)."""
    probs = jnp.full((params.K, params.size ** 2, 4), 0.25)
    return np.asarray(success_probabilities(probs, params))

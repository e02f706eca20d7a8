"""A K-room task in the coupling regime of Sec. 3.3, as pure functions in gymnax's conventions.

``K`` rooms, each a corridor of ``length`` cells. An episode starts in the first cell of a
room chosen uniformly at random; the room is visible to the agent (its one-hot is part of the
observation, with the one-hot of the cell). In every cell exactly one of the 4 actions (the
room's *key* for that cell, :func:`optimal_actions`) moves on to the next cell; any other
action ends the episode with reward 0. Taking the key in the last cell gives reward 1 and ends
the episode. So ``J = sum_k J_k`` with ``J_k`` the success rate from room ``k`` (Sec. 3.3's
decomposition), and ``J_k = prod_c pi(key_{k,c} | k, c)`` exactly (:func:`success_probabilities`).

Rooms need different keys in the same cell (room ``k``'s key in cell ``c`` is
``(k + c (1 + k // 4)) mod 4``: rooms 0-3 differ in every cell), so a network shared by the
rooms is pulled in opposite directions (interference). A uniform-random policy succeeds with
probability ``4^-length`` (``length = 5``: 0.001): the data of an incompetent policy carry
almost no reward, which is the paper's ``f_k(0) ~ 0`` (coupling) by construction, and
:func:`random_policy_success` states it.

``reset(key, params) -> obs, state`` and ``step(key, state, action, params) -> obs, state,
reward, done, info`` (with automatic reset, as gymnax); :func:`step_env` without reset.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..config import check_int

N_ACTIONS = 4
MAX_ROOMS = 8


@dataclass(frozen=True)
class RoomsParams:
    """The task: ``K`` corridors of ``length`` cells; an episode lasts at most ``length``
    steps (the horizon)."""

    K: int = 2
    length: int = 5

    def __post_init__(self):
        check_int("K", self.K, 1, MAX_ROOMS)
        check_int("length", self.length, 1, 12)

    @property
    def n_actions(self) -> int:
        return N_ACTIONS

    @property
    def horizon(self) -> int:
        return self.length

    @property
    def obs_dim(self) -> int:
        return self.K + self.length


class EnvState(NamedTuple):
    room: jnp.ndarray
    cell: jnp.ndarray
    t: jnp.ndarray


def optimal_actions(params: RoomsParams) -> np.ndarray:
    """The key of every (room, cell), ``[K, length]``: the only action that moves on."""
    k = np.arange(params.K)[:, None]
    c = np.arange(params.length)[None, :]
    return ((k + c * (1 + k // 4)) % N_ACTIONS).astype(np.int32)


def observation(state: EnvState, params: RoomsParams):
    """One-hot room, one-hot cell: ``[K + length]``."""
    return jnp.concatenate([jax.nn.one_hot(state.room, params.K),
                            jax.nn.one_hot(state.cell, params.length)])


def reset(key, params: RoomsParams):
    """A new episode: uniform room, first cell."""
    room = jax.random.randint(key, (), 0, params.K)
    state = EnvState(room, jnp.int32(0), jnp.int32(0))
    return observation(state, params), state


def step_env(key, state: EnvState, action, params: RoomsParams):
    """One move (no reset). Returns ``obs, state, reward, done, info``."""
    del key                                          # the dynamics are deterministic
    keys = jnp.asarray(optimal_actions(params))
    right = action == keys[state.room, state.cell]
    success = right & (state.cell == params.length - 1)
    cell = jnp.minimum(state.cell + right.astype(jnp.int32), params.length - 1)
    state = EnvState(state.room, cell, state.t + 1)
    done = success | ~right | (state.t >= params.horizon)
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
    """Observation of every (room, cell): ``[K, length, obs_dim]``."""
    K, L = params.K, params.length
    out = np.zeros((K, L, params.obs_dim), np.float32)
    for k in range(K):
        for c in range(L):
            out[k, c, k] = 1
            out[k, c, K + c] = 1
    return out


def decode(obs, params: RoomsParams):
    """``(room, cell)`` of observations ``[..., obs_dim]``."""
    K = params.K
    return jnp.argmax(obs[..., :K], -1), jnp.argmax(obs[..., K:], -1)


def key_probabilities(probs, params: RoomsParams):
    """``pi(key_{k,c} | k, c)`` ``[K, length]`` from action probabilities
    ``[K, length, 4]``."""
    keys = jnp.asarray(optimal_actions(params))
    return jnp.take_along_axis(probs, keys[..., None], -1)[..., 0]


def success_probabilities(probs, params: RoomsParams):
    """Exact ``J_k = prod_c pi(key_{k,c} | k, c)`` for action probabilities
    ``[K, length, 4]``; returns ``[K]``."""
    return jnp.prod(key_probabilities(probs, params), axis=-1)


def random_policy_success(params: RoomsParams) -> np.ndarray:
    """``J_k`` of the uniform-random policy, ``4^-length`` (the floor: ``f_k(0) ~ 0``)."""
    probs = jnp.full((params.K, params.length, N_ACTIONS), 1.0 / N_ACTIONS)
    return np.asarray(success_probabilities(probs, params))

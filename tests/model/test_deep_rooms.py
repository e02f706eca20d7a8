"""The multi-room environment (model.deep.rooms): dynamics by hand on tiny cases."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rayint_lib.model.deep import rooms

P = rooms.RoomsParams(K=2, size=3, horizon=4)


def _state(room, r, c, t=0):
    return rooms.EnvState(jnp.int32(room), jnp.int32(r), jnp.int32(c), jnp.int32(t))


def test_reset_starts_in_the_centre_of_a_uniform_room():
    rooms_seen = []
    for i in range(200):
        obs, s = rooms.reset(jax.random.PRNGKey(i), P)
        assert (int(s.row), int(s.col), int(s.t)) == (1, 1, 0)
        assert obs.shape == (P.obs_dim,) and float(obs.sum()) == 3.0
        assert float(obs[int(s.room)]) == 1.0
        rooms_seen.append(int(s.room))
    assert 60 < sum(rooms_seen) < 140


def test_moves_walls_goal_and_horizon_by_hand():
    key = jax.random.PRNGKey(0)
    _, s, r, d, _ = rooms.step_env(key, _state(0, 1, 1), 0, P)          # up
    assert (int(s.row), int(s.col), float(r), bool(d)) == (0, 1, 0.0, False)
    _, s, r, d, info = rooms.step_env(key, s, 2, P)                       # left: goal (0, 0)
    assert (int(s.row), int(s.col), float(r), bool(d)) == (0, 0, 1.0, True)
    assert bool(info["success"])
    _, s, r, d, _ = rooms.step_env(key, _state(1, 0, 0), 0, P)           # wall: stays
    assert (int(s.row), int(s.col), float(r)) == (0, 0, 0.0)
    _, s, r, d, _ = rooms.step_env(key, _state(1, 1, 1, t=3), 0, P)      # last step
    assert bool(d) and float(r) == 0.0
    _, s, r, d, _ = rooms.step_env(key, _state(1, 2, 1), 3, P)           # room 1's goal (2, 2)
    assert float(r) == 1.0


def test_auto_reset_step():
    _, s, r, d, _ = rooms.step(jax.random.PRNGKey(3), _state(0, 0, 1), 2, P)
    assert bool(d) and (int(s.row), int(s.col), int(s.t)) == (1, 1, 0)


def test_exact_success_by_hand_and_against_sampling():
    # Uniform policy, 3x3, horizon 2: the goal is 2 moves away; P = 2 paths x (1/4)^2.
    p2 = rooms.RoomsParams(K=2, size=3, horizon=2)
    J = rooms.random_policy_success(p2)
    assert J == pytest.approx([2 / 16, 2 / 16], abs=1e-6)
    # the optimal policy always succeeds
    probs = jax.nn.one_hot(jnp.asarray(rooms.optimal_actions(P)), 4)
    assert np.asarray(rooms.success_probabilities(probs, P)) == pytest.approx([1, 1])


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="size"):
        rooms.RoomsParams(size=4)
    with pytest.raises(ValueError, match="K"):
        rooms.RoomsParams(K=5)
    with pytest.raises(ValueError, match="horizon"):
        rooms.RoomsParams(size=7, horizon=3)

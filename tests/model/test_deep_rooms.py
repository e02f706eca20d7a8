"""The K-room corridor task (model.deep.rooms): dynamics by hand, exact J_k."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rayint_lib.model.deep import agent, rooms

P = rooms.RoomsParams(K=2, length=3)


def _state(room, cell, t=0):
    return rooms.EnvState(jnp.int32(room), jnp.int32(cell), jnp.int32(t))


def test_reset_starts_in_the_first_cell_of_a_uniform_room():
    seen = []
    for i in range(200):
        obs, s = rooms.reset(jax.random.PRNGKey(i), P)
        assert (int(s.cell), int(s.t)) == (0, 0)
        assert obs.shape == (P.obs_dim,) and float(obs.sum()) == 2.0
        assert float(obs[int(s.room)]) == 1.0 and float(obs[P.K]) == 1.0
        seen.append(int(s.room))
    assert 60 < sum(seen) < 140


def test_keys_differ_between_rooms_in_every_cell():
    keys = rooms.optimal_actions(rooms.RoomsParams(K=8, length=6))
    assert (keys[:4, None, :] != keys[None, :4, :]).sum(-1)[~np.eye(4, dtype=bool)].min() == 6
    assert len({tuple(r) for r in keys}) == 8                  # no two rooms alike


def test_moves_wrong_keys_and_goal_by_hand():
    key = jax.random.PRNGKey(0)
    k = rooms.optimal_actions(P)                                # room 0: 0, 1, 2; room 1: 1, 2, 3
    assert k.tolist() == [[0, 1, 2], [1, 2, 3]]
    _, s, r, d, _ = rooms.step_env(key, _state(0, 0), 0, P)     # the key: on to cell 1
    assert (int(s.cell), float(r), bool(d)) == (1, 0.0, False)
    _, s2, r, d, _ = rooms.step_env(key, s, 3, P)               # a wrong action ends it
    assert (float(r), bool(d)) == (0.0, True)
    _, s, r, d, info = rooms.step_env(key, _state(1, 2, 2), 3, P)   # last key: reward 1
    assert (float(r), bool(d), bool(info["success"])) == (1.0, True, True)
    _, s, r, d, _ = rooms.step_env(key, _state(1, 2, 2), 2, P)  # room 0's key, in room 1
    assert (float(r), bool(d)) == (0.0, True)


def test_auto_reset_step():
    _, s, r, d, _ = rooms.step(jax.random.PRNGKey(3), _state(0, 1), 3, P)
    assert bool(d) and (int(s.cell), int(s.t)) == (0, 0)


def test_exact_success_by_hand():
    assert rooms.random_policy_success(rooms.RoomsParams(K=3, length=5)) == pytest.approx(
        [4.0 ** -5] * 3)
    probs = jax.nn.one_hot(jnp.asarray(rooms.optimal_actions(P)), 4)
    assert np.asarray(rooms.success_probabilities(probs, P)) == pytest.approx([1, 1])
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=(2, 3))
    keys = rooms.optimal_actions(P)
    want = [np.prod([probs[k, c, keys[k, c]] for c in range(3)]) for k in range(2)]
    assert np.asarray(rooms.success_probabilities(jnp.asarray(probs), P)) == pytest.approx(
        want, rel=1e-5)


def test_sampled_return_matches_the_sum_of_exact_J_k():
    """Sec. 3.3's decomposition J = (1/K) sum_k J_k (uniform rooms), an identity of the task:
    sampled episodes of a random network against the exact J_k, to Monte Carlo precision."""
    spec = agent.AgentSpec(env=rooms.RoomsParams(K=2, length=2), episodes=4000,
                           output_scale=2.0)
    p = jax.tree_util.tree_map(lambda x: jnp.asarray(x[0]), agent.init_params(spec, 1, 3))
    exact = float(np.asarray(agent.exact_success(spec, p)).mean())
    ret = np.asarray(agent.rollout(spec, p, jax.random.PRNGKey(5))[2].sum(0))
    se = ret.std() / np.sqrt(ret.size)
    assert abs(ret.mean() - exact) < 4 * se
    assert exact > 0.03                                          # the test has power


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="length"):
        rooms.RoomsParams(length=0)
    with pytest.raises(ValueError, match="K"):
        rooms.RoomsParams(K=9)

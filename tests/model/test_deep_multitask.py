"""K DeepSea tasks from gymnax (model.deep.multitask): gymnax's dynamics, the task's action
mapping, and the exact J_k and returns against sampled episodes."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rayint_lib.model.deep import multitask as mt

P = mt.MultiTaskParams(K=2, size=4)


def test_tasks_differ_and_reset_draws_them_uniformly():
    maps = mt.action_mappings(P)
    assert maps.shape == (2, 4, 4) and set(np.unique(maps)) <= {0, 1}
    assert (maps[0] != maps[1]).any()
    tasks = [int(mt.reset(jax.random.PRNGKey(i), P)[1].task) for i in range(200)]
    assert 60 < sum(tasks) < 140
    obs, s = mt.reset(jax.random.PRNGKey(0), P)
    assert obs.shape == (P.obs_dim,) and float(obs[int(s.task)]) == 1.0
    assert float(obs[P.K]) == 1.0 and float(obs.sum()) == 2.0         # top-left cell
    np.testing.assert_array_equal(np.asarray(s.inner.action_mapping), maps[int(s.task)])


def test_all_observations_are_what_gymnax_shows_in_each_cell():
    envs, _ = mt.gymnax_envs(P)
    obs = mt.all_observations(P)
    _, inner = envs[0].reset_env(jax.random.PRNGKey(0), envs[0].default_params)
    for k in range(P.K):
        for r in range(P.size):
            for c in range(P.size):
                g = envs[0].get_obs(inner.replace(row=r, column=c))
                np.testing.assert_array_equal(obs[k, r, c], np.asarray(
                    mt.observe(jnp.int32(k), g, P)))


def test_the_right_path_reaches_the_treasure_in_every_task():
    maps = mt.action_mappings(P)
    for task in range(P.K):
        obs, s = mt.reset(jax.random.PRNGKey(task), P)
        s = s._replace(task=jnp.int32(task),
                       inner=s.inner.replace(action_mapping=jnp.asarray(maps[task])))
        total = 0.0
        for t in range(P.size):
            obs, s, r, done, info = mt.step(jax.random.PRNGKey(t), s, maps[task][t, t], P)
            total += float(r)
            assert int(info["task"]) == task and bool(done) == (t == P.size - 1)
        assert total == pytest.approx(1.0 - 0.01, abs=1e-6)    # N moves right cost 0.01


def test_exact_returns_match_sampled_episodes():
    rng = np.random.default_rng(0)
    probs = jnp.asarray(rng.dirichlet([1.0, 1.0], size=(2, 4, 4)), jnp.float32)
    J, R = mt.exact_returns(probs, P)

    def episode(key):
        obs, s = mt.reset(key, P)

        def body(c, k):
            obs, s, ret, won = c
            ka, ks = jax.random.split(k)
            cell = jnp.argmax(obs[P.K:])
            a = jax.random.categorical(ka, jnp.log(probs[s.task, cell // 4, cell % 4]))
            obs, s2, r, _, _ = mt.step(ks, s, a, P)
            return (obs, s2, ret + r, won | (r > 0.5)), None
        (_, _, ret, won), _ = jax.lax.scan(body, (obs, s, 0.0, False),
                                           jax.random.split(key, 4))
        return s.task, ret, won

    task, ret, won = (np.asarray(x) for x in jax.jit(jax.vmap(episode))(
        jax.random.split(jax.random.PRNGKey(1), 40_000)))
    for k in range(2):
        m = task == k
        se = np.sqrt(J[k] * (1 - J[k]) / m.sum())
        assert abs(won[m].mean() - float(J[k])) < 4 * se + 1e-3
        assert abs(ret[m].mean() - float(R[k])) < 4 * se + 1e-3


def test_uniform_policy_succeeds_with_two_to_the_minus_n():
    for size in (3, 8):
        p = mt.MultiTaskParams(K=3, size=size)
        J, R = mt.exact_returns(jnp.full((3, size, size, 2), 0.5), p)
        np.testing.assert_allclose(np.asarray(J), 2.0 ** -size, rtol=1e-5)


@pytest.mark.parametrize("name,value", [("K", 0), ("K", 17), ("size", 1), ("mapping_seed", -1)])
def test_bad_parameters_are_named(name, value):
    with pytest.raises(ValueError, match=name):
        mt.MultiTaskParams(**{name: value})

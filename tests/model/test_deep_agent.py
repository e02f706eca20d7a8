"""The actor-critic on the multi-room task (model.deep.agent)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rayint_lib.model.deep import agent, rooms

ENV = rooms.RoomsParams(K=2, size=3, horizon=4)


def _one(tree, i):
    return jax.tree_util.tree_map(lambda x: jnp.asarray(x[i]), tree)


def test_policy_gradient_of_the_loss_against_finite_differences():
    jax.config.update("jax_enable_x64", True)
    try:
        spec = agent.AgentSpec(env=ENV, depth=1, width=4, episodes=32, output_scale=1.0)
        p = jax.tree_util.tree_map(lambda x: jnp.asarray(x[0], jnp.float64),
                                   agent.init_params(spec, 1, 0))
        batch = agent.rollout(spec, p, jax.random.PRNGKey(1))
        o, a, r, alive = batch
        assert float(r.sum()) > 0                       # a success, so the actor term moves
        net = agent._net(spec)
        G = jnp.cumsum(r[::-1], 0)[::-1]
        A0 = G - net(p, o)[1]                           # advantages held fixed (a baseline)

        def f(q):                                       # REINFORCE with baseline + critic
            logits, v = net(q, o)
            lp = jnp.take_along_axis(jax.nn.log_softmax(logits), a[..., None], -1)[..., 0]
            return (-(alive * A0 * lp).sum() + spec.value_coef * 0.5
                    * (alive * (G - v) ** 2).sum()) / spec.episodes
        g = jax.flatten_util.ravel_pytree(jax.grad(lambda q: agent.loss(spec, q, batch))(p))[0]
        flat, unravel = jax.flatten_util.ravel_pytree(p)
        h = 1e-6
        for j in range(0, flat.size, 5):
            e = jnp.zeros_like(flat).at[j].set(h)
            fd = (f(unravel(flat + e)) - f(unravel(flat - e))) / (2 * h)
            assert float(g[j]) == pytest.approx(float(fd), abs=1e-6)
    finally:
        jax.config.update("jax_enable_x64", False)


def test_rollout_masks_after_the_goal():
    spec = agent.AgentSpec(env=ENV, depth=1, width=4, episodes=64, output_scale=1.0)
    p = _one(agent.init_params(spec, 1, 0), 0)
    o, a, r, alive = (np.asarray(x) for x in agent.rollout(spec, p, jax.random.PRNGKey(0)))
    assert r.sum(0).max() <= 1                         # one reward per episode at most
    after = np.cumsum(r, 0) - r                         # steps after a success
    assert (alive[after > 0] == 0).all()


def test_vmapped_equals_looped_for_two_seeds():
    spec = agent.AgentSpec(env=ENV, depth=1, width=4, episodes=2, n_updates=40,
                           n_checkpoints=5)
    params = agent.init_params(spec, 2, 0)
    keys = agent.run_keys(0, 2)
    both = agent._compiled(agent._structure(spec))(params, keys, *agent._variant(spec))
    for i in range(2):
        one = agent.train_one(spec, _one(params, i), keys[i])
        for x, y in zip(both, one):
            assert np.asarray(x[i]) == pytest.approx(np.asarray(y), abs=1e-5, nan_ok=True)


def test_supervised_learns_the_optimal_policy():
    spec = agent.AgentSpec(env=ENV, depth=1, width=16, learner="supervised", lr=0.03,
                           n_updates=200)
    runs = agent.train(spec, 3, 0)
    assert runs.solved.all()


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="learner"):
        agent.AgentSpec(learner="greedy")
    with pytest.raises(ValueError, match="mix"):
        agent.AgentSpec(mix=1.5)
    with pytest.raises(ValueError, match="depth"):
        agent.AgentSpec(depth=0)

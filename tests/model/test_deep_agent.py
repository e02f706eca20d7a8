"""The actor-critic on the multi-room task (model.deep.agent)."""
from dataclasses import replace

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


def test_td_targets_by_hand():
    """Two episodes of 4 steps: one reaches the goal at step 2 (then masked), one runs into
    the time limit. TD(0): r_t + gamma V(s_{t+1}), with V = 0 after the goal and after the
    time limit; MC: the return to go."""
    r = jnp.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])       # [H, B]
    alive = jnp.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [0.0, 1.0]])
    v = jnp.array([[0.1, 0.5], [0.2, 0.6], [0.3, 0.7], [0.4, 0.8]])
    g = 0.9
    td = np.asarray(agent.targets(r, v, alive, True, g))
    expected = np.array([[g * 0.2, g * 0.6],          # bootstrap from the next state
                         [g * 0.3, g * 0.7],
                         [1.0, g * 0.8],              # the goal: reward, terminal value 0
                         [0.0, 0.0]])                 # masked step; time limit: value 0
    assert td == pytest.approx(expected)
    mc = np.asarray(agent.targets(r, v, alive, False, g))
    assert mc == pytest.approx(np.array([[1, 0], [1, 0], [1, 0], [0, 0]], float))
    traced = jax.jit(lambda f: agent.targets(r, v, alive, f, g))      # a traced switch
    assert np.asarray(traced(jnp.bool_(True))) == pytest.approx(expected)


def test_td_loss_is_semi_gradient_with_the_td_error_as_advantage():
    spec = agent.AgentSpec(env=ENV, depth=1, width=4, episodes=32, output_scale=1.0,
                           critic="td", gamma=0.9)
    params = agent.init_params(spec, 1, 0)
    W, b = params[-1]                                  # a value head that varies by state
    W[..., -1] = np.random.default_rng(0).normal(0, 0.3, W.shape[:-1])
    b[..., -1] = 0.2
    p = _one(params, 0)
    batch = agent.rollout(spec, p, jax.random.PRNGKey(1))
    o, a, r, alive = batch
    net = agent._net(spec)
    v0 = net(p, o)[1]
    v_next = jnp.concatenate([v0[1:], jnp.zeros_like(v0[:1])]) * jnp.concatenate(
        [alive[1:], jnp.zeros_like(alive[:1])])
    Y = r + 0.9 * v_next                               # held fixed (no gradient)

    def f(q):
        logits, v = net(q, o)
        lp = jnp.take_along_axis(jax.nn.log_softmax(logits), a[..., None], -1)[..., 0]
        return (-(alive * (Y - v0) * lp).sum() + spec.value_coef * 0.5
                * (alive * (Y - v) ** 2).sum()) / spec.episodes
    want = jax.flatten_util.ravel_pytree(jax.grad(f)(p))[0]
    got = jax.flatten_util.ravel_pytree(jax.grad(lambda q: agent.loss(spec, q, batch))(p))[0]
    assert np.asarray(got) == pytest.approx(np.asarray(want), abs=1e-6)
    mc = jax.flatten_util.ravel_pytree(jax.grad(
        lambda q: agent.loss(spec, q, batch, td=False))(p))[0]
    assert not np.allclose(np.asarray(mc), np.asarray(got))


def test_the_critic_is_traced_not_compiled_in():
    spec = agent.AgentSpec(env=ENV, depth=1, width=4)
    assert agent._structure(replace(spec, critic="td")) == agent._structure(spec)


@pytest.mark.parametrize("critic", agent.CRITICS)
def test_vmapped_equals_looped_for_two_seeds(critic):
    spec = agent.AgentSpec(env=ENV, depth=1, width=4, episodes=2, n_updates=40,
                           n_checkpoints=5, critic=critic)
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
    with pytest.raises(ValueError, match="critic"):
        agent.AgentSpec(critic="lambda")
    with pytest.raises(ValueError, match="gamma"):
        agent.AgentSpec(gamma=1.5)

"""The actor-critic on the multi-room task (model.deep.agent)."""
from dataclasses import replace

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest

from rayint_lib.model.deep import agent, rooms
from rayint_lib.model.deep import measures as ms

ENV = rooms.RoomsParams(K=2, length=3)


def _one(tree, i):
    return jax.tree_util.tree_map(lambda x: jnp.asarray(x[i]), tree)


def test_policy_gradient_of_the_loss_against_finite_differences():
    jax.config.update("jax_enable_x64", True)
    try:
        spec = agent.AgentSpec(env=rooms.RoomsParams(K=2, length=2), depth=1, width=4,
                               episodes=64, output_scale=1.0)
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
    spec = agent.AgentSpec(env=rooms.RoomsParams(K=2, length=2), depth=1, width=4,
                           episodes=64, output_scale=1.0, critic="td", gamma=0.9)
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


def test_the_critic_and_step_size_are_traced_not_compiled_in():
    spec = agent.AgentSpec(env=ENV, depth=1, width=4)
    assert agent._structure(replace(spec, critic="td", lr=0.1)) == agent._structure(spec)


@pytest.mark.parametrize("critic", agent.CRITICS)
def test_vmapped_equals_looped_for_two_seeds(critic):
    spec = agent.AgentSpec(env=ENV, depth=1, width=4, episodes=2, n_updates=40,
                           n_checkpoints=5, critic=critic)
    params = agent.init_params(spec, 2, 0)
    keys = agent.run_keys(0, 2)
    tg = jnp.asarray(np.stack([rooms.optimal_actions(ENV)] * 2))
    both = agent._compiled(agent._structure(spec))(params, keys, tg, *agent._variant(spec))
    for i in range(2):
        one = agent.train_one(spec, _one(params, i), keys[i])
        for x, y in zip(both[:-1], one[:-1]):
            assert np.asarray(x[i]) == pytest.approx(np.asarray(y), abs=1e-5, nan_ok=True)


def test_a_trainer_compiled_ahead_gives_the_jitted_results_and_compiles_once():
    spec = agent.AgentSpec(env=ENV, depth=1, width=4, episodes=2, n_updates=40,
                           n_checkpoints=5, lr=0.02)
    agent.compile_ahead([(spec, 3), (replace(spec, critic="td"), 3)]).join()
    key = (agent._structure(spec), 3)
    ready = agent._TRAINERS[key].result()
    runs = agent.train(replace(spec, critic="td"), 3, 1)
    assert agent._trainer(spec, 3) is ready                     # one program for both critics
    params = agent.init_params(spec, 3, 1)
    tg = jnp.asarray(np.stack([rooms.optimal_actions(ENV)] * 3))
    jitted = agent._compiled(key[0])(params, agent.run_keys(1, 3), tg,
                                     *agent._variant(replace(spec, critic="td")))
    np.testing.assert_array_equal(runs.curves, np.asarray(jitted[0], np.float64))
    np.testing.assert_array_equal(runs.returns, np.asarray(jitted[3], np.float64))


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
    with pytest.raises(ValueError, match="clip"):
        agent.AgentSpec(clip=1.0)
    with pytest.raises(ValueError, match="grad_mode"):
        agent.AgentSpec(grad_mode="gradnorm")
    with pytest.raises(ValueError, match="heads"):
        agent.AgentSpec(separate=True, heads=True)


def _p0(spec, seed=0):
    return _one(agent.init_params(spec, 1, seed), 0)


def test_on_policy_room_gradient_is_the_gradient_of_exact_J_k_and_coupling_is_J_over_floor():
    spec = agent.AgentSpec(env=ENV, depth=1, width=8, output_scale=1.0)
    p = _p0(spec)
    fn = lambda q: agent.all_logits(spec, q)  # noqa: E731
    keys = jnp.asarray(rooms.optimal_actions(ENV))
    g = ms.room_gradients(fn, p, keys, 0.0, False)
    jac = jax.jacrev(lambda q: agent.exact_success(spec, q))(p)
    want = jnp.concatenate([x.reshape(2, -1) for x in jax.tree_util.tree_leaves(jac)], 1)
    assert np.asarray(g) == pytest.approx(np.asarray(want), rel=1e-4, abs=1e-9)
    cos, ratio = ms.measures(fn, p, keys, 0.0, False)
    J = np.asarray(agent.exact_success(spec, p))
    assert np.asarray(ratio) == pytest.approx(J * 4.0 ** ENV.length, rel=1e-4)
    assert -1 <= float(cos) <= 1


def test_separate_networks_have_zero_interference_and_supervised_keeps_its_ratio():
    spec = agent.AgentSpec(env=ENV, depth=1, width=8, output_scale=1.0, separate=True)
    fn = lambda q: agent.all_logits(spec, q)  # noqa: E731
    keys = jnp.asarray(rooms.optimal_actions(ENV))
    cos, _ = ms.measures(fn, _p0(spec), keys, 0.0, False)
    assert float(cos) == pytest.approx(0.0, abs=1e-7)
    # a policy far below random in room 0: on-policy ratio ~ 0, supervised stays >= ~1/2
    shared = agent.AgentSpec(env=ENV, depth=1, width=8)
    p = _p0(shared)
    W, b = p[-1]
    p[-1] = (W, b.at[:4].set(jnp.array([-8.0, 8.0, 8.0, 8.0])))   # action 0 (room 0's first key)
    fn = lambda q: agent.all_logits(shared, q)  # noqa: E731
    _, rl = ms.measures(fn, p, keys, 0.0, False)
    _, sup = ms.measures(fn, p, keys, 0.0, True)
    assert float(rl[0]) < 1e-3 and float(sup[0]) > 0.5


def test_pcgrad_by_hand():
    g = jnp.array([[1.0, 0.0], [-1.0, 1.0]])
    # row 0 conflicts with row 1: 1 - (-1)/2 (-1, 1) = (0.5, 0.5); row 1: (-1, 1) - (-1)(1, 0)
    assert np.asarray(agent.pcgrad(g)) == pytest.approx([0.5 + 0.0, 0.5 + 1.0])
    ok = jnp.array([[1.0, 0.0], [1.0, 1.0]])                     # no conflict: the plain sum
    assert np.asarray(agent.pcgrad(ok)) == pytest.approx([2.0, 1.0])


def test_ppo_first_epoch_equals_the_policy_gradient_and_pcgrad_sums_rooms():
    base = agent.AgentSpec(env=ENV, depth=1, width=4, episodes=32, output_scale=1.0)
    p = _p0(base)
    batch = agent.rollout(base, p, jax.random.PRNGKey(1))
    old = agent.action_logp(base, p, batch)
    flat = lambda t: np.asarray(jax.flatten_util.ravel_pytree(t)[0])  # noqa: E731
    pg = flat(agent.update_gradient(base, p, batch, False, False, None, old))
    ppo = flat(agent.update_gradient(replace(base, clip=0.2, epochs=4), p, batch, False,
                                     False, None, old))
    assert ppo == pytest.approx(pg, abs=1e-6)
    # per-room gradients add up to the pooled one (PCGrad without conflicts would return it)
    room = jnp.argmax(batch[0][0, :, :2], -1)
    per = [flat(jax.grad(lambda q: agent.loss(base, q, batch, weight=(room == k).astype(
        jnp.float32)))(p)) for k in range(2)]
    assert per[0] + per[1] == pytest.approx(pg, abs=1e-6)


def test_separate_heads_share_only_the_torso():
    spec = agent.AgentSpec(env=ENV, depth=1, width=8, heads=True, output_scale=1.0)
    params = agent.init_params(spec, 3, 0)
    assert params[-1][0].shape == (3, 2, 8, 5)
    p = _one(params, 0)
    fn = lambda q: agent.all_logits(spec, q)  # noqa: E731
    g = ms.room_gradients(fn, p, jnp.asarray(rooms.optimal_actions(ENV)), 0.0, False)
    n_torso = sum(x.size for x in jax.tree_util.tree_leaves(p[:-1]))
    head = np.asarray(g[:, n_torso:]).reshape(2, -1)
    assert (np.abs(head[0]) * np.abs(head[1])).max() == 0      # heads: disjoint parameters
    assert (np.linalg.norm(np.asarray(g[:, :n_torso]), axis=1) > 0).all()   # shared torso


def test_distillation_targets_are_the_teachers_greedy_actions():
    spec = agent.AgentSpec(env=ENV, depth=1, width=16, learner="supervised", lr=0.03,
                           n_updates=200)
    teacher = agent.AgentSpec(env=ENV, depth=1, width=16, separate=True)
    tg = agent.greedy_actions(teacher, agent.init_params(teacher, 3, 1))
    runs = agent.train(spec, 3, 0, targets=tg)
    learned = agent.greedy_actions(spec, runs.params)
    # the first cell is visited in every episode (later ones only while the student's
    # actions are the room's keys): there the student takes the teacher's action
    assert (learned[..., 0] == tg[..., 0]).all() and (tg[..., 0] != 0).any()

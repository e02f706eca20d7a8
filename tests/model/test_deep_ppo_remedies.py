"""The remedies of Sec. 4 on PPO (model.deep.ppo): separate output heads, the uniform-action
mixture, PCGrad on the tasks' parts of a minibatch's loss, and the distilled student."""
from dataclasses import replace

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest

from rayint_lib.model.deep import multitask as mt
from rayint_lib.model.deep import ppo
from rayint_lib.model.deep.agent import pcgrad
from rayint_lib.model.deep.policies import n_parameters

ENV = mt.MultiTaskParams(K=3, size=3)


def _one(tree, i=0):
    return jax.tree_util.tree_map(lambda x: jnp.asarray(x[i]), tree)


def _flat(tree):
    return np.asarray(jax.flatten_util.ravel_pytree(tree)[0])


def _batch(spec, params, tasks, adv, actions=None):
    """A minibatch at each task's start cell: ``actions`` (default 0), advantages ``adv``."""
    obs = jnp.asarray(mt.all_observations(spec.env)[np.asarray(tasks), 0, 0])
    a = jnp.asarray(np.zeros(len(tasks)) if actions is None else actions, jnp.int32)
    logits, v = ppo._heads(spec, params, obs)
    logp = jax.nn.log_softmax(logits)[:, 0]
    return obs, a, logp, v, jnp.asarray(adv, jnp.float32), v + 1.0


def test_heads_have_one_output_layer_per_task_and_only_its_task_moves_it():
    spec = ppo.PPOSpec(env=ENV, heads=True, width=8, vf_coef=0.5)
    actor, critic = ppo.init_params(spec, 2, 0)
    assert actor[-1][0].shape == (2, 3, 8, 2) and critic[-1][0].shape == (2, 3, 8, 1)
    assert sum(x[0].size for x in jax.tree_util.tree_leaves(actor)) == n_parameters(
        ENV.obs_dim, 2, spec.depth, 8, K=3, heads=True)
    p = _one((actor, critic))
    batch = _batch(spec, p, [1, 1, 1, 1], [1.0, -1.0, 2.0, 0.5])
    g = jax.grad(lambda q: ppo.loss(spec, q, batch))(p)
    for net in g:                                  # actor and critic: only head 1 moves
        W, b = (np.abs(np.asarray(x)).sum(axis=tuple(range(1, x.ndim))) for x in net[-1])
        assert W[1] > 0 and W[0] == W[2] == 0 and b[0] == b[2] == 0
    # the heads route: task k's logits come from head k only
    obs = jnp.asarray(mt.all_observations(ENV)[:, 0, 0])
    logits = ppo.network(spec, p[0], obs)
    h = jax.nn.relu(obs @ p[0][0][0] + p[0][0][1])
    for W, b in p[0][1:-1]:
        h = jax.nn.relu(h @ W + b)
    want = jnp.stack([h[k] @ p[0][-1][0][k] + p[0][-1][1][k] for k in range(3)])
    np.testing.assert_allclose(np.asarray(logits), np.asarray(want), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mix", [0.0, 0.5, 1.0])
def test_the_mixture_takes_uniform_actions_with_probability_mix(mix):
    logits = jnp.tile(jnp.array([[4.0, -4.0]]), (20_000, 1))
    a, logp = ppo.act(logits, jax.random.PRNGKey(0), jnp.float32(mix))
    p0 = float(jax.nn.softmax(logits[0])[0])
    assert float((a == 0).mean()) == pytest.approx((1 - mix) * p0 + mix / 2, abs=0.015)
    want = jax.nn.log_softmax(logits[0])[np.asarray(a)]
    np.testing.assert_allclose(np.asarray(logp), np.asarray(want), rtol=1e-6)  # policy's


def test_pcgrad_projects_conflicting_task_gradients_and_keeps_agreeing_ones():
    spec = ppo.PPOSpec(env=ENV, vf_coef=0.0, ent_coef=0.0, grad_mode="pcgrad")
    p = _one(ppo.init_params(spec, 1, 0))
    tasks = np.array([0, 0, 1, 1])

    def per_task(batch):
        return np.stack([_flat(jax.grad(lambda q: ppo.loss(spec, q, batch, jnp.asarray(
            (tasks == k).astype(np.float32))))(p)) for k in range(3)])

    adv = [1.0, 2.0, -1.5, -1.0]       # normalised over the minibatch: signs by task
    # task 1's worse action is 1 (agrees with task 0: action 0 up), or 0 (conflicts)
    for actions, conflict in (([0, 0, 1, 1], False), ([0, 0, 0, 0], True)):
        batch = _batch(spec, p, tasks, adv, actions)
        rows = per_task(batch)
        pooled = _flat(jax.grad(lambda q: ppo.loss(spec, q, batch))(p))
        np.testing.assert_allclose(rows.sum(0), pooled, atol=1e-6)   # the parts sum up
        got = _flat(ppo.update_gradient(spec, p, batch, None))
        g0, g1 = rows[0], rows[1]
        assert (g0 @ g1 < 0) == conflict
        if conflict:                               # each loses its component along the other
            want = (g0 - g0 @ g1 / (g1 @ g1) * g1) + (g1 - g1 @ g0 / (g0 @ g0) * g0)
            assert np.abs(got - pooled).max() > 1e-4
        else:
            want = pooled
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(got, np.asarray(pcgrad(jnp.asarray(rows))), atol=1e-6)


def _greedy_path(table, mapping, N):
    """Cells ``(r, c)`` a greedy policy ``table`` ``[N * N]`` visits in one task."""
    cells, c = [], 0
    for r in range(N):
        cells.append((r, c))
        right = table[r * N + c] == mapping[r, c]
        c = min(c + 1, N - 1) if right else max(c - 1, 0)
    return cells


def test_the_distilled_student_takes_its_teachers_greedy_actions():
    env = mt.MultiTaskParams(K=2, size=3)
    spec = ppo.PPOSpec(env=env, width=16, num_envs=8, num_steps=12, n_updates=40,
                       n_checkpoints=3, lr=1e-2, learner="distill")
    with pytest.raises(ValueError, match="teachers"):
        ppo.train(spec, 2, seed=0)
    teacher_spec = replace(spec, separate=True, learner="ppo")
    actor, _ = ppo.init_params(teacher_spec, 2, 5)
    actor[-1] = (actor[-1][0] * 300.0, actor[-1][1])     # decisive, arbitrary teachers
    teachers = ppo.PPORuns(teacher_spec, None, None, None, None, None, actor)
    tables = ppo.teacher_tables(teachers)
    student = ppo.train(spec, 2, seed=1, teachers=teachers)
    mine = ppo.teacher_tables(replace(teachers, spec=spec, actor=student.actor))
    maps = mt.action_mappings(env)
    for run in range(2):
        for k in range(2):
            for r, c in _greedy_path(tables[run, k], maps[k], 3):
                assert mine[run, k, r * 3 + c] == tables[run, k, r * 3 + c]

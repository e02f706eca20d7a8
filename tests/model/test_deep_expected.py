"""Exact expected-update learners (model.deep.expected): the update is the gradient of J
on-policy and the uniform-data REINFORCE update otherwise, and a short run follows it."""
import jax
import jax.numpy as jnp
import numpy as np

from rayint_lib.model.deep import expected, ppo
from rayint_lib.model.deep import measures as ms
from rayint_lib.model.deep import multitask as mt
from rayint_lib.model.deep.policies import apply

ENV = mt.MultiTaskParams(K=2, size=5)


def _leaves(g):
    return np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(g)])


def test_expected_updates_are_grad_J_on_policy_and_uniform_reinforce():
    spec = ppo.PPOSpec(env=ENV)
    actor = jax.tree_util.tree_map(lambda x: jnp.asarray(x[0]), ppo.init_params(spec, 1, 0)[0])
    Wo, bo = actor[-1]
    actor = actor[:-1] + [(Wo + jax.random.normal(jax.random.PRNGKey(1), Wo.shape), bo)]
    obs, target = (jnp.asarray(x) for x in mt.success_path(ENV))
    fn = lambda a: apply(a, obs, ENV.K)  # noqa: E731
    on = _leaves(ms.expected_update(fn, actor, target, 0.0))
    grad_J = _leaves(jax.grad(lambda a: ppo.exact(spec, a)[0].sum())(actor))
    np.testing.assert_allclose(on, grad_J, rtol=1e-4, atol=1e-6 * np.abs(grad_J).max())
    uni = _leaves(ms.expected_update(fn, actor, target, 1.0))
    log_path = _leaves(jax.grad(lambda a: ms.target_logp(fn(a), target).sum())(actor))
    np.testing.assert_allclose(uni, 2.0 ** -5 * log_path, rtol=1e-4,
                               atol=1e-6 * np.abs(uni).max())
    assert np.abs(on - uni).max() > 1e-3 * np.abs(uni).max()          # the weights differ


def test_learners_start_from_ppos_actors_and_learn():
    spec = ppo.PPOSpec(env=mt.MultiTaskParams(K=2, size=3), n_updates=30, n_checkpoints=5,
                       lr=1e-2)
    shared = ppo.train(spec, 2, seed=3)
    for uniform in (True, False):
        r = expected.train(spec, 2, seed=3, uniform=uniform)
        assert r.curves.shape == shared.curves.shape and list(r.steps) == list(shared.steps)
        np.testing.assert_allclose(r.curves[:, 0], shared.curves[:, 0], rtol=1e-6)
        assert (r.curves[:, -1] > 0.9).all() and r.spec.behaviour == (
            "uniform" if uniform else "on_policy")
        want = 1.0 if uniform else r.curves * 2 ** 3
        np.testing.assert_allclose(r.coupling, np.broadcast_to(want, r.coupling.shape),
                                   rtol=1e-3)

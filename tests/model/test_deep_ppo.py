"""PPO on the multi-task DeepSea (model.deep.ppo): GAE, the clipped loss, the gradient
cosine, and a short training run that must improve."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rayint_lib.model.deep import multitask as mt
from rayint_lib.model.deep import ppo

ENV = mt.MultiTaskParams(K=2, size=3)


def _one(tree, i=0):
    return jax.tree_util.tree_map(lambda x: jnp.asarray(x[i]), tree)


def test_gae_against_a_plain_loop():
    spec = ppo.PPOSpec(env=ENV)
    rng = np.random.default_rng(0)
    r, v = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    d = (rng.random((6, 3)) < 0.3).astype(float)
    last = rng.normal(size=3)
    adv, target = ppo.gae(spec, jnp.asarray(r), jnp.asarray(v), jnp.asarray(d),
                          jnp.asarray(last))
    want = np.zeros((6, 3))
    a, nv = np.zeros(3), last
    for t in range(5, -1, -1):
        delta = r[t] + spec.gamma * nv * (1 - d[t]) - v[t]
        a = delta + spec.gamma * spec.gae_lambda * (1 - d[t]) * a
        want[t], nv = a, v[t]
    np.testing.assert_allclose(np.asarray(adv), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(target), want + v, rtol=1e-5, atol=1e-6)


def test_clipping_stops_the_actor_gradient_beyond_the_trust_region():
    spec = ppo.PPOSpec(env=ENV, vf_coef=0.0, ent_coef=0.0)
    p = _one(ppo.init_params(spec, 1, 0))
    obs = jnp.asarray(mt.all_observations(ENV).reshape(-1, ENV.obs_dim))
    a = jnp.zeros(obs.shape[0], jnp.int32)
    logits, v = ppo._heads(spec, p, obs)
    logp = jax.nn.log_softmax(logits)[:, 0]
    adv = jnp.where(jnp.arange(obs.shape[0]) % 2 == 0, 1.0, -1.0)
    batch = (obs, a, logp, v, adv, v)
    g_in = jax.grad(lambda q: ppo.loss(spec, q, batch))(p)
    far = (obs, a, logp - jnp.where(adv > 0, 1.0, -1.0), v, adv, v)   # ratio e^{+-1}
    g_out = jax.grad(lambda q: ppo.loss(spec, q, far))(p)
    norm = lambda g: float(sum(jnp.abs(x).sum() for x in jax.tree_util.tree_leaves(g[0])))  # noqa: E731
    assert norm(g_in) > 1e-4 and norm(g_out) == 0.0


def test_gradient_cosine_is_zero_for_separate_networks_and_a_cosine_when_shared():
    for separate in (False, True):
        spec = ppo.PPOSpec(env=mt.MultiTaskParams(K=3, size=4), separate=separate)
        actor = _one(ppo.init_params(spec, 1, 0))[0]
        c = float(ppo.gradient_cosine(spec, actor))
        if separate:
            assert c == 0.0
        else:
            assert -1.0 <= c <= 1.0 and c != 0.0


def test_training_improves_every_task_and_records_its_curves():
    spec = ppo.PPOSpec(env=ENV, num_envs=8, num_steps=12, n_updates=30, n_checkpoints=5,
                       lr=1e-3)
    runs = ppo.train(spec, 4, seed=0)
    assert runs.curves.shape == (4, len(spec.steps), 2) == runs.returns.shape
    assert runs.cosine.shape == (4, len(spec.steps))
    np.testing.assert_allclose(runs.curves[:, 0], 2.0 ** -3, atol=0.05)
    assert runs.curves[:, -1].mean() > 0.6
    assert list(runs.env_steps) == list(spec.steps * 96)


@pytest.mark.parametrize("n_updates,n_checkpoints", [(40, 2), (40, 3), (100, 20), (7, 8)])
def test_checkpoints_start_at_0_and_end_at_the_budget(n_updates, n_checkpoints):
    steps = ppo.PPOSpec(env=ENV, n_updates=n_updates, n_checkpoints=n_checkpoints).steps
    assert steps[0] == 0 and steps[-1] == n_updates and (np.diff(steps) > 0).all()
    assert len(steps) <= n_checkpoints + 1


@pytest.mark.parametrize("name,value", [("lr", 0.0), ("num_envs", 0), ("num_minibatches", 7),
                                        ("clip_eps", 0.0), ("n_updates", 3), ("depth", 0)])
def test_bad_settings_are_named(name, value):
    with pytest.raises(ValueError, match=name):
        ppo.PPOSpec(env=ENV, **{name: value})

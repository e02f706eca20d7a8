"""PPO on the multi-task DeepSea (model.deep.ppo): GAE, the clipped loss, the gradient
cosine, the coupling ratio, the uniform-random behaviour, and a short training run that must
improve."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rayint_lib.model.deep import measures as ms
from rayint_lib.model.deep import multitask as mt
from rayint_lib.model.deep import ppo
from rayint_lib.model.deep.policies import apply

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
        spec = ppo.PPOSpec(env=mt.MultiTaskParams(K=3, size=4), separate=separate, num_envs=12)
        actor = _one(ppo.init_params(spec, 1, 0))[0]
        c = float(ppo.gradient_cosine(spec, actor))
        if separate:
            assert c == 0.0
        else:
            assert -1.0 <= c <= 1.0 and c != 0.0


def _skewed_actor(spec, seed=0):
    """One seed's actor with a larger random output layer, so that the tasks' ``J_k`` differ
    from ``2^-N`` and from each other."""
    actor = _one(ppo.init_params(spec, 1, seed))[0]
    rng = np.random.default_rng(seed)
    Wo, bo = actor[-1]
    return actor[:-1] + [(Wo + jnp.asarray(rng.normal(0, 0.3, Wo.shape), jnp.float32), bo)]


@pytest.mark.parametrize("separate", [False, True])
def test_coupling_ratio_is_the_exact_gradient_over_uniform_data(separate):
    env = mt.MultiTaskParams(K=2, size=5)
    spec = ppo.PPOSpec(env=env, separate=separate)
    actor = _skewed_actor(spec)
    J = np.asarray(ppo.exact(spec, actor)[0])
    assert abs(J[0] - J[1]) > 1e-3 and abs(J * 2 ** 5 - 1).max() > 0.2
    # the measure's on-policy update of each task is the autodiff gradient of its exact J_k
    obs, target = mt.success_path(env)
    fn = lambda a: apply(a, jnp.asarray(obs), env.K, separate)  # noqa: E731
    own = ms.room_gradients(fn, actor, jnp.asarray(target), 0.0, False)
    jac = jax.jacrev(lambda a: ppo.exact(spec, a)[0])(actor)
    G = jnp.concatenate([x.reshape(env.K, -1) for x in jax.tree_util.tree_leaves(jac)], 1)
    np.testing.assert_allclose(np.asarray(own), np.asarray(G), rtol=1e-4,
                               atol=1e-6 * float(jnp.abs(G).max()))
    # so that the ratio is J_k / 2^-N; with uniform data it is 1
    np.testing.assert_allclose(np.asarray(ppo.coupling_ratio(spec, actor)), J * 2 ** 5,
                               rtol=1e-4)
    uniform = ppo.PPOSpec(env=env, separate=separate, behaviour="uniform")
    np.testing.assert_allclose(np.asarray(ppo.coupling_ratio(uniform, actor)), 1.0, rtol=1e-5)


def test_success_path_is_the_diagonal_and_its_product_is_J():
    env = mt.MultiTaskParams(K=3, size=4)
    obs, target = mt.success_path(env)
    maps = mt.action_mappings(env)
    assert obs.shape == (3, 4, env.obs_dim) and target.shape == (3, 4)
    for k in range(3):
        for r in range(4):
            assert target[k, r] == maps[k, r, r] and obs[k, r, 3 + 4 * r + r] == 1.0
    probs = np.random.default_rng(1).dirichlet([1, 1], size=(3, 4, 4))
    q = np.take_along_axis(probs, maps[..., None], -1)[..., 0]
    want = np.prod([q[:, r, r] for r in range(4)], axis=0)
    np.testing.assert_allclose(np.asarray(mt.exact_returns(jnp.asarray(probs), env)[0]), want,
                               rtol=1e-5)


def test_uniform_behaviour_ignores_the_policy_and_keeps_its_log_probability():
    logits = jnp.tile(jnp.array([[6.0, -6.0]]), (4000, 1))     # the policy: action 0
    logp_pi = jax.nn.log_softmax(logits[0])
    for uniform, share in ((False, 0.0), (True, 0.5)):
        a, logp = ppo.act(logits, jax.random.PRNGKey(0), jnp.bool_(uniform))
        assert abs(float(a.mean()) - share) < 0.03
        np.testing.assert_allclose(np.asarray(logp), np.asarray(logp_pi)[np.asarray(a)],
                                   rtol=1e-6)


def test_training_improves_every_task_and_records_its_curves():
    spec = ppo.PPOSpec(env=ENV, num_envs=8, num_steps=12, n_updates=30, n_checkpoints=5,
                       lr=1e-3)
    runs = ppo.train(spec, 4, seed=0)
    assert runs.curves.shape == (4, len(spec.steps), 2) == runs.returns.shape
    assert runs.cosine.shape == (4, len(spec.steps))
    np.testing.assert_allclose(runs.coupling, runs.curves * 2 ** 3, rtol=1e-3)
    np.testing.assert_allclose(runs.curves[:, 0], 2.0 ** -3, atol=0.05)
    assert runs.curves[:, -1].mean() > 0.6
    assert list(runs.env_steps) == list(spec.steps * 96)


@pytest.mark.parametrize("n_updates,n_checkpoints", [(40, 2), (40, 3), (100, 20), (7, 8)])
def test_checkpoints_start_at_0_and_end_at_the_budget(n_updates, n_checkpoints):
    steps = ppo.PPOSpec(env=ENV, n_updates=n_updates, n_checkpoints=n_checkpoints).steps
    assert steps[0] == 0 and steps[-1] == n_updates and (np.diff(steps) > 0).all()
    assert len(steps) <= n_checkpoints + 1


@pytest.mark.parametrize("name,value", [("lr", 0.0), ("num_envs", 0), ("num_minibatches", 7),
                                        ("clip_eps", 0.0), ("n_updates", 3), ("depth", 0),
                                        ("behaviour", "off_policy")])
def test_bad_settings_are_named(name, value):
    with pytest.raises(ValueError, match=name):
        ppo.PPOSpec(env=ENV, **{name: value})


def _separate_run(actor_scale):
    """Separate networks, K = 2, 3 seeds: the curves and coupling of a short run whose second
    agent's initial actor output layer is scaled by ``actor_scale`` (and critic shifted)."""
    spec = ppo.PPOSpec(env=mt.MultiTaskParams(K=2, size=4), separate=True, num_envs=4,
                       num_steps=8, width=16, n_updates=6, n_checkpoints=4, lr=1e-2)
    actor, critic = ppo.init_params(spec, 3, 0)
    actor[-1][0][:, 1] *= actor_scale                  # [runs, K, in, out]: agent 2 only
    critic[-1][1][:, 1] += 10.0 * (actor_scale != 1)   # its values (advantages) too
    (J, _, _, coupling), _ = ppo.compiled(spec)((actor, critic), ppo.run_keys(0, 3),
                                                jnp.float32(0), np.zeros((3, 2, 16), np.int32))
    return np.asarray(J), np.asarray(coupling)


def test_separate_networks_are_independent_agents():
    # whatever the second agent is, the first learns exactly what it learns alone: its own
    # advantage normalisation, gradient clip and Adam state (a shared clip or normalisation
    # over both tasks' samples would let agent 2's returns scale agent 1's update)
    J, c = _separate_run(1.0)
    J2, c2 = _separate_run(300.0)
    assert np.abs(J2[:, :, 1] - J[:, :, 1]).max() > 0.1              # agent 2 changed
    np.testing.assert_allclose(J2[:, :, 0], J[:, :, 0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(c2[:, :, 0], c[:, :, 0], rtol=1e-5, atol=1e-7)
    assert np.abs(J[:, -1, 0] - J[:, 0, 0]).max() > 1e-3             # and agent 1 learned


def test_separate_agents_each_get_their_share_of_the_environments():
    spec = ppo.PPOSpec(env=mt.MultiTaskParams(K=4, size=4), separate=True, num_envs=8)
    assert ppo.agent_spec(spec).num_envs == 2 and not ppo.agent_spec(spec).separate
    with pytest.raises(ValueError, match="num_envs must be a multiple of K"):
        ppo.PPOSpec(env=mt.MultiTaskParams(K=3, size=4), separate=True, num_envs=8)


def test_benchmark_against_the_peer_finishes():
    """``benchmarks/deep_rl.py``'s PPO against the PureJaxRL-style peer, 8 timed rounds. With
    XLA's default scheduler the peer hung in nearly every try on 2 cores (jaxlib's batched QR,
    its orthogonal initialiser under vmap, waits inside the thread pool it blocks); the script
    sets the scheduler that does not run those calls together. A hang fails by the timeout."""
    import subprocess
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parents[2] / "benchmarks"
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import deep_rl; "
            "print(min(deep_rl.trainer_vs_peer(2, 2, 8)))")
    out = subprocess.run([sys.executable, "-c", code, str(bench)], capture_output=True,
                         text=True, timeout=300, check=True)
    assert float(out.stdout.split()[-1]) > 0

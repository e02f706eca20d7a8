"""The MLP bandit (model.deep.bandit): gradients, the depth-0 twin of the linear model,
theta0, vmapped vs looped seeds."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rayint_lib.model.bandit import initial_logits
from rayint_lib.model.deep import bandit as db
from rayint_lib.model.updates import (
    expected_progress_rate,
    logit_directions,
    parameter_gradients_from_logits,
)


def _one(tree, i):
    return jax.tree_util.tree_map(lambda x: jnp.asarray(x[i]), tree)


@pytest.mark.parametrize("depth,separate", [(0, False), (2, False), (1, True)])
def test_theta0_has_J0_exactly(depth, separate):
    spec = db.MLPBanditSpec(K=3, n=4, depth=depth, width=8, separate=separate)
    params, offset = db.initial_parameters(spec, 20, seed=1)
    for i in range(3):
        J = db.right_arm_probs(np.asarray(db.logits_of(spec, _one(params, i), offset[i]))[None])
        assert J.sum() == pytest.approx(0.3, abs=1e-5)


def test_depth0_theta0_is_the_linear_bandits():
    spec = db.MLPBanditSpec(depth=0)
    params, offset = db.initial_parameters(spec, 7, seed=5)
    ref = initial_logits(2, 2, 0.2, 7, np.random.default_rng(5), "angular", 1.0)
    got = np.stack([np.asarray(db.logits_of(spec, _one(params, i), offset[i])) for i in range(7)])
    assert got == pytest.approx(ref, abs=1e-5)


@pytest.mark.parametrize("learner,policy", [("on_policy", "shared_bias"),
                                            ("supervised", "shared_bias")])
def test_depth0_expected_update_equals_the_linear_models(learner, policy):
    spec = db.MLPBanditSpec(K=3, n=3, depth=0, learner=learner)
    params, offset = db.initial_parameters(spec, 4, seed=2)
    for i in range(4):
        p, o = _one(params, i), offset[i]
        logits = np.asarray(db.logits_of(spec, p, o), np.float64)[None]
        d = db.expected_direction(spec, p, o)
        g = logit_directions(logits, learner, "expected")
        want = parameter_gradients_from_logits(g, policy)
        assert np.asarray(d[0][0]) == pytest.approx(want["W"][0], abs=1e-5)   # W[k, a]
        assert np.asarray(d[0][1]) == pytest.approx(want["b"][0], abs=1e-5)
        rate = float(db.expected_rate(spec, p, o))
        assert rate == pytest.approx(expected_progress_rate(logits, learner, policy)[0],
                                     rel=1e-4)


def test_policy_gradient_against_finite_differences():
    jax.config.update("jax_enable_x64", True)
    try:
        spec = db.MLPBanditSpec(depth=2, width=5)
        params, offset = db.initial_parameters(spec, 1, seed=3)
        p = jax.tree_util.tree_map(lambda x: jnp.asarray(x[0], jnp.float64), params)
        o = jnp.asarray(offset[0], jnp.float64)
        J = lambda q: jax.nn.softmax(db.logits_of(spec, q, o))[jnp.arange(2), jnp.arange(2)].sum()  # noqa: E731
        g = db.expected_direction(spec, p, o)         # on-policy: grad J
        flat, unravel = jax.flatten_util.ravel_pytree(p)
        gf = jax.flatten_util.ravel_pytree(g)[0]
        h = 1e-6
        for j in range(0, flat.size, 7):
            e = jnp.zeros_like(flat).at[j].set(h)
            fd = (J(unravel(flat + e)) - J(unravel(flat - e))) / (2 * h)
            assert float(gf[j]) == pytest.approx(float(fd), abs=1e-7)
    finally:
        jax.config.update("jax_enable_x64", False)


def test_vmapped_equals_looped_for_two_seeds():
    spec = db.MLPBanditSpec(depth=1, width=4, max_samples=400, n_checkpoints=8)
    params, offset = db.initial_parameters(spec, 2, seed=0)
    keys = db.run_keys(0, 2)
    sup = jnp.bool_(False)
    both = db._compiled(spec)(params, offset, keys, sup)
    single = jax.jit(lambda p, o, k: db._run_one(p, o, k, sup, spec))
    for i in range(2):
        one = single(_one(params, i), offset[i], keys[i])
        for a, b in zip(both, one):
            assert np.asarray(a[i]) == pytest.approx(np.asarray(b), abs=1e-5, nan_ok=True)


def test_runs_solve_and_record():
    spec = db.MLPBanditSpec(depth=1, width=8, learner="supervised", max_samples=2000)
    runs = db.simulate_mlp(spec, 8, seed=0)
    assert runs.solved.all() and runs.curves.shape == (8, len(spec.steps), 2)
    assert runs.curves[:, 0].sum(1) == pytest.approx(0.2, abs=1e-5)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="depth"):
        db.MLPBanditSpec(depth=-1)
    with pytest.raises(ValueError, match="learner"):
        db.MLPBanditSpec(learner="off")
    with pytest.raises(ValueError, match="n_runs"):
        db.simulate_mlp(db.MLPBanditSpec(), 0)

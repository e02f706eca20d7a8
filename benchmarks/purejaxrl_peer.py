"""A single-file PPO written the way PureJaxRL writes it: the speed peer of the book's
trainer (issue 20 item 7).

Structure after PureJaxRL's ``purejaxrl/ppo.py`` (Lu et al., 2022, "Discovered Policy
Optimisation", github.com/luchris429/purejaxrl, commit 146b485): a ``flax.linen``
``ActorCritic`` with two 64-unit towers (``ACTIVATION = "relu"``), a ``make_train(config)``
that returns a pure ``train(rng)``, a ``flax`` ``TrainState`` with
``clip_by_global_norm`` + Adam(eps 1e-5), one ``lax.scan`` over updates, inside it a
``lax.scan`` over ``NUM_STEPS`` environment steps (``vmap`` over ``NUM_ENVS``), GAE by a
reverse ``lax.scan``, and ``lax.scan`` over ``UPDATE_EPOCHS`` x ``NUM_MINIBATCHES`` of the
clipped loss; seeds are a ``vmap`` axis of the jitted ``train``. Written here (PureJaxRL is
not on PyPI, and it uses ``distrax``, replaced by two lines of ``log_softmax``); nothing of
the book's trainer (:mod:`rayint_lib.model.deep.ppo`) is used, only the environment
(:mod:`rayint_lib.model.deep.multitask`, gymnax's DeepSea) so that both run the same task.

Usage: ``python benchmarks/purejaxrl_peer.py`` trains a few seeds and prints the final mean
reward per step.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax.linen.initializers import constant, orthogonal
from flax.training.train_state import TrainState

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rayint_lib.model.deep import multitask  # noqa: E402


class ActorCritic(nn.Module):
    action_dim: int
    activation: str = "relu"

    @nn.compact
    def __call__(self, x):
        act = nn.relu if self.activation == "relu" else nn.tanh
        a = act(nn.Dense(64, kernel_init=orthogonal(np.sqrt(2)), bias_init=constant(0.0))(x))
        a = act(nn.Dense(64, kernel_init=orthogonal(np.sqrt(2)), bias_init=constant(0.0))(a))
        logits = nn.Dense(self.action_dim, kernel_init=orthogonal(0.01),
                          bias_init=constant(0.0))(a)
        c = act(nn.Dense(64, kernel_init=orthogonal(np.sqrt(2)), bias_init=constant(0.0))(x))
        c = act(nn.Dense(64, kernel_init=orthogonal(np.sqrt(2)), bias_init=constant(0.0))(c))
        value = nn.Dense(1, kernel_init=orthogonal(1.0), bias_init=constant(0.0))(c)
        return logits, jnp.squeeze(value, axis=-1)


class Transition(NamedTuple):
    done: jnp.ndarray
    action: jnp.ndarray
    value: jnp.ndarray
    reward: jnp.ndarray
    log_prob: jnp.ndarray
    obs: jnp.ndarray


def make_train(config):
    config["NUM_UPDATES"] = config["TOTAL_TIMESTEPS"] // config["NUM_STEPS"] // config["NUM_ENVS"]
    config["MINIBATCH_SIZE"] = config["NUM_ENVS"] * config["NUM_STEPS"] // config["NUM_MINIBATCHES"]
    env_params = config["ENV_PARAMS"]

    def train(rng):
        network = ActorCritic(env_params.n_actions, activation=config["ACTIVATION"])
        rng, _rng = jax.random.split(rng)
        network_params = network.init(_rng, jnp.zeros(env_params.obs_dim))
        tx = optax.chain(optax.clip_by_global_norm(config["MAX_GRAD_NORM"]),
                         optax.adam(config["LR"], eps=1e-5))
        train_state = TrainState.create(apply_fn=network.apply, params=network_params, tx=tx)

        rng, _rng = jax.random.split(rng)
        reset_rng = jax.random.split(_rng, config["NUM_ENVS"])
        obsv, env_state = jax.vmap(multitask.reset, in_axes=(0, None))(reset_rng, env_params)

        def _update_step(runner_state, unused):
            def _env_step(runner_state, unused):
                train_state, env_state, last_obs, rng = runner_state
                rng, _rng = jax.random.split(rng)
                logits, value = network.apply(train_state.params, last_obs)
                action = jax.random.categorical(_rng, logits)
                log_prob = jnp.take_along_axis(jax.nn.log_softmax(logits),
                                               action[:, None], -1)[:, 0]
                rng, _rng = jax.random.split(rng)
                rng_step = jax.random.split(_rng, config["NUM_ENVS"])
                obsv, env_state, reward, done, info = jax.vmap(
                    multitask.step, in_axes=(0, 0, 0, None))(rng_step, env_state, action,
                                                             env_params)
                transition = Transition(done, action, value, reward, log_prob, last_obs)
                return (train_state, env_state, obsv, rng), transition

            runner_state, traj_batch = jax.lax.scan(_env_step, runner_state, None,
                                                    config["NUM_STEPS"])
            train_state, env_state, last_obs, rng = runner_state
            _, last_val = network.apply(train_state.params, last_obs)

            def _calculate_gae(traj_batch, last_val):
                def _get_advantages(gae_and_next_value, transition):
                    gae, next_value = gae_and_next_value
                    done, value, reward = transition.done, transition.value, transition.reward
                    delta = reward + config["GAMMA"] * next_value * (1 - done) - value
                    gae = delta + config["GAMMA"] * config["GAE_LAMBDA"] * (1 - done) * gae
                    return (gae, value), gae

                _, advantages = jax.lax.scan(_get_advantages,
                                             (jnp.zeros_like(last_val), last_val),
                                             traj_batch, reverse=True, unroll=16)
                return advantages, advantages + traj_batch.value

            advantages, targets = _calculate_gae(traj_batch, last_val)

            def _update_epoch(update_state, unused):
                def _update_minbatch(train_state, batch_info):
                    traj_batch, advantages, targets = batch_info

                    def _loss_fn(params, traj_batch, gae, targets):
                        logits, value = network.apply(params, traj_batch.obs)
                        logp_all = jax.nn.log_softmax(logits)
                        log_prob = jnp.take_along_axis(logp_all, traj_batch.action[:, None],
                                                       -1)[:, 0]
                        value_pred_clipped = traj_batch.value + (
                            value - traj_batch.value).clip(-config["CLIP_EPS"],
                                                           config["CLIP_EPS"])
                        value_loss = 0.5 * jnp.maximum(
                            jnp.square(value - targets),
                            jnp.square(value_pred_clipped - targets)).mean()
                        ratio = jnp.exp(log_prob - traj_batch.log_prob)
                        gae = (gae - gae.mean()) / (gae.std() + 1e-8)
                        loss_actor = -jnp.minimum(
                            ratio * gae,
                            jnp.clip(ratio, 1.0 - config["CLIP_EPS"],
                                     1.0 + config["CLIP_EPS"]) * gae).mean()
                        entropy = -(jnp.exp(logp_all) * logp_all).sum(-1).mean()
                        total_loss = (loss_actor + config["VF_COEF"] * value_loss
                                      - config["ENT_COEF"] * entropy)
                        return total_loss, (value_loss, loss_actor, entropy)

                    grad_fn = jax.value_and_grad(_loss_fn, has_aux=True)
                    total_loss, grads = grad_fn(train_state.params, traj_batch, advantages,
                                                targets)
                    return train_state.apply_gradients(grads=grads), total_loss

                train_state, traj_batch, advantages, targets, rng = update_state
                rng, _rng = jax.random.split(rng)
                batch_size = config["MINIBATCH_SIZE"] * config["NUM_MINIBATCHES"]
                permutation = jax.random.permutation(_rng, batch_size)
                batch = jax.tree_util.tree_map(
                    lambda x: x.reshape((batch_size,) + x.shape[2:]),
                    (traj_batch, advantages, targets))
                shuffled = jax.tree_util.tree_map(lambda x: jnp.take(x, permutation, axis=0),
                                                  batch)
                minibatches = jax.tree_util.tree_map(
                    lambda x: jnp.reshape(x, [config["NUM_MINIBATCHES"], -1]
                                          + list(x.shape[1:])), shuffled)
                train_state, total_loss = jax.lax.scan(_update_minbatch, train_state,
                                                       minibatches)
                return (train_state, traj_batch, advantages, targets, rng), total_loss

            update_state = (train_state, traj_batch, advantages, targets, rng)
            update_state, loss_info = jax.lax.scan(_update_epoch, update_state, None,
                                                   config["UPDATE_EPOCHS"])
            train_state, rng = update_state[0], update_state[-1]
            runner_state = (train_state, env_state, last_obs, rng)
            return runner_state, traj_batch.reward.mean()

        rng, _rng = jax.random.split(rng)
        runner_state = (train_state, env_state, obsv, _rng)
        runner_state, metric = jax.lax.scan(_update_step, runner_state, None,
                                            config["NUM_UPDATES"])
        return {"runner_state": runner_state, "metrics": metric}

    return train


def default_config(env_params, total_timesteps):
    """PureJaxRL's defaults except ``ACTIVATION`` (relu, as the book's trainer) and the
    environment; ``NUM_ENVS``/``NUM_STEPS`` those of the book's chapter."""
    return {"LR": 2.5e-4, "NUM_ENVS": 16, "NUM_STEPS": 32, "TOTAL_TIMESTEPS": total_timesteps,
            "UPDATE_EPOCHS": 4, "NUM_MINIBATCHES": 4, "GAMMA": 0.99, "GAE_LAMBDA": 0.95,
            "CLIP_EPS": 0.2, "ENT_COEF": 0.01, "VF_COEF": 0.5, "MAX_GRAD_NORM": 0.5,
            "ACTIVATION": "relu", "ENV_PARAMS": env_params}


if __name__ == "__main__":
    config = default_config(multitask.MultiTaskParams(K=2, size=6), 16 * 32 * 100)
    rngs = jax.random.split(jax.random.PRNGKey(30), 8)
    train_vjit = jax.jit(jax.vmap(make_train(config)))
    out = train_vjit(rngs)
    print("mean reward per step over the last 10 updates:",
          float(out["metrics"][:, -10:].mean()))

"""MLP policies as plain functions over a pytree of parameters (App. A, Sec. 3.3).

A network is a list of layers ``[(W, b), ...]`` with ``W`` of shape ``[in, out]``; ``depth``
counts the hidden ReLU layers. ``depth = 0`` is the linear policy of Sec. 2, ``l = W s + b``.
*Separate* networks (one per context or room, the control without interference) stack every
array along a leading axis of length K; each input row is sent through the network of its
context (read from the input's first K entries, a one-hot).

Initialisation is drawn with numpy from the ``seed`` (as the linear bandit does): hidden
layers He-normal (``N(0, 2 / fan_in)``), biases zero, the output layer ``N(0, s^2 / fan_in)``
with ``s = output_scale``, so that every logit has a spread of about ``s`` at any depth
(``depth = 0``: ``N(0, s^2)``, the linear bandit's ``logit_scale``).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def layer_sizes(n_in, n_out, depth, width):
    """``[n_in, width, ..., width, n_out]`` with ``depth`` hidden layers."""
    return [n_in] + [width] * depth + [n_out]


def init_mlp(rng, n_in, n_out, depth, width, output_scale=1.0, lead=()):
    """Parameters ``[(W, b), ...]`` drawn with ``rng``; ``lead``: leading axes (runs, K, ...)."""
    sizes = layer_sizes(n_in, n_out, depth, width)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        if last:
            std = output_scale if depth == 0 else output_scale / np.sqrt(a)
        else:
            std = np.sqrt(2.0 / a)
        W = std * rng.standard_normal(tuple(lead) + (a, b))
        layers.append((W.astype(np.float32), np.zeros(tuple(lead) + (b,), np.float32)))
    return layers


def dense(h, W):
    """``h @ W`` in full float32 precision (also on GPUs, where the default is TF32)."""
    return jnp.matmul(h, W, precision="highest")


def torso(hidden, x):
    """The ReLU hidden layers ``hidden`` applied to ``x``."""
    for W, b in hidden:
        x = jax.nn.relu(dense(x, W) + b)
    return x


def mlp(params, x):
    """Forward pass: ReLU hidden layers, linear output. ``x``: ``[..., n_in]``."""
    h = torso(params[:-1], x)
    W, b = params[-1]
    return dense(h, W) + b


def separate_mlp(params, x, K):
    """K networks stacked on a leading axis; row ``x`` goes through network ``argmax x[:K]``."""
    out = jax.vmap(lambda p: mlp(p, x))(params)                  # [K, ..., n_out]
    pick = x[..., :K]                                             # one-hot of the context
    return jnp.einsum("k...o,...k->...o", out, pick)


def init_heads(rng, n_in, n_out, depth, width, output_scale, K, lead=()):
    """A shared torso (:func:`init_mlp`) with ``K`` output layers, one per context (the
    remedy "separate heads", Sec. 4): the last layer's ``W`` ``[..., K, width, n_out]``."""
    layers = init_mlp(rng, n_in, n_out, depth, width, output_scale, lead=lead)
    W = output_scale / np.sqrt(width) * rng.standard_normal(tuple(lead) + (K, width, n_out))
    layers[-1] = (W.astype(np.float32), np.zeros(tuple(lead) + (K, n_out), np.float32))
    return layers


def heads_mlp(params, x, K):
    """Forward pass of :func:`init_heads`' network: row ``x`` leaves through the head of its
    context (``argmax x[:K]``)."""
    h = torso(params[:-1], x)
    W, b = params[-1]
    out = jnp.einsum("...i,kio->...ko", h, W, precision="highest") + b
    return jnp.einsum("...ko,...k->...o", out, x[..., :K])


def apply(params, x, K, separate=False):
    """Logits (or outputs) of a shared network, or of separate networks per context."""
    return separate_mlp(params, x, K) if separate else mlp(params, x)


def n_parameters(n_in, n_out, depth, width, separate=False, K=1, heads=False):
    """Number of scalars in one network (times K for separate networks; ``heads``: K output
    layers)."""
    sizes = layer_sizes(n_in, n_out, depth, width)
    one = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    return one * (K if separate else 1) + (K - 1) * (sizes[-2] + 1) * n_out * heads


def numpy_mlp(params, x):
    """numpy twin of :func:`mlp` (initial logits, offsets) for parameters with a runs axis."""
    h = np.asarray(x)
    for W, b in params[:-1]:
        h = np.maximum(h @ W + b[..., None, :], 0.0)
    W, b = params[-1]
    return h @ W + b[..., None, :]

"""Policy updates for the bandit (Sec. 2, 2.5, 2.6) and the optimizers of Fig. 9.

All updates are *ascent* directions on the performance. They are first computed in logit
space, one vector per context (``[runs, K, n]``), then mapped to the parameters of the
policy parameterisation.

Learners (per context k, right arm k, policy ``pi_k = softmax(l_k)``, ``e_k`` the one-hot):

* ``on_policy`` REINFORCE: ``a ~ pi_k``, ``r = 1[a = k]``, direction ``r (e_k - pi_k)``;
  expected direction ``pi_k(k) (e_k - pi_k) = dJ_k/dl_k`` (Sec. 2).
* ``off_policy`` with a uniform behaviour policy ``mu = 1/n``: ``a ~ mu``. Weighting
  ``none`` (the default) uses ``r (e_k - pi_k)``: its expectation ``(e_k - pi_k)/n`` is the
  supervised direction, so coupling is gone. Weighting ``importance`` multiplies by
  ``pi_k(a)/mu(a)``: unbiased for the on-policy gradient, so coupling (and ray interference)
  comes back, with more variance.
* ``mixture``: REINFORCE on actions from the behaviour ``mu_k = (1 - alpha) pi_k + alpha/n``
  (``alpha = mix_fraction``, e.g. 10% uniform exploration), without importance weights:
  ``a ~ mu_k``, direction ``1[a = k] (e_k - pi_k)``; expected direction
  ``((1 - alpha) pi_k(k) + alpha/n)(e_k - pi_k)``, the Figure 6 mixture with coupling
  ``f(u) = ((1 - alpha) u + alpha/n)(1 - u)`` (:func:`rayint_lib.model.factored.mixture_expr`
  family): coupling reduced, not removed, and the update is not supervised learning. Weighting
  ``importance`` multiplies by ``pi_k(k)/mu_k(k)``: unbiased for the on-policy gradient
  (``off_policy`` with importance weights is the case ``alpha = 1``).
* ``supervised`` cross-entropy toward the right arm: ``e_k - pi_k = d log pi_k(k) / dl_k``
  (Sec. 2.5); no sampling involved.
"""
from __future__ import annotations

import numpy as np

from .bandit import softmax


def logit_directions(logits, learner, batch, rng=None, weighting="none", mix_fraction=0.1):
    """Ascent direction in logit space for each context, ``[runs, K, n]``.

    ``batch="expected"`` gives the infinite-batch update; ``"sampled"`` draws exactly one
    action per context (App. A), using ``rng``. ``mix_fraction``: the uniform share
    ``alpha`` of the ``mixture`` learner's behaviour (ignored by the other learners).
    """
    pi = softmax(logits)
    runs, K, n = pi.shape
    idx = np.arange(K)
    p_right = pi[:, idx, idx]                              # [runs, K] = J_k
    residual = -pi
    residual[:, idx, idx] += 1.0                           # e_k - pi_k
    if learner == "supervised":
        scale = np.ones_like(p_right)
    elif learner == "mixture":
        hit = (1.0 - mix_fraction) * p_right + mix_fraction / n   # mu_k(k)
        weight = p_right / hit if weighting == "importance" else 1.0
        if batch == "expected":
            scale = hit * weight
        else:
            scale = (rng.random((runs, K)) < hit).astype(pi.dtype) * weight
    elif batch == "expected":
        if learner == "on_policy" or weighting == "importance":
            scale = p_right
        else:
            scale = np.full_like(p_right, 1.0 / n)
    else:
        u = rng.random((runs, K))
        if learner == "on_policy":
            scale = (u < p_right).astype(pi.dtype)          # r ~ Bernoulli(pi_k(k))
        else:
            hit = (u < 1.0 / n).astype(pi.dtype)            # uniform behaviour picks arm k
            scale = hit * (n * p_right if weighting == "importance" else 1.0)
    return scale[..., None] * residual


def parameter_gradients_from_logits(g, policy):
    """Map logit-space directions ``g`` to parameter gradients ``{name: array}``.

    ``l_k = W[:, k] + b``: ``dW[:, k] = g_k`` and ``db = sum_k g_k`` (shared bias);
    ``separate`` has its own ``b_k`` per context; ``tabular`` has no bias.
    """
    if policy == "shared_bias":
        return {"W": g, "b": g.sum(axis=1)}
    if policy == "separate":
        return {"W": g, "b": g}
    return {"W": g}


def logits_from_parameters(params, policy):
    """Logits ``[runs, K, n]`` from the parameters of ``policy``."""
    if policy == "shared_bias":
        return params["W"] + params["b"][:, None, :]
    if policy == "separate":
        return params["W"] + params["b"]
    return params["W"]


class Optimizer:
    """Gradient *ascent* with SGD, momentum, RMSProp or Adam (Fig. 9, right).

    Hyper-parameters are the common defaults: momentum 0.9; RMSProp decay 0.9;
    Adam (0.9, 0.999); epsilon 1e-8. State is kept per parameter array, per run.
    """

    def __init__(self, name, eta, momentum=0.9, decay=0.9, betas=(0.9, 0.999), eps=1e-8):
        self.name, self.eta = name, eta
        self.momentum, self.decay, self.betas, self.eps = momentum, decay, betas, eps
        self.state = {}
        self.t = 0

    def step(self, params, grads):
        """Update ``params`` in place with the ascent directions ``grads``."""
        for key, d in self.directions(grads).items():
            params[key] += self.eta * d

    def directions(self, grads):
        """The next step's directions per unit step size ``{name: array}``, state updated."""
        self.t += 1
        return {key: self._direction(key, g) for key, g in grads.items()}

    def _direction(self, key, g):
        if self.name == "sgd":
            return g
        if self.name == "momentum":
            v = self.state.get(key, np.zeros_like(g))
            v = self.momentum * v + g
            self.state[key] = v
            return v
        if self.name == "rmsprop":
            s = self.state.get(key, np.zeros_like(g))
            s = self.decay * s + (1 - self.decay) * g * g
            self.state[key] = s
            return g / (np.sqrt(s) + self.eps)
        b1, b2 = self.betas
        m, v = self.state.get(key, (np.zeros_like(g), np.zeros_like(g)))
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        self.state[key] = (m, v)
        m_hat = m / (1 - b1 ** self.t)
        v_hat = v / (1 - b2 ** self.t)
        return m_hat / (np.sqrt(v_hat) + self.eps)


def component_rates(logits, learner, policy, weighting="none", mix_fraction=0.1):
    """``J_k dot = <grad_theta J_k, E[delta theta] / eta>`` under expected SGD, ``[runs, K]``.

    For on-policy learning with a shared bias these are Eqs. (1)-(2) (in the full (W, b)
    parameters, i.e. twice the paper's reduced-parameter rates).
    """
    from .bandit import logit_gradients  # local: bandit imports nothing from here

    grad_J = logit_gradients(logits)                               # dJ_k / dl_k
    d = logit_directions(logits, learner, "expected", weighting=weighting,
                         mix_fraction=mix_fraction)
    own = np.einsum("rkn,rkn->rk", grad_J, d)                      # through W[:, k]
    if policy == "shared_bias":
        return own + np.einsum("rkn,rn->rk", grad_J, d.sum(axis=1))  # through b
    if policy == "separate":
        return 2.0 * own
    return own


def expected_progress_rate(logits, learner, policy, weighting="none", mix_fraction=0.1):
    """``dJ/dt`` under the expected SGD update at these logits, per run (Sec. 2.2).

    The sum of :func:`component_rates`; for on-policy learning with a shared bias it is
    ``||grad J||^2``.
    """
    return component_rates(logits, learner, policy, weighting, mix_fraction).sum(axis=1)

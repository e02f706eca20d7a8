"""The (2 x 2) flow in J-space from the expected updates (Secs. 2.2-2.5, App. B.5).

Independent of the typed Eqs. (1)-(4) of :mod:`rayint_lib.model.dynamics`: every rate here is
computed from the expected update of :mod:`rayint_lib.model.updates` at the logits of a point
of the J-square (:func:`rayint_lib.model.bandit.logits_2x2`), so the chapters can check the
typed equations against it. Rates are in the paper's reduced units (half the full (W, b)
rate; accelerations a quarter).
"""
from __future__ import annotations

import numpy as np

from . import bandit
from .updates import (
    component_rates,
    logit_directions,
    logits_from_parameters,
    parameter_gradients_from_logits,
)


def field_from_updates(learner, policy="shared_bias"):
    """The J-space field of the expected update of :mod:`rayint_lib.model.updates`, in the
    paper's reduced units (half the full (W, b) rate): independent of the typed Eqs.

    On the edges of the square (``J_k`` = 0 or 1, ``theta`` at infinity) the gradient of
    ``J_k`` vanishes, and so does its rate: the field is closed by continuity.
    """
    def field(J1, J2):
        J1, J2 = np.broadcast_arrays(np.asarray(J1, float), np.asarray(J2, float))
        inner = [np.clip(J, 1e-300, 1 - 1e-16).ravel() for J in (J1, J2)]
        rates = component_rates(bandit.logits_2x2(*inner), learner, policy) / 2
        edge = np.column_stack([(J <= 0) | (J >= 1) for J in (J1.ravel(), J2.ravel())])
        rates = np.where(edge | ~np.isfinite(rates), 0.0, rates)
        return rates[:, 0].reshape(J1.shape), rates[:, 1].reshape(J1.shape)
    return field


def supervised_acceleration(J1, J2, objective="log", h=1e-5):
    """``d^2/dt^2`` of ``J_sup = log J1 + log J2`` (``objective="log"``, Eq. 4) or of
    ``J = J1 + J2`` (``"performance"``) along the expected supervised update of
    :mod:`rayint_lib.model.updates`, by finite differences in the full parameters (W, b).

    ``Jdot`` is the exact inner product of the objective's gradient (``bandit``) with the
    update direction; its rate along the update is a central difference. Returned in the
    paper's reduced units (full-parameter rates are twice, accelerations four times larger).
    """
    J1, J2 = np.broadcast_arrays(np.asarray(J1, float), np.asarray(J2, float))
    W = bandit.logits_2x2(J1.ravel(), J2.ravel())
    params = {"W": W, "b": np.zeros((W.shape[0], 2))}

    def direction(p):
        d = logit_directions(logits_from_parameters(p, "shared_bias"), "supervised", "expected")
        return parameter_gradients_from_logits(d, "shared_bias")

    def jdot(p):
        logits = logits_from_parameters(p, "shared_bias")
        g = bandit.logit_gradients(logits)                       # dJ_k / dl_k
        if objective == "log":
            g = g / bandit.right_arm_probs(logits)[..., None]    # d log J_k / dl_k
        grads = parameter_gradients_from_logits(g, "shared_bias")
        v = direction(p)
        return sum((grads[k] * v[k]).reshape(len(v[k]), -1).sum(axis=1) for k in v)

    v = direction(params)
    up = jdot({k: params[k] + h * v[k] for k in params})
    down = jdot({k: params[k] - h * v[k] for k in params})
    return ((up - down) / (2 * h) / 4).reshape(J1.shape)


def update_norms(points, learner, delta=1e-6):
    """Norm of the expected update in the full parameters (W, b) next to each point of the
    closed J-square (coordinates clipped to ``[delta, 1 - delta]``): a fixed point of the
    J-flow is a stationary point of gradient learning (Sec. 2.2's saddles, where the
    on-policy update vanishes as J_k (1 - J_k)) only if this goes to 0 with ``delta``."""
    P = np.clip(np.asarray(points, dtype=float).reshape(-1, 2), delta, 1 - delta)
    W = bandit.logits_2x2(P[:, 0], P[:, 1])
    d = logit_directions(W, learner, "expected")
    g = parameter_gradients_from_logits(d, "shared_bias")
    return np.sqrt(sum((v.reshape(len(P), -1) ** 2).sum(axis=1) for v in g.values()))

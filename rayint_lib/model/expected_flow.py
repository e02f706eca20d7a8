"""The (2 x 2) flow in J-space from the expected updates (Secs. 2.2-2.5, App. B.5).

Independent of the typed Eqs. (1)-(4) of :mod:`rayint_lib.model.dynamics`: every rate here is
computed from the expected update of :mod:`rayint_lib.model.updates` at the logits of a point
of the J-square (:func:`rayint_lib.model.bandit.logits_2x2`), so the chapters can check the
typed equations against it: the field, Eq. (4)'s acceleration, update norms, the fixed points
of a field with their types (:func:`fixed_point_table`) and Sec. 2.5's supervised check. Rates
are in the paper's reduced units (half the full (W, b) rate; accelerations a quarter).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import bandit, dynamics
from .updates import (
    component_rates,
    logit_directions,
    logits_from_parameters,
    parameter_gradients_from_logits,
)

STATIONARY = 1e-3       # update norm at 1e-6 from a fixed point below which it is a stationary
#                         point of learning (the RL saddles: ~1e-6)


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


def fixed_point_table(field, closed_form):
    """Fixed points in the closed square with their types (Sec. 2.2, App. B.1), found and
    classified on ``field``, and the largest entry of the Jacobian of ``closed_form`` there
    (zero for Eqs. (1)-(2): linearisation cannot classify them)."""
    points, speed = dynamics.fixed_points_closed_square(field)
    rows = [{"fixed point": p, "type (flow around it)": kind,
             "max |Jacobian|": float(np.abs(dynamics.numerical_jacobian(closed_form,
                                                                        *p)).max())}
            for p, kind in points]
    return pd.DataFrame(rows), speed


def supervised_check(n_grid, n_orbits, stationary=STATIONARY):
    """Sec. 2.5: Eq. (4) typed (:func:`dynamics.supervised_jddot`) and computed
    (:func:`supervised_acceleration`), the performance J, plateaus along orbits, and the fixed
    points of the supervised flow with their update norms (``stationary``: the norm below
    which one is a stationary point of learning)."""
    g = np.linspace(0.0025, 0.9975, n_grid)
    G1, G2 = np.meshgrid(g, g)
    fd = supervised_acceleration(G1, G2)
    away = (G1 < 0.9) | (G2 < 0.9)
    sup = field_from_updates("supervised")
    table, speed = fixed_point_table(sup, dynamics.jdot_supervised)
    saddles = [p for p, kind in zip(table["fixed point"], table["type (flow around it)"])
               if kind == "saddle"]
    c = (np.arange(n_orbits) + 0.5) / n_orbits                  # orbit starts: whole square
    C1, C2 = (x.ravel() for x in np.meshgrid(c, c))
    plateaus = dynamics.plateaus_along_orbits(C1, C2, dynamics.jdot_supervised)
    found = plateaus[np.isfinite(plateaus)]
    return {"sup_jddot_max": float(dynamics.supervised_jddot(G1, G2).max()),
            "sup_plateau_orbits": int(found.size), "sup_n_orbits": int(C1.size),
            "sup_plateau_min_eps": float(found.min()) if found.size else float("nan"),
            "sup_jddot_fd_max": float(fd.max()),
            "sup_jddot_fd_error": float(np.abs(fd - dynamics.supervised_jddot(G1, G2)).max()),
            "sup_J_jddot_max": float(supervised_acceleration(G1, G2, "performance").max()),
            "sup_min_rate": float(np.min(np.hypot(*dynamics.jdot_supervised(G1, G2))[away])),
            "sup_n_fixed_points": len(table), "sup_saddles": saddles,
            "sup_stationary": [p for p, g in zip(table["fixed point"], update_norms(
                list(table["fixed point"]), "supervised")) if g < stationary],
            "sup_saddle_update_norm": float(update_norms(saddles, "supervised").min())
            if saddles else float("nan"),
            "rl_saddle_update_norm": float(update_norms([(0, 1), (1, 0)], "on_policy").max()),
            "sup_interior_min_speed": speed, "fixed_points": table}

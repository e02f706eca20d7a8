"""A learner's coupling function ``f(u)`` read off its expected update in the bandit itself
(Sec. 3.1, Fig. 6), independently of the derived expressions of :mod:`.factored`."""
from __future__ import annotations

import numpy as np

from .bandit import softmax
from .factored import bandit_logits
from .updates import logit_directions


def coupling_from_updates(learner, u, n_actions=2, mix_fraction=0.1, other=0.5):
    """The factor ``f(u)`` of ``learner``'s expected update in the (2 x ``n_actions``) bandit.

    Builds the bandit's logits with ``pi(1|s1) = u`` (wrong arms sharing ``1 - u`` equally,
    ``pi(2|s2) = other``), takes the expected logit update of ``learner`` from
    :func:`rayint_lib.model.updates.logit_directions` (``mix_fraction``: uniform actions of the
    mixture) and projects it on ``v_1 = (e_1 - pi_1) / (1 - u)``:
    ``f = <d_1, v_1> / ||v_1||^2``. Independent of
    :func:`rayint_lib.model.factored.mixture_expr`.
    """
    u = np.atleast_1d(np.asarray(u, float))
    logits = bandit_logits(u, np.full_like(u, other), n_actions)
    d = logit_directions(logits, learner, "expected", mix_fraction=mix_fraction)
    pi = softmax(logits)
    v = -pi[:, 0, :]
    v[:, 0] += 1
    v /= (1 - u)[:, None]
    return (d[:, 0, :] * v).sum(-1) / (v * v).sum(-1)

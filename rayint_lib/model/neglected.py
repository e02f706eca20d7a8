"""The ``grad v_k`` terms that App. C.2 neglects, measured in (2 x n) shared-bias bandits near
the saddle (Sec. 3.1, App. C.1): exact ``Jddot`` against the C.2 form along the segment
(0, 1 - xi) -> (xi, 1), :func:`rayint_lib.model.factored.bandit_segment`."""
from __future__ import annotations

import numpy as np

from .factored import bandit_segment, first_zero


def segment_rows(bandit_actions, skews, xi) -> list[dict]:
    """One row per bandit (``n`` in ``bandit_actions``, each skew): the neglected part
    relative to the C.2 form at the two test points (0, 1 - xi) and (xi, 1), whether the
    signs of C.1 hold there (``Jddot < 0`` below, ``> 0`` to the right), and the inflection
    point on the segment, exact and in the C.2 form (fraction of the segment; NaN if none)."""
    rows = []
    for n in bandit_actions:
        for s in skews:
            ss, ex, ap = bandit_segment(xi, n, s)
            rel = np.abs(ex - ap)[[0, -1]] / np.abs(ap)[[0, -1]]
            rows.append({"n": n, "skew": s, "rel. neglected at (0,1-xi)": rel[0],
                         "rel. neglected at (xi,1)": rel[1],
                         "signs as C.1": bool(ex[0] < 0 < ex[-1]),
                         "inflection, exact": first_zero(ss, ex),
                         "inflection, C.2 form": first_zero(ss, ap)})
    return rows


def largest_on_segment(xi, n, skew=0.0) -> float:
    """Largest ``|exact - C.2 form|`` on the segment relative to the largest ``|C.2 form|``
    (zero up to rounding for ``n = 2``, where the ``v_k`` are constant)."""
    ex, ap = bandit_segment(xi, n, skew)[1:]
    return float(np.abs(ex - ap).max() / np.abs(ap).max())

"""The grad v_k terms App. C.2 neglects: none for n = 2, small near the saddle for n > 2."""
import numpy as np

from rayint_lib.model import factored as F
from rayint_lib.model.neglected import largest_on_segment, segment_rows


def test_two_actions_neglect_nothing_more_actions_a_little():
    assert largest_on_segment(0.01, 2) < 1e-10          # v_k constant: nothing neglected
    assert largest_on_segment(0.01, 5, 1.0) > 1e-6
    rows = segment_rows([2, 5], [0.0, 1.0], 0.01)
    assert [(r["n"], r["skew"]) for r in rows] == [(2, 0.0), (2, 1.0), (5, 0.0), (5, 1.0)]
    assert all(r["signs as C.1"] for r in rows)
    assert all(r["rel. neglected at (0,1-xi)"] < 1e-10 for r in rows[:2])
    assert 0 < rows[3]["rel. neglected at (xi,1)"] < 0.1


def test_rows_read_the_segment():
    """The row's numbers are those of the segment itself (independent recomputation)."""
    s, ex, ap = F.bandit_segment(0.05, 4, 2.0)
    (row,) = segment_rows([4], [2.0], 0.05)
    assert row["rel. neglected at (xi,1)"] == abs(ex[-1] - ap[-1]) / abs(ap[-1])
    zero = np.flatnonzero(np.diff(np.sign(ex)))[0]
    assert s[zero] <= row["inflection, exact"] <= s[zero + 1]

"""model.ranking: the fair-ranking statistics of Sec. 4's remedies benchmark."""
import numpy as np
import pytest
from scipy.stats import binomtest

from rayint_lib.model import ranking
from rayint_lib.model.stats import Estimate


def test_holm_steps_down_and_stops_at_the_first_kept_hypothesis():
    assert ranking.holm({"a": 0.001, "b": 0.02, "c": 0.06}) == {"a": True, "b": True, "c": False}
    assert ranking.holm({"a": 0.03, "b": 0.04}) == {"a": False, "b": False}
    # 0.01 <= 0.05/3 is rejected; 0.03 > 0.05/2 stops, so 0.04 <= 0.05 is kept as well
    assert ranking.holm({"a": 0.01, "b": 0.03, "c": 0.04}) == {"a": True, "b": False, "c": False}
    assert ranking.holm({}) == {}


def test_mcnemar_is_the_binomial_tail_of_the_discordant_pairs():
    base = np.array([True] * 10 + [False] * 10)
    assert ranking.fewer_p_value(base, np.zeros(20, bool)) < 0.01     # 10 discordant, all fewer
    assert ranking.fewer_p_value(base, base) == 1.0                   # no discordant pair
    method = base.copy()
    method[:7] = False                                                # 7 fewer ...
    method[12:14] = True                                              # ... and 2 more
    expected = binomtest(7, 9, 0.5, alternative="greater").pvalue
    assert ranking.fewer_p_value(base, method) == pytest.approx(expected, rel=1e-12)


def test_paired_difference_resamples_pairs():
    a = np.array([1.0, 1.0, 0.0, 1.0])
    d = ranking.paired_difference(a, a)
    assert d.value == 0 and d.low == 0 and d.high == 0                # pairs move together
    d = ranking.paired_difference(a, np.zeros(4))
    assert d.value == 0.75 and 0 <= d.low <= 0.75 <= d.high <= 1


def test_intervals_decide_below_shrink_and_shared_ranks():
    lo, mid, hi = Estimate(0.1, 0.05, 0.15), Estimate(0.2, 0.12, 0.3), Estimate(0.5, 0.4, 0.6)
    assert ranking.disjoint_below(lo, hi) and not ranking.disjoint_below(lo, mid)
    assert ranking.shrinks(lo, hi, 0.5) and not ranking.shrinks(mid, hi, 0.5)
    assert ranking.shared_ranks({"a": lo, "b": mid, "c": hi}) == {"a": 1, "b": 1, "c": 3}


def test_two_proportion_z():
    a, b = np.array([True] * 30 + [False] * 70), np.array([True] * 50 + [False] * 50)
    p = 0.4
    expected = (0.3 - 0.5) / np.sqrt(p * (1 - p) * (2 / 100))
    assert ranking.two_proportion_z(a, b) == pytest.approx(expected)
    assert ranking.two_proportion_z(np.ones(5, bool), np.ones(5, bool)) == 0.0


def test_widened_search_moves_past_an_edge_at_most_max_widen_points():
    seen = []

    def score(x):
        seen.append(x)
        return abs(np.log(x / 0.01))                 # best at 0.01, below the grid [0.1, 1]

    best, scores = ranking.widened_search(score, [1.0, 0.1, 0.3], 3)
    assert seen[:3] == [0.1, 0.3, 1.0] and best == pytest.approx(0.1 / 9)
    assert len(scores) == 6                          # 0.1/3, 0.1/9, then 0.1/27 is worse
    best, scores = ranking.widened_search(score, [1.0, 3.0], 2)
    assert best == pytest.approx(1 / 9) and len(scores) == 4     # stopped by max_widen
    best, scores = ranking.widened_search(lambda x: abs(x - 2), [1.0, 2.0, 3.0], 3)
    assert best == 2.0 and len(scores) == 3          # interior: no widening

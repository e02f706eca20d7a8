"""Step sizes chosen on tuning runs (model.tuning): the seed and the selection rule."""
from __future__ import annotations

import pytest

from rayint_lib.model.stats import Estimate, wilson
from rayint_lib.model.tuning import best_step_size, tuning_seed


def _pick(rows):
    """``best_step_size`` of ``{eta: (runs solved of 200, median samples)}``."""
    return best_step_size({e: wilson(s, 200) for e, (s, _) in rows.items()},
                          {e: Estimate(m, m, m) for e, (_, m) in rows.items()})


def test_tuning_seed_is_never_the_reported_one():
    assert all(tuning_seed(s) != s for s in range(100))
    assert len({tuning_seed(s) for s in range(100)}) == 100


def test_best_step_size_rule():
    # 0.3 solves most but 0.1 lies inside its interval and is faster: 0.1 wins
    assert _pick({0.03: (150, 900), 0.1: (190, 600), 0.3: (193, 700)}) == 0.1
    # a clearly worse fraction solved loses even with a faster median
    assert _pick({0.03: (193, 900), 0.1: (150, 300)}) == 0.03
    # every median infinite (most runs unsolved): the highest fraction solved
    inf = float("inf")
    assert _pick({0.01: (70, inf), 0.03: (73, inf)}) == 0.03
    # a full tie: the smaller step size
    assert _pick({0.01: (100, 500), 0.03: (100, 500)}) == 0.01


def test_best_step_size_needs_matching_keys():
    with pytest.raises(ValueError, match="same non-empty keys"):
        _pick({})
    with pytest.raises(ValueError, match="same non-empty keys"):
        best_step_size({0.1: wilson(1, 2)}, {0.3: Estimate(1, 1, 1)})

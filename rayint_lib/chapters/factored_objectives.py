"""Chapter 02_factored_objectives: factored objectives (Sec. 3.1, Fig. 6)."""
from __future__ import annotations

from ..model.config import check_float, check_int, check_list

NOTEBOOK = "02_factored_objectives"


def validate(mix_fraction=0.1, n_actions=2, powers=(1.0, 2.0, 3.0), rho=-0.5,
                                 xi=0.01, bandit_actions=(3, 5, 10), skews=(0.0, 1.0, 3.0),
                                 t_max=1e4, seed=0):
    """Parameters of ``02_factored_objectives`` (Sec. 3.1, Fig. 6); returns them as a dict."""
    return {
        "mix_fraction": check_float("mix_fraction", mix_fraction, 0, 1, low_open=True),
        "n_actions": check_int("n_actions", n_actions, 2, 1000),
        "powers": check_list("powers", powers, check_float, low=1, high=10),
        "rho": check_float("rho", rho, -1, 1, low_open=True, high_open=True),
        "xi": check_float("xi", xi, 0, 0.25, low_open=True),
        "bandit_actions": check_list("bandit_actions", bandit_actions, check_int, low=2, high=100),
        "skews": check_list("skews", skews, check_float, low=0, high=10),
        "t_max": check_float("t_max", t_max, 10, 1e7),
        "seed": check_int("seed", seed, 0),
    }

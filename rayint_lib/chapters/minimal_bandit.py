"""Chapter 01_minimal_bandit: the minimal bandit of Sec. 2 (Figs. 1-3)."""
from __future__ import annotations

from ..model.config import BanditConfig, check_int

NOTEBOOK = "01_minimal_bandit"


def validate(K, n, eta, J0, n_runs, max_samples, seed, init="angular",
             flatness_measure="expected", n_trajectories=30):
    """Parameters of ``01_minimal_bandit`` (Sec. 2) -> the base :class:`BanditConfig`."""
    check_int("n_trajectories", n_trajectories, 1, 10_000)
    return BanditConfig(K=K, n=n, eta=eta, J0=J0, n_runs=n_runs, max_samples=max_samples,
                        seed=seed, init=init, flatness_measure=flatness_measure)

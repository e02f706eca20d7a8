"""Chapter 04_deep_linear: deep linear networks (Sec. 3.4, Saxe et al. 2014)."""
from __future__ import annotations

from ..model.deep_linear import DeepLinearConfig

NOTEBOOK = "04_deep_linear"


def validate(singular_values, hidden, eta, init_scale, n_steps, n_runs, seed,
                      eta_closed_form, aligned_strength, tolerance=0.02, min_ratio=2.0):
    """Parameters of ``04_deep_linear`` -> :class:`DeepLinearConfig` (raises ValueError)."""
    return DeepLinearConfig(singular_values=singular_values, hidden=hidden, eta=eta,
                            init_scale=init_scale, n_steps=n_steps, n_runs=n_runs, seed=seed,
                            eta_closed_form=eta_closed_form, aligned_strength=aligned_strength,
                            tolerance=tolerance, min_ratio=min_ratio)

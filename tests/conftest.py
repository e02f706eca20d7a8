"""Shared fixtures: run a book notebook under Papermill with small parameters; staircase
curves of many components."""
from __future__ import annotations

import os

import numpy as np
import papermill as pm
import pytest

from rayint_lib.book.notebooks import glued_values, notebook_path


@pytest.fixture
def run_notebook(tmp_path):
    """``run_notebook("01_minimal_bandit", K=2, ...)`` -> dict of glued values."""

    def run(name, **parameters):
        src = notebook_path(name)
        out = tmp_path / f"{src.stem}.out.ipynb"
        env_claims = os.environ.pop("RAYINT_CLAIMS_DIR", None)  # never touch the scorecard
        try:
            nb = pm.execute_notebook(str(src), str(out), parameters=parameters, cwd=str(src.parent),
                                     kernel_name="python3", progress_bar=False)
        finally:
            if env_claims is not None:
                os.environ["RAYINT_CLAIMS_DIR"] = env_claims
        return glued_values(nb)

    return run


@pytest.fixture
def staircase_curves():
    """``staircase_curves(times)`` -> ``(steps, curves [runs, T, K])``: components rising
    (logistic in time) at ``times[r, k]`` on a linear step grid."""

    def curves(times, n_steps=4000, width=0.02):
        t = np.arange(n_steps)[None, :, None]
        rise = 1 / (1 + np.exp(-(t - times[:, None, :]) / (width * n_steps / 10)))
        return np.arange(n_steps), 0.05 + 0.9 * rise

    return curves

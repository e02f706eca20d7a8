"""Shared fixtures: run a book notebook under Papermill with small parameters."""
from __future__ import annotations

import os

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

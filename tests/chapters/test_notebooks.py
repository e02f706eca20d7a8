"""Committed notebooks: no outputs, a tagged parameters cell, and they run under Papermill."""

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def committed_notebooks():
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "book/*.ipynb"], capture_output=True, text=True
    )
    return [ROOT / p for p in out.stdout.split()] or NOTEBOOKS


@pytest.mark.parametrize("path", committed_notebooks(), ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; strip them before committing"


@pytest.mark.parametrize(
    "path", [p for p in NOTEBOOKS if p.stem[:2].isdigit()], ids=lambda p: p.stem
)
def test_chapter_has_one_parameters_cell(path):
    nb = json.loads(path.read_text())
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1


@pytest.mark.slow
def test_minimal_bandit_notebook_runs_with_small_parameters(run_notebook):
    g = run_notebook("01_minimal_bandit", n_runs=60, max_samples=4000, n_trajectories=4, seed=1,
                     n_runs_onpolicy=200, n_runs_alt=60, n_grid=60, n_orbits=10)
    for name in (
        "rho_2x2",
        "p_wta_closed_form",
        "p_wta_monte_carlo",
        "frac_onpolicy_eps_le_1e-5",
        "frac_offpolicy_eps_le_1e-5",
        "frac_supervised_eps_le_1e-5",
        "frac_tabular_eps_le_1e-5",
    ):
        assert name in g, name
    assert g["rho_2x2"] == pytest.approx(-0.5, abs=1e-9)
    assert g["p_wta_closed_form"] == pytest.approx(0.5903, abs=1e-4)
    assert g["p_wta_monte_carlo"] == pytest.approx(
        g["p_wta_closed_form"], abs=0.01
    )  # 200k draws: SE ~0.0011
    for name in ("frac_onpolicy_eps_le_1e-5", "frac_supervised_eps_le_1e-5"):
        assert g[f"{name}_ci_low"] <= g[name] <= g[f"{name}_ci_high"]
        assert g[f"{name}_ci_high"] - g[f"{name}_ci_low"] < 0.2  # 200 or 60 runs, not 0 or 1
    assert g["frac_supervised_eps_le_1e-5"] == 0.0


@pytest.mark.slow
def test_minimal_bandit_notebook_rejects_bad_parameters(run_notebook):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError, match="eta must be in"):
        run_notebook("01_minimal_bandit", eta=-0.1, n_runs=5, max_samples=100)

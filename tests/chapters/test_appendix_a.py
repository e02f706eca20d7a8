"""Chapter 05 (App. A, Figs. 5, 8, 9): Fig. 5 in one batch, the claims' rules can fail, the
step sizes chosen on tuning runs only, the validator builds the configs (the numerics:
tests/model/test_slowdown.py, the selection rule: tests/model/test_tuning.py)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from rayint_lib import chapters
from rayint_lib.chapters import appendix_a as ch
from rayint_lib.model.slowdown import start_flatness
from rayint_lib.model.tuning import tuning_seed


def test_batched_fig5_equals_one_call_per_start_rule():
    """Fig. 5 draws every start rule from one Generator and integrates them in one call."""
    setup = chapters.validate("05_appendix_a", J0_list=[0.1, 0.2], n_starts=50)
    runs = type("R", (), {"flatness": np.full(3, np.nan)})()
    f5 = ch.figure5(setup, 3e-5, runs)
    rng = np.random.default_rng(setup.seed)
    for init in ch.INITS:
        for j0 in (0.1, 0.2):
            eps, _ = start_flatness(j0, init, 50, rng)
            np.testing.assert_array_equal(f5["eps"][(init, j0)], eps)
            assert f5["frac"][(init, j0)].value == pytest.approx(np.mean(eps <= 3e-5))
    assert f5["readings"]["simulator, expected updates"].value == 0.0   # NaN = no plateau


def test_lower_J0_worse_can_fail():
    setup = chapters.validate("05_appendix_a", J0_list=[0.1, 0.4], n_starts=10)
    est = ch.fraction
    decreasing = {"frac": {(i, j): est(np.arange(100) < (80 if j == 0.1 else 10))
                           for i in ch.INITS for j in (0.1, 0.4)}}
    assert ch.lower_J0_worse(setup, decreasing)
    increasing = {"frac": {(i, j): est(np.arange(100) < (10 if j == 0.1 else 80))
                           for i in ch.INITS for j in (0.1, 0.4)}}
    assert not ch.lower_J0_worse(setup, increasing)
    flat = {"frac": {(i, j): est(np.arange(100) < 50) for i in ch.INITS
                     for j in (0.1, 0.4)}}
    assert not ch.lower_J0_worse(setup, flat)      # overlapping intervals


def test_step_sizes_are_chosen_on_the_tuning_runs_only(monkeypatch):
    """A planted simulator where the tuning seed favours eta = 0.01 and the reported seed
    eta = 0.03: Fig. 9 must pick 0.01 (from the tuning runs) and report the reported seed's
    runs at 0.01; the grid is never simulated on the reported seed beyond what is shown."""
    setup = chapters.validate("05_appendix_a", etas=[0.1], optimizers=["sgd", "adam"],
                              optimizer_etas=[0.01, 0.03], n_runs=40, tune_runs=20)
    simulated = []

    def planted(cfg):
        simulated.append(cfg)
        good = 0.01 if cfg.seed == tuning_seed(setup.seed) else 0.03
        solved = np.ones(cfg.n_runs, bool) if cfg.eta == good else np.arange(cfg.n_runs) % 2 == 0
        return SimpleNamespace(config=cfg, flatness=np.full(cfg.n_runs, np.nan), solved=solved,
                               samples_to_solve=np.where(solved, 100.0, np.nan))

    monkeypatch.setattr(ch, "simulate", planted)
    f9 = ch.figure9(setup)
    assert f9["best_eta"] == {"sgd": 0.01, "adam": 0.01}
    for o in ("sgd", "adam"):
        shown = f9["best"][o].runs.config
        assert (shown.eta, shown.seed, shown.n_runs) == (0.01, setup.seed, 40)
        assert f9["best"][o].solved.value == 0.5       # the reported seed's runs at 0.01
    assert all(r.runs.config.seed == tuning_seed(setup.seed) and r.runs.config.n_runs == 20
               for r in f9["tuning"].values())
    assert sorted(f9["tuning"]) == sorted(setup.grid)
    reported = {(c.optimizer, c.eta) for c in simulated
                if c.seed == setup.seed and c.flatness_measure == "curve"}
    assert reported == {("sgd", 0.01), ("sgd", 0.1), ("adam", 0.01), ("adam", 0.1)}
    g = ch.figure9_glue(setup, f9)
    assert (g["a_seed"], g["a_tune_seed"], g["a_tune_runs"], g["a_n_runs"]) == (0, 1, 20, 40)
    assert g["a_eta_best_sgd"] == 0.01


def test_figure9_phrases_follow_the_rows():
    """The prose's readings of Fig. 9 are computed and can turn either way."""
    setup = chapters.validate("05_appendix_a", optimizers=["sgd", "adam"],
                              optimizer_etas=[0.01], etas=[0.1])

    def row(bad, solved=150):
        return ch.Row(None, ch.fraction(np.arange(200) < bad), ch.fraction(
            np.arange(200) < solved), ch.median(np.full(200, 100.0)))

    f9 = {"best": {"sgd": row(60), "adam": row(20)}, "shared": {"sgd": row(65), "adam": row(90)},
          "tuning": {("sgd", 0.01): row(0, 190), ("sgd", 0.1): row(0, 190),
                     ("adam", 0.01): row(0, 100), ("adam", 0.1): row(0, 120)}}
    p = ch.figure9_phrases(setup, f9)
    assert (p["a_fewest_best"], p["a_shared_worse"]) == ("adam", "adam")
    assert p["a_worst_everywhere"].startswith("adam solves the fewest")
    assert p["a_best_phrase"] == "No optimizer removes the flat plateaus"
    f9["tuning"][("sgd", 0.1)] = row(0, 50)
    f9["best"]["adam"] = row(0)
    p = ch.figure9_phrases(setup, f9)
    assert p["a_worst_everywhere"].startswith("no single optimizer")
    assert p["a_best_phrase"].startswith("At least one optimizer avoids")
    assert (p["a_fewest_best"], p["a_shared_worse"]) == ("adam", "adam")
    f9["shared"]["adam"] = row(0)
    assert ch.figure9_phrases(setup, f9)["a_shared_worse"] == "no optimizer"


def test_figures_draw_the_results():
    import matplotlib.pyplot as plt

    from rayint_lib.chapters import appendix_a_figures as figs

    setup = chapters.validate("05_appendix_a", J0_list=[0.1, 0.2], n_starts=20,
                              n_runs_deterministic=20, n_runs=10, etas=[0.1],
                              optimizers=["sgd", "adam"], optimizer_etas=[0.1], tune_runs=5,
                              max_samples=2000, curve_window=50)
    f8 = ch.figure8(setup)
    f5 = ch.figure5(setup, f8["eps_10x"], f8["runs"])
    for fig in (figs.plot_figure8(setup, f8), figs.plot_figure5(setup, f5, f8["eps_10x"]),
                figs.plot_figure9(setup, ch.figure9(setup))):
        assert all(ax.has_data() for ax in fig.axes if ax.get_label() != "<colorbar>")
        plt.close(fig)


def test_claims_can_fail():
    """Each claim of the chapter flips its verdict between a passing and a failing value;
    the measured exponent 1/2 satisfies the O(1/eps) bound and a linear cost would too, a
    cost growing faster than 1/eps would not."""
    from rayint_lib.book.claims import NOT_REPRODUCED, REPRODUCED

    for claim in ch.CLAIMS.values():
        if claim.rule != "ambiguous":
            assert claim.verdict(claim.example(True)) == REPRODUCED, claim.id
            assert claim.verdict(claim.example(False)) == NOT_REPRODUCED, claim.id
    bound = ch.CLAIMS["A-O(1/eps)"]
    assert bound.verdict(0.5) == bound.verdict(1.0) == REPRODUCED
    assert bound.verdict(1.5) == NOT_REPRODUCED
    e10 = ch.CLAIMS["A-eps10x"]     # "about 1e-4" to a factor of 2
    assert e10.verdict(np.log10(0.6e-4)) == REPRODUCED
    assert e10.verdict(np.log10(0.3e-4)) == NOT_REPRODUCED


def test_validation_builds_the_configs():
    v = chapters.validate("05_appendix_a", etas=[0.01, 0.1], optimizers=["sgd", "adam"],
                          optimizer_etas=[0.01, 0.03], curve_window=50, J_end=1.8)
    assert v.deterministic.batch == "expected"
    assert v.deterministic.solved_margin == pytest.approx(0.2)
    assert sorted(v.sampled) == [0.01, 0.1]
    assert v.sampled[0.1].flatness_measure == "expected"
    assert sorted(v.grid) == [("adam", 0.01), ("adam", 0.03), ("adam", 0.1), ("sgd", 0.01),
                              ("sgd", 0.03), ("sgd", 0.1)]       # the shared eta joins the grid
    assert v.grid[("adam", 0.03)].optimizer == "adam"
    assert v.grid[("adam", 0.03)].flatness_measure == "curve"
    assert v.grid[("adam", 0.03)].window == 50
    assert sorted(v.tuning) == sorted(v.grid)
    tuned, shown = v.tuning[("adam", 0.03)], v.grid[("adam", 0.03)]
    assert tuned.seed == tuning_seed(v.seed) != shown.seed == v.seed
    assert (tuned.n_runs, shown.n_runs) == (50, 200)
    assert tuned.replace(seed=shown.seed, n_runs=shown.n_runs) == shown


@pytest.mark.slow
def test_notebook_small(run_notebook):
    g = run_notebook("05_appendix_a", n_starts=150, n_runs_deterministic=60, n_runs=30,
                     etas=[0.1], optimizers=["sgd", "momentum"], optimizer_etas=[0.03],
                     tune_runs=10, max_samples=10_000, J0_list=[0.05, 0.2])
    assert 1e-5 < g["eps_10x_slowdown"] < 1e-4
    assert g["eps_10x_slowdown_full"] == pytest.approx(2 * g["eps_10x_slowdown"])
    assert g["slowdown_exponent"] == pytest.approx(0.5, abs=0.02)
    assert 0.1 < g["frac_J0_0.2_flatter_than_10x"] < 0.6
    assert g["a_frac_min"] <= g["frac_J0_0.2_flatter_than_10x"] <= g["a_frac_max"]
    for name in ("frac_J0_0.2_flatter_than_10x", "a_bad_opt_momentum", "a_solved_best_sgd"):
        assert g[f"{name}_ci_low"] <= g[name] <= g[f"{name}_ci_high"], name
        assert g[f"{name}_ci_high"] - g[f"{name}_ci_low"] > 0.05, name   # 30 to 150 runs
    assert g["a_eta_best_momentum"] in (0.03, 0.1)

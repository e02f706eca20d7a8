"""Chapter 08_detect_and_remedy: validation, the benchmark's pieces, and the notebook under
Papermill with small parameters."""
import numpy as np
import pytest

from rayint_lib.chapters import deep_rl_remedies as dr
from rayint_lib.chapters import detect_and_remedy as ch
from rayint_lib.chapters import detect_and_remedy_bandit as bandit
from rayint_lib.chapters import detect_and_remedy_detection as detection
from rayint_lib.chapters import detect_and_remedy_text as text
from rayint_lib.model import stats


def test_unknown_method_is_rejected_with_the_known_ones():
    with pytest.raises(ValueError, match="methods\\[1\\] must be one of 'reinforce'.*'magic'"):
        ch.validate(methods=["reinforce", "magic"])


@pytest.mark.parametrize("bad, match", [
    ({"K_list": [2, 8], "n_list": [2]}, "n_list must have one entry"),
    ({"K_list": [4], "n_list": [2]}, "n_list entries must be >="),
    ({"n_runs": 1}, "n_runs must be in"),
    ({"mix_fractions": [0.0]}, "mix_fractions\\[0\\] must be in"),
    ({"adaptive_etas": "0.1"}, "adaptive_etas must be a non-empty list"),
    ({"detect_runs": 500, "n_runs": 100}, "detect_runs must be in"),
    ({"deep_rl_runs": 1}, "deep_rl_runs must be 0"),
    ({"deep_rl_runs": -1}, "deep_rl_runs must be in"),
    ({"deep_rl_env_steps": 100}, "deep_rl_env_steps must be in"),
    ({"n_runs": 10**5, "max_samples": 10**8}, "would"),
])
def test_bad_parameters_are_rejected_naming_them(bad, match, monkeypatch):
    monkeypatch.delenv("RAYINT_FORCE", raising=False)
    with pytest.raises(ValueError, match=match):
        ch.validate(**bad)


def test_planned_methods_one_tuned_mixture_and_the_controls():
    s = ch.validate(mix_fractions=[0.1, 0.3, 1.0])
    labels = [m.label for m in bandit.planned_methods(s)]
    assert labels.count(bandit.MIXTURE_LABEL) == 1 and "fixed uniform data" in labels
    assert "cosine-gated (Du et al.)" in labels
    assert labels[0] == bandit.BASELINE and labels[-2:] == ["learning-progress curriculum",
                                                        "tabular (no shared bias)"]


def test_tuning_runs_each_setting_once_and_keeps_every_row(monkeypatch):
    s = ch.validate(K_list=[2], n_list=[2], max_samples=400, tune_runs=2,
                    mix_fractions=[0.1, 0.3, 1.0])
    calls = []
    run = bandit._run
    monkeypatch.setattr(bandit, "_run", lambda s_, m, *a, **kw: calls.append(
        (m.eta, m.mix)) or run(s_, m, *a, **kw))
    m = next(m for m in bandit.planned_methods(s) if m.label == bandit.MIXTURE_LABEL)
    tuned, rows = bandit.tune(s, m, 2, 2)
    assert len(set(calls)) == len(calls)
    assert [(r["eta"], r["mix"]) for r in rows if r["tuned"] == "mix"] == [(0.1, 0.1),
                                                                            (0.1, 0.3)]
    assert len(rows) == len(calls) + 1           # the start step size at the chosen fraction
    assert sum(r["chosen"] for r in rows if r["tuned"] == "eta") == 1


def test_effect_classification_uses_intervals():
    base = {"flat": stats.Estimate(0.3, 0.2, 0.4), "median_samples": stats.Estimate(2e3, 1e3, 3e3)}
    rm_ = {"flat": stats.Estimate(0.0, 0.0, 0.03), "median_samples": stats.Estimate(1e2, 90, 110)}
    fewer = {"flat": stats.Estimate(0.1, 0.05, 0.15), "median_samples": base["median_samples"]}
    short = {"flat": stats.Estimate(0.25, 0.15, 0.35), "median_samples": stats.Estimate(5e2, 4e2,
                                                                                        6e2)}
    worse = {"flat": stats.Estimate(0.7, 0.6, 0.8), "median_samples": base["median_samples"]}
    same = {"flat": stats.Estimate(0.28, 0.18, 0.38), "median_samples": base["median_samples"]}
    assert bandit.effect({**rm_, "fewer": True}, base) == "removes plateaus"
    assert bandit.effect({**fewer, "fewer": True}, base) == "fewer plateaus"
    assert bandit.effect({**rm_, "fewer": False}, base) == "only shortens"      # not significant
    loose = {"flat": stats.Estimate(0.02, 0.01, 0.07), "median_samples": base["median_samples"],
             "fewer": True}
    assert bandit.effect(loose, base) == "fewer plateaus"          # upper end above 5%
    assert bandit.effect(short, base) == "only shortens"
    assert bandit.effect(worse, base) == "worse"
    assert bandit.effect(same, base) == "no clear effect"


def test_small_benchmark_and_detection_run():
    s = ch.validate(K_list=[2], n_list=[2], n_runs=12, max_samples=2000, tune_runs=3,
                    adaptive_etas=[0.1], detect_runs=6, methods=["reinforce", "separate",
                                                                  "mixture", "adam"],
                    mix_fractions=[1.0])
    bench = bandit.benchmark(s)
    summ = bandit.summaries(bench)
    assert (2, bandit.BASELINE) in summ and (2, "Adam (tuned)") in summ
    table = text.remedy_table(bench, summ, 2)
    assert table["rank"].min() == 1 and (table["rank"].diff().dropna() >= 0).all()
    tuning = bench.tuning
    assert set(tuning["method"]) >= {bandit.BASELINE, "separate heads", "Adam (tuned)"}
    for label, g in tuning[tuning["tuned"] == "eta"].groupby("method"):
        chosen = g[g["chosen"]]
        assert len(chosen) == 1                                  # one value chosen per method
        assert chosen["interior"].iloc[0] or len(g) >= 3 + bandit.MAX_WIDEN \
            or chosen["eta"].iloc[0] not in (g["eta"].min(), g["eta"].max())
    assert not text.tuning_table(bench, 2).empty
    det, found = detection.detection_table(bench, {"baseline": bandit.BASELINE}, 2,
                                           {"deep linear": detection.saxe_detection(4, 0)})
    assert len(found["baseline"].runs) == 6 and len(found["deep linear"].runs) == 4
    assert 0 <= detection.specificity(found, ["deep linear"]).value <= 1
    assert np.isfinite(bandit.reduction(bench, "separate heads", 2).value)


def test_deep_rl_is_skipped_at_zero_runs():
    s = ch.validate(K_list=[2], n_list=[2], n_runs=8, max_samples=2000, tune_runs=3,
                    adaptive_etas=[0.1], methods=["reinforce", "separate", "mixture"],
                    mix_fractions=[0.1, 1.0], detect_runs=4, deep_rl_runs=0)
    bench = bandit.benchmark(s)
    assert bandit.best_mixture(bench) == 0.1
    assert ch.deep_rl(bench) is None and "Not run" in dr.text(None)


def test_deep_rl_methods_are_the_remedies_in_neural_form():
    base = ch.deep_rl_config(ch.validate()).agent_spec()
    specs = {k: dr.method_spec(base, k, 0.1) for k in dr.METHODS}
    assert specs["onpolicy"] == base
    assert specs["separate"].separate and specs["heads"].heads
    assert specs["mixture"].learner == "mixture" and specs["mixture"].mix == 0.1
    assert specs["ppo"].clip > 0 and specs["ppo"].epochs > 1
    assert specs["pcgrad"].grad_mode == "pcgrad" and specs["td"].critic == "td"
    assert specs["distill"].learner == "supervised" and not specs["distill"].separate


def test_deep_rl_methods_start_slowest_first_and_distill_needs_its_teachers():
    order = dr._started_order(dr.METHODS)
    assert sorted(order) == sorted(dr.METHODS) and order[:2] == ["ppo", "pcgrad"]
    assert dr._started_order(("onpolicy", "td")) == ["onpolicy", "td"]
    with pytest.raises(ValueError, match="separate"):
        dr.run(None, 0.1, 3, 0, methods=("onpolicy", "distill"))


@pytest.mark.slow
def test_deep_rl_remedies_tune_on_other_seeds_and_distill():
    from rayint_lib.model.deep import agent, rooms
    base = agent.AgentSpec(env=rooms.RoomsParams(K=2, length=2), width=8, episodes=8,
                           n_updates=400, n_checkpoints=14)
    d = dr.run(base, 0.1, 3, 0, methods=("onpolicy", "separate", "distill"))
    assert set(d.lrs) == {"onpolicy", "separate", "distill"}
    assert all(d.lrs[k] in dr.LR_GRID and len(d.tuning[k]) == len(dr.LR_GRID) for k in d.lrs)
    summ = dr.summary(d)
    assert summ["separate"]["all"].n == 3
    agree = dr.detector_agreement(d)
    assert 0 <= agree["onpolicy"]["agree"].value <= 1


def test_deep_rl_spec_has_the_deep_rl_chapters_default_shapes():
    from rayint_lib.chapters import deep_rl
    assert ch.deep_rl_config(ch.validate()).agent_spec() == deep_rl.validate().agent_spec()


def test_dissipate_is_half_the_baseline_with_confidence():
    assert ch.dissipates(stats.Estimate(0.1, 0.05, 0.15), stats.Estimate(0.5, 0.4, 0.6))
    assert not ch.dissipates(stats.Estimate(0.23, 0.12, 0.3), stats.Estimate(0.5, 0.4, 0.6))


@pytest.mark.slow
def test_notebook_runs_with_small_parameters(run_notebook):
    g = run_notebook("08_detect_and_remedy", n_runs=16, max_samples=3000, tune_runs=3,
                     detect_runs=8, K_list=[2, 3], n_list=[2, 3], adaptive_etas=[0.03, 0.1],
                     deep_rl_runs=4, deep_rl_env_steps=8000)
    for name in ("remedy_table_K2", "remedy_flat_K2_reinforce_baseline",
                 "remedy_flat_K2_reinforce_baseline_ci_low", "remedy_median_K3_natural_gradient",
                 "remedy_lib_ours_K2", "remedy_det_verdict", "remedy_removes",
                 "remedy_deep_text", "remedy_rl_table", "remedy_rl_td_weakest",
                 "remedy_rl_detect_agree_onpolicy"):
        assert name in g, name
    assert 0.0 <= g["remedy_flat_K2_reinforce_baseline"] <= 1.0
    for setting in dr.METHODS:
        for what in ("all", "median_steps", "weakest", "one_at_a_time"):
            name = f"remedy_rl_{what}_{setting}"
            assert name in g and f"{name}_ci_low" in g and f"{name}_ci_high" in g, name

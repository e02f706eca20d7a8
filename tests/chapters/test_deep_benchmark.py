"""Chapter 03c_deep_benchmark: validation names bad parameters, the measures read curves
correctly, and the notebook runs and glues issue 20's names."""
import numpy as np
import pytest

from rayint_lib.chapters import deep_benchmark as ch
from rayint_lib.chapters import deep_benchmark_remedies as rem_ch
from rayint_lib.model.deep.ppo import PPORuns


def _runs(cfg, finals_at, low=0.0):
    """Fake runs whose task k jumps from ``low`` to 1 at checkpoint ``finals_at[i][k]``
    (``None``: never); coupling ratio ``J_k 2^N`` as on-policy."""
    spec = cfg.spec()
    T = len(spec.steps)
    curves = np.full((len(finals_at), T, cfg.K), low)
    for i, row in enumerate(finals_at):
        for k, j in enumerate(row):
            if j is not None:
                curves[i, j:, k] = 1.0
    returns = curves * 0.99
    return PPORuns(spec, spec.steps, curves, returns, np.full((len(finals_at), T), -0.1),
                   curves * 2.0 ** cfg.size)


def test_defaults_validate():
    cfg = ch.validate()
    assert cfg.K == 2 and cfg.env_steps == 100 * 16 * 32


@pytest.mark.parametrize("name,value", [
    ("K", 1), ("K", 17), ("size", 1), ("mapping_seed", -1), ("seeds", 1), ("n_updates", 1),
    ("num_envs", 0), ("num_envs", 3), ("num_steps", 2), ("lr", 0.0), ("ent_coef", -1.0),
    ("depth", 0), ("width", 0), ("seed", -1), ("remedies", ["natural"]), ("remedy_mix", 0.0),
    ("remedy_tune_seeds", 1),
])
def test_bad_parameters_are_named(name, value):
    with pytest.raises(ValueError, match=name):
        ch.validate(**{name: value})


def test_memory_and_time_estimates_refuse_huge_runs(monkeypatch):
    monkeypatch.setenv("RAYINT_MAX_MEMORY", "1M")
    with pytest.raises(ValueError, match="memory"):
        ch.validate(seeds=10_000)
    monkeypatch.delenv("RAYINT_MAX_MEMORY")
    monkeypatch.delenv("RAYINT_FORCE", raising=False)
    with pytest.raises(ValueError, match="day"):
        ch.validate(seeds=100, n_updates=10**7)


def test_the_estimates_count_the_remedies(monkeypatch):
    seen = {"time": [], "mem": []}
    monkeypatch.setattr(ch, "check_time", lambda what, s, how: seen["time"].append(s))
    monkeypatch.setattr(ch, "check_memory", lambda what, b, how: seen["mem"].append(b))
    ch.validate()
    cfg = ch.validate(remedies=list(ch.REMEDIES), remedy_tune_seeds=4)
    base, more = seen["time"]
    # 3 conditions x 32 seeds, then 5 methods x (3 steps x 4 + 32) + 4 teachers + pcgrad's K x 32
    assert more / base == pytest.approx((96 + 5 * 44 + 4 + 64) / 96)
    assert seen["mem"][1] >= seen["mem"][0] and cfg.remedies == ch.REMEDIES


def test_remedy_glue_and_findings_pair_each_method_with_the_baseline():
    from rayint_lib.book.page import Page

    cfg = ch.validate(n_updates=100, seeds=4, remedies=["heads", "pcgrad"])
    runs = {"shared": _runs(cfg, [(3, None)] * 4), "heads": _runs(cfg, [(3, 3)] * 4),
            "pcgrad": _runs(cfg, [(3, None), (3, 4), (3, None), (None, None)])}
    rem = rem_ch.Remedies(runs, {k: cfg.lr for k in runs}, {k: {cfg.lr: 0.0} for k in runs},
                          {k: cfg.env_steps for k in runs}, 0.1, 2, 1.0)
    g = rem_ch.glue_values(rem)
    assert g["bench_remedy_heads_diff"].value == 1.0 and g["bench_remedy_heads_diff"].low == 1.0
    assert g["bench_remedy_pcgrad_diff"].value == 0.25 and g["bench_remedy_pcgrad_diff"].low == 0
    assert g["bench_remedy_shared_all_learned"].value == 0 and "bench_remedy_shared_diff" not in g
    for k in runs:
        assert g[f"bench_remedy_{k}_lr"] == cfg.lr and g[f"bench_remedy_{k}_env_steps"] > 0
        assert f"bench_remedy_{k}_final_return" in g
    page = Page(ch.NOTEBOOK, {})
    rem_ch.add_findings(page, cfg, rem)
    answers = {f["id"]: f["answer"] for f in page.findings}
    assert answers["bench-remedy-heads"].endswith("helps")
    assert answers["bench-remedy-pcgrad"].endswith("not resolved (the interval contains 0)")
    assert rem_ch.glue_values(None) == {} and "rayint run" in rem_ch.text(cfg, None)


def test_measures_read_the_order_in_which_tasks_are_learned():
    cfg = ch.validate(n_updates=100)
    T = len(cfg.spec().steps)
    r = _runs(cfg, [(3, 3), (3, None), (2, T - 1)])
    assert list(ch.learned_all(r)) == [True, False, True]
    assert list(ch.learned_tasks(r)) == [2, 1, 2]
    assert list(ch.sequential(r)) == [False, True, True]
    assert ch.final_return(r).value == pytest.approx(0.99 * 5 / 6)
    assert ch.cosine_median(r).value == pytest.approx(-0.1)
    assert ch.all_given_one(r).value == pytest.approx(2 / 3)
    assert ch.stalled(r).sum(axis=1).tolist() == [0, T - 3, T - 3]
    assert ch.cosine_stalled(r).value == pytest.approx(-0.1)
    assert np.isnan(ch.cosine_stalled(_runs(cfg, [(3, 3)] * 3)).value)
    d = ch.gap(ch.final_returns(r), ch.final_returns(_runs(cfg, [(3, 3)] * 3)))
    assert d.value == pytest.approx(0.99 * 5 / 6 - 0.99) and d.high < 0.01 and d.low < d.value


def test_coupling_and_dissipation_read_the_weak_task_and_the_seeds_that_learn_one():
    cfg = ch.validate(n_updates=100)
    T = len(cfg.spec().steps)
    sh = _runs(cfg, [(3, None), (3, None), (2, None), (3, 3)], low=1e-6)
    # the weakest task of the three stalled seeds: J = 1e-6, ratio 1e-6 * 2^8; none for the last
    c = ch.coupling_low_J(sh)
    assert c.value == pytest.approx(1e-6 * 2 ** 8) and c.n == 3
    assert np.isnan(ch.coupling_low_J(_runs(cfg, [(3, 3)] * 3)).value)
    se = _runs(cfg, [(3, T - 2), (3, 5), (None, None), (2, None)])
    d = ch.dissipation(se, sh)            # every task given one: 2/3 against 1/4
    assert d.value == pytest.approx(2 / 3 - 1 / 4) and d.low <= d.value <= d.high
    assert np.isnan(ch.dissipation(_runs(cfg, [(None, None)] * 3), sh).value)
    # half the (seed, task) pairs learned: independent tasks give 1/4 / (1 - 1/4) = 1/3
    ind = ch.independent_all_given_one(_runs(cfg, [(3, 3), (3, None), (None, None), (None, 2)]))
    assert ind.value == pytest.approx(1 / 3) and ind.low <= 1 / 3 <= ind.high
    assert ch.uniform_successes(cfg) == pytest.approx(100 * 16 * 32 / (8 * 2) / 2 ** 8)


@pytest.mark.parametrize("low,verdict", [(1e-6, "reproduced"), (2.0 ** -8, "not reproduced")])
def test_f0_claim_and_findings_follow_the_stalled_tasks_coupling(low, verdict):
    from rayint_lib.book.page import Page

    cfg = ch.validate(n_updates=100)
    study = {"shared": _runs(cfg, [(3, None), (4, None), (2, None), (3, 3)], low=low),
             "separate": _runs(cfg, [(3, 3), (3, 5), (None, None), (2, 4)]),
             "uniform": _runs(cfg, [(None, None)] * 3 + [(5, None)]),
             "exact_uniform": _runs(cfg, [(3, 3)] * 4),
             "exact_on_policy": _runs(cfg, [(3, 3), (3, 3), (3, None), (3, 3)])}
    values = ch.glue_values(cfg, study)
    assert values["bench_coupling_ratio_low_J"].value == pytest.approx(low * 2 ** 8)
    assert values["bench_dissipate_separate"].value == pytest.approx(1 - 1 / 4)
    assert values["bench_dissipate_separate_answer"] == "it dissipates"
    # the exact uniform learner learns both tasks at once in every seed, its on-policy pair
    # one at a time in one seed of four: coupling alone 1/4 more one at a time
    assert values["bench_dissipate_exact_uniform"].value == pytest.approx(1 - 1 / 4)
    assert values["bench_coupling_only_one_at_a_time"].value == pytest.approx(1 / 4)
    assert values["bench_coupling_only_dissipate"].value == pytest.approx(1 / 4)
    assert values["bench_exact_steps"] == 100 * 4 * 4
    page = Page(ch.NOTEBOOK, {})
    ch.add_findings(page, cfg, values)
    (row,) = page.rows
    assert row["id"] == "3.3-f0-onpolicy" and row["verdict"] == verdict
    assert [f["id"] for f in page.findings] == [
        i for i in ch.FINDINGS if not i.startswith("bench-remedy-")]
    assert "separate networks 0.75 [" in page.findings[-1]["answer"]
    assert "coupling alone) 0.25 [" in page.findings[-1]["answer"]


def test_the_conditions_are_the_shared_network_its_two_controls():
    cfg = ch.validate()
    specs = {c: cfg.spec(**kw) for c, kw in ch.CONDITIONS.items()}
    assert [(s.separate, s.behaviour) for s in specs.values()] == [
        (False, "on_policy"), (True, "on_policy"), (False, "uniform")]


def test_random_policy_success_is_two_to_the_minus_size():
    assert ch.random_success(ch.validate(size=6)) == pytest.approx(2.0 ** -6, rel=1e-5)


@pytest.mark.slow
def test_notebook_runs_with_small_parameters(run_notebook):
    g = run_notebook("03c_deep_benchmark", size=4, seeds=4, n_updates=10, num_envs=4,
                     num_steps=8, width=16)
    assert g["bench_env"].startswith("2 x DeepSea-bsuite")
    for name in ("bench_frac_one_at_a_time_shared", "bench_frac_one_at_a_time_separate",
                 "bench_final_return_shared", "bench_final_return_separate",
                 "bench_grad_cosine_median_shared", "bench_return_gap",
                 "bench_one_at_a_time_gap", "bench_frac_one_at_a_time_uniform",
                 "bench_final_return_uniform", "bench_frac_all_learned_uniform",
                 "bench_frac_all_learned_exact_uniform", "bench_frac_one_at_a_time_exact_on_policy",
                 "bench_coupling_only_one_at_a_time"):
        assert g[f"{name}_ci_low"] <= g[name] <= g[f"{name}_ci_high"], name
    for name in ("bench_coupling_ratio_low_J", "bench_dissipate_uniform"):   # NaN if no seed
        assert f"{name}_ci_low" in g and f"{name}_ci_high" in g, name
    # off by default: only the sentence that gives the command
    assert [n for n in g if n.startswith("bench_remedy_")] == ["bench_remedy_text"]


@pytest.mark.slow
def test_notebook_runs_every_remedy_with_small_parameters(run_notebook):
    g = run_notebook("03c_deep_benchmark", size=3, seeds=3, n_updates=4, num_envs=4,
                     num_steps=8, width=8, remedies=list(ch.REMEDIES), remedy_tune_seeds=2)
    for k in ("shared", *ch.REMEDIES):
        name = f"bench_remedy_{k}_all_learned"
        assert g[f"{name}_ci_low"] <= g[name] <= g[f"{name}_ci_high"], name
        assert f"bench_remedy_{k}_final_return_ci_high" in g
        assert g[f"bench_remedy_{k}_lr"] in (0.5 * 2.5e-4, 2.5e-4, 5e-4)
        if k != "shared":
            assert f"bench_remedy_{k}_diff_ci_low" in g
    assert g["bench_remedy_distill_env_steps"] == 2 * g["bench_remedy_heads_env_steps"] == 256

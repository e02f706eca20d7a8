"""Chapter 10 (stored full-scale runs): a stored run is read as `rayint run` wrote it, refused
when incomplete, its command re-creates its parameters, its code is compared with the commit
that computed it, and every run shipped with the book is a valid, committed run of its
chapter."""
from __future__ import annotations

import json
import subprocess

import pytest

from rayint_lib import chapters
from rayint_lib.book import stored_runs as sr
from rayint_lib.chapters import full_scale as ch
from rayint_lib.model import stats
from rayint_lib.model.stats import Estimate

SHIPPED = ch.BOOK / "data" / "runs"


def _write_run(folder, notebook="03b_deep_rl", status="complete", **glued):
    folder.mkdir(parents=True)
    (folder / "parameters.json").write_text(json.dumps({"K": 2, "rl_seeds": 8, "more_K": [4]}))
    (folder / "glued.json").write_text(json.dumps(glued))
    (folder / "provenance.json").write_text(json.dumps(
        {"notebook": notebook, "status": status, "git_commit": "abc1234",
         "overrides": {"rl_seeds": 8, "more_K": [4]},
         "wall_time_s": 90.0, "finished_utc": "2026-12-06T12:00:00+00:00"}))
    return folder


def test_a_stored_run_is_read_back(tmp_path):
    run = sr.load(_write_run(tmp_path / "r", rooms_frac_all_learned_shared=0.25,
                             rooms_frac_all_learned_shared_ci_low=0.1,
                             rooms_frac_all_learned_shared_ci_high=0.5, rooms_env="corridor"))
    assert run.notebook == "03b_deep_rl" and run.commit == "abc1234"
    assert run.command == "rayint run 03b_deep_rl -p rl_seeds 8 -p more_K '[4]'"
    assert run.estimate("rooms_frac_all_learned_shared") == Estimate(0.25, 0.1, 0.5)
    assert run.estimate("rooms_env") == "corridor"


def test_incomplete_or_partial_runs_are_refused(tmp_path):
    with pytest.raises(ValueError, match="did not say the run completed|does not say"):
        sr.load(_write_run(tmp_path / "failed", status="failed"))
    part = _write_run(tmp_path / "part")
    (part / "glued.json").unlink()
    with pytest.raises(ValueError, match="missing glued.json"):
        sr.load(part)


def test_a_run_of_another_notebook_is_refused(tmp_path):
    _write_run(tmp_path / "runs" / "x", notebook="01_minimal_bandit")
    with pytest.raises(ValueError, match="runs_dir: run x is of 01_minimal_bandit"):
        chapters.validate("10_full_scale", runs_dir=str(tmp_path / "runs"))
    with pytest.raises(ValueError, match="runs_dir: .* is not a folder"):
        chapters.validate("10_full_scale", runs_dir=str(tmp_path / "none"))


def test_changed_since_reads_git():
    head = subprocess.run(["git", "-C", str(sr.ROOT), "rev-parse", "HEAD"],
                          capture_output=True, text=True)
    if head.returncode:
        pytest.skip("not a git checkout")
    first = subprocess.run(["git", "-C", str(sr.ROOT), "rev-list", "--max-parents=0", "HEAD"],
                           capture_output=True, text=True).stdout.split()[0]
    assert "README.md" in sr.changed_since(first, ["README.md"])   # the first commit's differs
    assert sr.changed_since("0" * 40, ["README.md"]) is None       # unknown commit
    assert sr.changed_since("abc+dirty", ["README.md"]) is None


def test_newcombe_difference_matches_newcombe_1998():
    """Newcombe (1998), Table II, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339."""
    d = stats.newcombe_difference(stats.wilson(56, 70), stats.wilson(48, 80))
    assert d.value == pytest.approx(0.2)
    assert (d.low, d.high) == pytest.approx((0.0524, 0.3339), abs=1e-4)


def test_interference_by_count_compares_every_count(tmp_path):
    glued = {}
    for name, (v, lo, hi) in {"rooms_frac_all_learned_shared": (0.9, 0.8, 0.95),
                              "rooms_frac_all_learned_separate": (0.9, 0.8, 0.95),
                              "rooms_K4_frac_all_learned_shared": (0.1, 0.05, 0.2),
                              "rooms_K4_frac_all_learned_separate": (0.8, 0.7, 0.9)}.items():
        glued.update({name: v, f"{name}_ci_low": lo, f"{name}_ci_high": hi})
    run = sr.load(_write_run(tmp_path / "r", **glued))
    table = ch.interference_by_count(run)
    assert table["rooms / tasks"].tolist() == [2, 4]
    d2, d4 = table["shared - separate"]
    assert d2.low < 0 < d2.high and d4.high < 0
    text = ch.reading(run)
    assert "K = 4" in text and "sharing costs whole rooms" in text
    assert "no difference resolved" in text
    heads = ch.headlines(run).set_index("measure")
    assert list(heads.columns) == ["K = 2", "K = 4"]
    assert heads.loc["learn every room, shared network", "K = 4"].value == 0.1
    assert heads.loc["coupling ratio of the stalled room", "K = 4"] == ""   # not glued
    assert ch.remedies(run).empty


def test_the_book_ships_its_stored_runs():
    """Page 10 reads book/data/runs: a checkout without them (an ignore rule once kept them
    out of git) must fail here, not skip the check below."""
    shipped = {p.name for p in SHIPPED.iterdir() if p.is_dir()} if SHIPPED.is_dir() else set()
    assert {"03b_rooms_K2_4_8", "03c_K4", "03c_K2_remedies", "03c_K2_long"} <= shipped
    tracked = subprocess.run(["git", "-C", str(sr.ROOT), "ls-files", "--error-unmatch",
                              str(SHIPPED / "03c_K4" / "glued.json")], capture_output=True)
    if tracked.returncode == 128 and b"not a git repository" in tracked.stderr:
        pytest.skip("not a git checkout")
    assert tracked.returncode == 0, "book/data/runs is not tracked by git"


@pytest.mark.parametrize("folder", sorted(p for p in SHIPPED.iterdir() if p.is_dir())
                         if SHIPPED.is_dir() else [])
def test_shipped_runs_are_complete_committed_runs_of_their_chapter(folder):
    run = sr.load(folder)
    chapters.validate(run.notebook, **run.parameters)      # the chapter still accepts them
    assert run.provenance["overrides"].items() <= run.parameters.items()
    assert not run.commit.endswith("+dirty"), "a stored run must come from committed code"
    assert run.notebook in ch.MEASURES
    names = [main for _, main, _ in ch.MEASURES[run.notebook] if main]
    assert [n for n in names if n not in run.glued] == []
    ancestor = subprocess.run(["git", "-C", str(sr.ROOT), "merge-base", "--is-ancestor",
                               run.commit, "HEAD"], capture_output=True)
    if ancestor.returncode not in (0, 1):
        pytest.skip("not a git checkout")
    assert ancestor.returncode == 0, f"commit {run.commit} is not in this history"


def test_remedies_of_a_benchmark_run_are_tabled(tmp_path):
    glued = {}
    for name in ("bench_frac_all_learned_shared", "bench_frac_all_learned_separate"):
        glued.update({name: 0.5, f"{name}_ci_low": 0.3, f"{name}_ci_high": 0.7})
    for method in ("heads", "pcgrad"):
        glued.update({f"bench_remedy_{method}_all_learned": 0.6,
                      f"bench_remedy_{method}_all_learned_ci_low": 0.4,
                      f"bench_remedy_{method}_all_learned_ci_high": 0.8,
                      f"bench_remedy_{method}_lr": 2.5e-4})
    run = sr.load(_write_run(tmp_path / "r", notebook="03c_deep_benchmark", **glued))
    table = ch.remedies(run).set_index("remedy")
    assert list(table.index) == ["heads", "pcgrad"]
    assert table.loc["heads", "learn every task"].high == 0.8
    assert table.loc["pcgrad", "tuned step size"] == 2.5e-4
    assert table.loc["pcgrad", "final return"] == ""
    assert len(ch.tables(run)) == 3

"""The ``rayint`` command: parameters, validation, safe run folders, sweeps, Dask.

Fast end-to-end runs use ``tests/data/tiny.ipynb`` (its validator is registered here only);
one slow test checks ``rayint run`` against plain Papermill on ``01_minimal_bandit``.
"""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from rayint_lib import chapters
from rayint_lib.book.notebooks import BOOK_DIR, glued_values, notebook_path
from rayint_lib.cli import main as cli
from rayint_lib.cli import params, runs

DATA = Path(__file__).resolve().parents[1] / "data"
TINY = DATA / "tiny.ipynb"
REPO = Path(__file__).resolve().parents[2]
# the same registration, for subprocesses (which monkeypatch cannot reach)
REGISTER = (f"import sys; sys.path.insert(0, {str(DATA)!r}); import tiny_validator; "
            "from rayint_lib import chapters; base = chapters.chapter; "
            "chapters.chapter = lambda nb: tiny_validator if nb == 'tiny' else base(nb); "
            "from rayint_lib.cli.main import main; sys.exit(main(sys.argv[1:]))")


@pytest.fixture(autouse=True)
def tiny_registered(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(DATA))
    import tiny_validator

    base = chapters.chapter
    monkeypatch.setattr(chapters, "chapter",
                        lambda nb: tiny_validator if nb == "tiny" else base(nb))
    monkeypatch.setenv("RAYINT_CLAIMS_DIR", str(tmp_path / "scorecard"))  # must stay untouched
    monkeypatch.delenv("RAYINT_FORCE", raising=False)
    monkeypatch.chdir(tmp_path)


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


# --- parameters ---------------------------------------------------------------------------

def test_read_parameters_types_defaults_and_help():
    ps = params.read_parameters(TINY)
    assert list(ps) == ["a", "x", "label", "J0", "fail", "sleep"]
    assert ps["x"].default == 0.5 and ps["x"].help == "a number in [0, 1]"
    decl = params.declaration(TINY)
    assert [decl[n].type_name for n in decl] == ["int", "float", "str", "float or None", "bool",
                                                 "float"]


@pytest.mark.parametrize("nb", sorted(BOOK_DIR.glob("[0-9]*.ipynb")), ids=lambda p: p.stem)
def test_parameters_cell_equals_the_declaration(nb):
    """Names (in order), defaults (with their types) and comments (= meanings) of every book
    notebook's parameters cell are its chapter's declaration; the defaults validate."""
    cell, declared = params.read_parameters(nb), chapters.declaration(nb.stem)
    assert list(cell) == list(declared)
    for name, p in declared.items():
        assert (cell[name].default, type(cell[name].default)) == (p.default, type(p.default)), name
        assert cell[name].help == p.meaning, name
        assert p.check(p.default) == p.default, name
    assert params.validate(nb.stem, declared.defaults).seconds < 3600


def test_a_cell_that_differs_from_its_declaration_is_caught(tmp_path):
    """The comparison above can fail: a changed default, comment or order is seen."""
    nb = nbformat.read(TINY, as_version=4)
    cell = params.parameters_cell(nb)
    declared = params.declaration(TINY)
    for old, new in [("a = 2", "a = 3"), ("any text", "some text"),
                     ("a = 2  # a positive integer\n", "")]:
        cell.source = params.parameters_cell(nbformat.read(TINY, as_version=4)).source.replace(
            old, new)
        got = params.read_parameters(nb)
        assert (list(got) != list(declared)
                or any(got[n].default != p.default or got[n].help != p.meaning
                       for n, p in declared.items())), old


def test_every_book_notebook_documents_its_parameters():
    for nb in sorted(BOOK_DIR.glob("[0-9]*.ipynb")):
        for p in params.read_parameters(nb).values():
            assert p.help, f"{nb.stem}: parameter {p.name} has no comment"


@pytest.mark.parametrize("name, text, value", [
    ("a", "3", 3), ("a", "1e1", 10), ("x", "1", 1.0), ("label", "'two words'", "two words"),
    ("J0", "None", None), ("J0", "0.3", 0.3), ("fail", "TRUE", True), ("fail", "no", False)])
def test_parse_text(name, text, value):
    got = params.parse_text(params.declaration(TINY)[name], text)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("name, text", [("a", "2.5"), ("a", "two"), ("x", "abc"),
                                        ("fail", "maybe"), ("J0", "abc")])
def test_parse_text_rejects_wrong_types(name, text):
    with pytest.raises(params.ParameterError, match=f"parameter '{name}' expects"):
        params.parse_text(params.declaration(TINY)[name], text)


def test_split_values_respects_brackets_and_quotes():
    assert cli.split_values("2,4,8") == ["2", "4", "8"]
    assert cli.split_values("[1,2],[3]") == ["[1,2]", "[3]"]
    assert cli.split_values("'a,b',c") == ["'a,b'", "c"]


def test_list_shows_parameters(capsys):
    assert cli.main(["list", str(TINY)]) == 0
    out = capsys.readouterr().out
    assert "a  " in out and "a positive integer" in out and "'hi'" in out
    assert "[1, 100]" in out and "float or None" in out           # range and type declared
    assert cli.main(["list", "--json"]) == 0  # every book notebook
    listed = json.loads(capsys.readouterr().out)
    assert "01_minimal_bandit" in listed
    assert {p["name"] for p in listed["01_minimal_bandit"]} >= {"K", "n"}


# --- bad invocations: clear message, exit status 2, nothing written -----------------------

ALIAS_BOMB = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi"))
DEEP = "[" * 100_000 + "]" * 100_000
LONG = "9" * 200_000
ONE_TO = ",".join(str(i) for i in range(1, 1001))

BAD = {
    "unknown notebook": (["run", "01_minimal_bandt"], "did you mean '01_minimal_bandit'"),
    "unknown parameter": (["run", str(TINY), "-p", "lable", "x"], "did you mean 'label'"),
    "bad type": (["run", str(TINY), "-p", "a", "two"], "parameter 'a' expects int"),
    "out of range": (["run", str(TINY), "-p", "x", "1.5"], "x must be in [0, 1]"),
    "out of range (real notebook)": (["run", "01_minimal_bandit", "-p", "K", "3"],
                                     "n must be >= K"),
    "bad value in a grid": (["sweep", str(TINY), "-p", "a", "1,0"], "a must be in [1, 100]"),
    "malformed grid (empty value)": (["sweep", str(TINY), "-p", "a", "1,,2"], "empty value"),
    "malformed grid (brackets)": (["sweep", str(TINY), "-p", "a", "[1,2"], "unbalanced"),
    "sweep without a grid": (["sweep", str(TINY)], "needs at least one"),
    "duplicate combinations": (["sweep", str(TINY), "-p", "a", "1,1.0"], "duplicate"),
    "parameter given twice": (["run", str(TINY), "-p", "a", "1", "-p", "a", "2"], "given twice"),
    "unreadable parameters file": (["run", str(TINY), "-f", "missing.yaml"], "cannot read"),
    "unreachable scheduler": (["sweep", str(TINY), "-p", "a", "1,2", "--scheduler",
                               "tcp://127.0.0.1:9", "--connect-timeout", "1"],
                              "cannot reach the Dask scheduler"),
    # work that cannot fit: refused before any kernel or folder, naming the parameter,
    # the estimate and the limit (issue 10)
    "more memory than the limit": (["run", "01_minimal_bandit", "-p", "n_runs", "1e12"],
                                   "n_runs=1000000000000, K=2, n=2 would need about 3.33 PiB "
                                   "of memory"),
    "more memory than RAYINT_MAX_MEMORY": (["run", "01_minimal_bandit", "-p", "n_runs", "1e6"],
                                           "more than the limit of 1 MiB"),
    "a float for an int parameter": (["run", "01_minimal_bandit", "-p", "n_runs", "1.5"],
                                     "parameter 'n_runs' expects int (default"),
    "more than a day": (["run", "01_minimal_bandit", "-p", "max_samples", "1e12"],
                        "would take about 2.78e+03 hours"),
    "more than a day (tiny)": (["run", str(TINY), "-p", "a", "90"], "pass --force"),
    "more than a day in a grid": (["sweep", str(TINY), "-p", "a", "1,90"], "more than a day"),
    "--out under a missing folder": (["run", str(TINY), "--out", "missing/r"],
                                     "missing/r: its parent folder"),
    "--out under a file": (["run", str(TINY), "--out", "p.yaml/r"], "is not a folder"),
    "sweep --out under a missing folder": (["sweep", str(TINY), "-p", "a", "1,2", "--out",
                                            "missing/s"], "does not exist"),
    # issue 22: combinations a chapter cannot run
    "03b depths without 0": (["run", "03b_deep_rl", "-p", "depths", "1,2"],
                             "depths must contain 0"),
    "08 mix_fractions without 1.0": (["run", "08_detect_and_remedy", "-p", "mix_fractions",
                                      "0.1,0.3"], "mix_fractions must contain 1.0"),
    "08 methods without the baseline": (["run", "08_detect_and_remedy", "-p", "methods",
                                         "mixture,separate"], "must contain 'reinforce'"),
    "08 duplicate K": (["run", "08_detect_and_remedy", "-p", "K_list", "2,2", "-p", "n_list",
                        "2,2"], "K_list lists a value twice"),
    "08 unknown method": (["run", "08_detect_and_remedy", "-p", "methods", "reinforce,magic"],
                          "methods[1] must be one of"),
    # output paths
    "--out at a dangling symlink": (["run", str(TINY), "--out", "dangling"],
                                    "a symbolic link exists there already"),
    "--out under /proc": (["run", str(TINY), "--out", "/proc/rayint-run"], "/proc"),
    "--out with a 250-character name": (["run", str(TINY), "--out", "r" * 250],
                                        "the name has 250 bytes"),
    "--out empty": (["run", str(TINY), "--out", ""], "--out needs a folder name"),
    "sweep --out empty": (["sweep", str(TINY), "-p", "a", "1,2", "--out", ""],
                          "--out needs a folder name"),
    "sweep --out at a dangling symlink": (["sweep", str(TINY), "-p", "a", "1,2", "--out",
                                           "dangling"], "symbolic link"),
    "unknown --kernel": (["run", str(TINY), "--kernel", "no-such-kernel"],
                         "--kernel 'no-such-kernel': no such Jupyter kernel"),
    "unknown --kernel (sweep)": (["sweep", str(TINY), "-p", "a", "1,2", "--kernel", "nope"],
                                 "no such Jupyter kernel"),
    # input files
    "-f /dev/zero": (["run", str(TINY), "-f", "/dev/zero"], "is not a regular file"),
    "-f too large": (["run", str(TINY), "-f", "big.yaml"], "more than the limit"),
    "-f not UTF-8": (["run", str(TINY), "-f", "latin1.yaml"], "is not UTF-8 text"),
    "-f YAML alias bomb": (["run", str(TINY), "-f", "bomb.yaml"], "aliases"),
    "-f YAML alias bomb (sweep)": (["sweep", str(TINY), "-f", "bomb.yaml"], "aliases"),
    "-f deeply nested lists": (["sweep", str(TINY), "-f", "deep.yaml"], "nested"),
    "-f a list not a mapping": (["run", str(TINY), "-f", "list.yaml"], "must be a mapping"),
    "-p deeply nested list": (["run", "03b_deep_rl", "-p", "depths", DEEP],
                              "parameter 'depths' expects list[int]"),
    "-p list too long": (["run", "03b_deep_rl", "-p", "widths", ONE_TO],
                         "widths may have at most 64 entries"),
    "notebook that is not JSON": (["run", "nb/01_minimal_bandit.ipynb"],
                                  "is not a Jupyter notebook"),
    "malformed sweep.json when resuming": (["sweep", str(TINY), "-p", "a", "1,2", "--out",
                                            "oldsweep"], "is not a rayint sweep marker"),
    "-f a folder": (["run", str(TINY), "-f", "nb"], "is not a regular file"),
    "-f with a NUL character": (["run", str(TINY), "-f", "a\0b"], "NUL"),
    "-f a mapping where a number is expected": (["run", str(TINY), "-f", "nested.yaml"],
                                                "a must be an integer, got {'b'"),
    "--out with a NUL character": (["run", str(TINY), "--out", "a\0b"], "NUL"),
    "--out at the root": (["run", str(TINY), "--out", "/"], "exists there already"),
    "sweep --out at a non-sweep folder": (["sweep", str(TINY), "-p", "a", "1,2", "--out", "nb"],
                                          "is not a rayint sweep folder"),
    "sweep.json that is a folder": (["sweep", str(TINY), "-p", "a", "1,2", "--out",
                                     "oddsweep"], "is not a regular file"),
    "notebook that is a JSON list": (["run", "nb2/01_minimal_bandit.ipynb"],
                                     "is not a Jupyter notebook"),
    "notebook whose parameters cell is not Python": (["run", "nb3/01_minimal_bandit.ipynb"],
                                                     "the parameters cell is not Python"),
    "notebook with a NUL character": (["run", "01_minimal\0bandit"], "unknown notebook"),
    # options and environment
    "RAYINT_MAX_MEMORY=inf": (["run", str(TINY)], "RAYINT_MAX_MEMORY must be a size"),
    "--connect-timeout nan": (["sweep", str(TINY), "-p", "a", "1,2", "--scheduler",
                               "tcp://127.0.0.1:9", "--connect-timeout", "nan"],
                              "--connect-timeout must be in"),
    "--jobs 0": (["sweep", str(TINY), "-p", "a", "1,2", "--jobs", "0"], "--jobs must be in"),
    "--jobs 10000": (["sweep", str(TINY), "-p", "a", "1,2", "--jobs", "10000", "--force"],
                     "--jobs must be in"),
    "--jobs above the cores": (["sweep", str(TINY), "-p", "a", "1,2", "--jobs",
                                str((os.cpu_count() or 1) + 1)], "pass --force"),
    # the work as a whole
    "a million combinations": (["sweep", str(TINY), "-p", "a", ONE_TO, "-p", "x", ONE_TO],
                               "1000000 combinations"),
    "parts of less than a day that add up to more": (
        ["run", "01_minimal_bandit", "-p", "n_runs", "20000", "-p", "n_runs_alt", "20000",
         "-p", "max_samples", "2.6e8"], "the run's parts would take about"),
    "a sweep of more than a day": (["sweep", str(TINY), "-p", "a", "80,81"],
                                   "the 2 runs with 1 at a time would take about 44.7 hours"),
    "memory x jobs over the limit": (["sweep", "01_minimal_bandit", "-p", "seed", "0,1",
                                      "--jobs", "2", "--force"],
                                     "2 run(s) at once would need about"),
    "03b deep RL of more than a day": (["run", "03b_deep_rl", "-p", "env_steps", "1e10"],
                                       "rl_seeds=64 x env_steps=10000000000"),
    "03b MLP bandit of more than a day": (["run", "03b_deep_rl", "-p", "bandit_runs", "1e4",
                                           "-p", "max_samples", "1e7"],
                                          "bandit_runs=10000 x max_samples=10000000"),
    "08 deep RL of more than a day": (["run", "08_detect_and_remedy", "-p", "deep_rl_runs",
                                       "4096", "-p", "deep_rl_env_steps", "1e9"],
                                      "deep_rl_runs=4096 x deep_rl_env_steps=1000000000"),
    # bounded messages
    "a huge int": (["run", str(TINY), "-p", "a", LONG], "parameter 'a' expects int"),
    "a huge unknown name": (["run", str(TINY), "-p", LONG, "1"], "unknown parameter '999"),
    "a huge value in a file": (["run", str(TINY), "-f", "long.yaml"], "x must be a real number"),
}

SETUP = {
    "big.yaml": "a: 3\n" + "# padding\n" * 200_000,
    "bomb.yaml": ALIAS_BOMB,
    "deep.yaml": "a: " + DEEP + "\n",
    "list.yaml": "- a\n- b\n",
    "long.yaml": f"x: '{'y' * 500_000}'\n",
    "nb/01_minimal_bandit.ipynb": "this is not JSON",
    "nested.yaml": "a: {b: [1, 2]}\n",
    "nb2/01_minimal_bandit.ipynb": "[]",
    "nb3/01_minimal_bandit.ipynb": json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{
            "cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "K = (",
            "outputs": [], "execution_count": None}]}),
    "oddsweep/sweep.json/x": "",
    "oldsweep/sweep.json": "{not json",
}
ENV = {"RAYINT_MAX_MEMORY=inf": "inf", "memory x jobs over the limit": "300M"}


def snapshot(path: Path) -> dict:
    """Every file and link under ``path`` with its content (or target)."""
    return {str(p.relative_to(path)): os.readlink(p) if p.is_symlink() else
            p.read_bytes() if p.is_file() else None for p in path.rglob("*")}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_invocations_fail_clearly_and_write_nothing(case, tmp_path, capsys, monkeypatch):
    """Issue 22's table: exit status 2, the culprit named, a bounded message, nothing
    written, no existing file changed, within a few seconds (2 shared cores)."""
    argv, message = BAD[case]
    (tmp_path / "p.yaml").write_text("a: 3\n")  # a file where a folder is expected
    (tmp_path / "latin1.yaml").write_bytes("label: caf\xe9\n".encode("latin-1"))
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    for name, text in SETUP.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    if "RAYINT_MAX_MEMORY" in case:
        monkeypatch.setenv("RAYINT_MAX_MEMORY", "1M")
    if case in ENV:
        monkeypatch.setenv("RAYINT_MAX_MEMORY", ENV[case])
    before = snapshot(tmp_path)
    t0 = time.perf_counter()
    assert cli.main(argv) == cli.USAGE_ERROR
    assert time.perf_counter() - t0 < 30
    err = capsys.readouterr().err
    assert "rayint: error:" in err and message in err, err[:2000]
    assert len(err) < 1000 and "Traceback" not in err, err[:2000]
    assert snapshot(tmp_path) == before
    assert "RAYINT_FORCE" not in os.environ


def test_unwritable_output_parent_is_refused(tmp_path, capsys, monkeypatch):
    """Root passes any permission check, so the check itself is made to say no."""
    (tmp_path / "ro").mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p).endswith("ro")
                        else real(p, mode))
    before = files_under(tmp_path)
    assert cli.main(["run", str(TINY), "--out", "ro/r"]) == cli.USAGE_ERROR
    assert cli.main(["sweep", str(TINY), "-p", "a", "1,2", "--out", "ro/s"]) == cli.USAGE_ERROR
    err = capsys.readouterr().err
    assert err.count("is not writable") == 2 and f"{tmp_path / 'ro' / 'r'}" in err
    assert files_under(tmp_path) == before


def test_force_starts_long_work_and_reaches_the_kernel(tmp_path, capsys):
    assert cli.main(["run", str(TINY), "-p", "a", "90", "--force", "--out", "r"]) == 0
    assert runs.read_run(tmp_path / "r")[1]["force_seen"] == "1"
    assert "RAYINT_FORCE" not in os.environ           # for this invocation only
    assert cli.main(["sweep", str(TINY), "-p", "a", "87,88", "--force", "--jobs", "2",
                     "--out", "s"]) == 0
    rows = _summary(tmp_path / "s" / "summary.csv")
    assert [r["force_seen"] for r in rows] == ["1", "1"]
    assert cli.main(["run", str(TINY), "-p", "a", "90", "--out", "r2"]) == cli.USAGE_ERROR


def test_new_notebooks_are_listed(tmp_path, monkeypatch, capsys):
    """chapter_names globs book/[0-9]*.ipynb: a notebook added now (03b_..., 08_...) is
    listed and runnable by its short name with no change to the CLI."""
    import shutil

    from rayint_lib.book import notebooks

    book = tmp_path / "book"
    book.mkdir()
    for name in ("01_a", "03b_deep_rl", "08_detect_and_remedy"):
        shutil.copy(TINY, book / f"{name}.ipynb")
    monkeypatch.setattr(notebooks, "BOOK_DIR", book)
    assert notebooks.chapter_names() == ["01_a", "03b_deep_rl", "08_detect_and_remedy"]
    assert cli.main(["list", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"01_a", "03b_deep_rl",
                                                        "08_detect_and_remedy"}
    assert cli._notebook("03b_deep_rl") == book / "03b_deep_rl.ipynb"
    assert cli._notebook("08_detect_and_remedy") == book / "08_detect_and_remedy.ipynb"


def test_existing_output_folder_is_never_overwritten(tmp_path, capsys):
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "result.txt").write_text("keep me")
    before = files_under(tmp_path)
    assert cli.main(["run", str(TINY), "--out", "done"]) == cli.USAGE_ERROR
    assert cli.main(["sweep", str(TINY), "-p", "a", "1,2", "--out", "done"]) == cli.USAGE_ERROR
    assert "exists" in capsys.readouterr().err
    assert files_under(tmp_path) == before
    assert (tmp_path / "done/result.txt").read_text() == "keep me"


# --- runs ---------------------------------------------------------------------------------

def test_run_writes_a_complete_folder(tmp_path, capsys):
    yaml_file = tmp_path / "p.yaml"
    yaml_file.write_text("a: 3\nlabel: yo\n")
    assert cli.main(["run", str(TINY), "-f", str(yaml_file), "-p", "J0", "0.7", "--out", "r"]) == 0
    out = tmp_path / "r"
    assert sorted(os.listdir(tmp_path)) == ["p.yaml", "r"]  # no temporary or failed folder left
    assert sorted(os.listdir(out)) == sorted(runs.FILES) and runs.is_complete(out)
    parameters, glued, prov = runs.read_run(out)
    assert parameters == {"a": 3, "x": 0.5, "label": "yo", "J0": 0.7, "fail": False, "sleep": 0.0}
    assert glued == {"product": 1.5, "label_twice": "yoyo", "j0_or_default": 0.7,
                     "claims_dir_seen": None, "force_seen": None,
                     "squares": [0, 1, 4]}  # the kernel saw no scorecard, no --force
    assert prov["overrides"] == {"a": 3, "label": "yo", "J0": 0.7} and prov["wall_time_s"] > 0
    assert {"rayint_lib", "git_commit", "packages", "started_utc"} <= set(prov)
    assert "<html" in (out / "notebook.html").read_text()[:2000].lower()
    assert not (tmp_path / "scorecard").exists()
    assert "product = 1.5" in capsys.readouterr().out


def test_failing_run_leaves_a_marked_failed_folder(tmp_path, capsys):
    assert cli.main(["run", str(TINY), "-p", "fail", "true", "--out", "r"]) == cli.RUN_FAILED
    assert sorted(os.listdir(tmp_path)) == ["r.failed"]
    failed = tmp_path / "r.failed"
    assert "tiny notebook asked to fail" in (failed / "FAILED.txt").read_text()
    assert not runs.is_complete(failed)
    assert "run failed" in capsys.readouterr().err


def _start_slow_run(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", REGISTER, "run", str(TINY), "-p", "sleep", "30",
                             "--out", "r"], cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 40
    while not list(tmp_path.glob(".r.tmp-*/notebook.ipynb")):  # papermill has started
        assert time.time() < deadline and proc.poll() is None, "run did not start"
        time.sleep(0.2)
    time.sleep(2.0)  # well inside the 30 s cell
    return proc


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_run_leaves_no_complete_looking_folder(sig, tmp_path):
    proc = _start_slow_run(tmp_path)
    if sig == signal.SIGKILL:
        os.killpg(proc.pid, sig)  # the whole group: the run and its kernel
    else:
        proc.send_signal(sig)
    rc = proc.wait(timeout=30)
    assert not (tmp_path / "r").exists()
    if sig == signal.SIGTERM:
        assert rc == 143
        assert "SIGTERM" in (tmp_path / "r.failed" / "FAILED.txt").read_text()
        assert not list(tmp_path.glob(".r.tmp-*"))
    else:
        leftovers = list(tmp_path.glob(".r.tmp-*"))
        assert len(leftovers) == 1 and (leftovers[0] / runs.RUNNING).exists()
        assert not runs.is_complete(leftovers[0])


# --- sweeps -------------------------------------------------------------------------------

def _summary(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_sweep_runs_the_grid_and_resumes_only_what_is_missing(tmp_path, capsys):
    argv = ["sweep", str(TINY), "-p", "a", "1,2,3", "-p", "label", "q", "--out", "s"]
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert "3 runs, 0 already finished, 3 to run" in err
    rows = _summary(tmp_path / "s" / "summary.csv")
    assert [(r["a"], r["label"], r["product"], r["status"]) for r in rows] == [
        ("1", "q", "0.5", "complete"), ("2", "q", "1.0", "complete"), ("3", "q", "1.5", "complete")]
    folders = {r["run"] for r in rows}
    mtimes = {f: (tmp_path / "s" / f / "provenance.json").stat().st_mtime_ns for f in folders}
    # lose two results, resume with two local processes: only those two run again
    lost = sorted(folders)[1:]
    for f in lost:
        for p in (tmp_path / "s" / f).iterdir():
            p.unlink()
        (tmp_path / "s" / f).rmdir()
    assert cli.main(argv + ["--jobs", "2"]) == 0
    assert "3 runs, 1 already finished, 2 to run (2 local processes)" in capsys.readouterr().err
    kept = sorted(folders)[0]
    assert (tmp_path / "s" / kept / "provenance.json").stat().st_mtime_ns == mtimes[kept]
    assert all(runs.is_complete(tmp_path / "s" / f) for f in folders)
    assert len(_summary(tmp_path / "s" / "summary.csv")) == 3
    assert cli.main(argv) == 0  # nothing left to do
    assert "3 already finished, 0 to run" in capsys.readouterr().err


def test_sweep_on_a_local_dask_cluster(tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1", dashboard_address=None) as cl:
        rc = cli.main(["sweep", str(TINY), "-p", "a", "2", "-p", "fail", "false,true",
                       "--out", "d", "--scheduler", cl.scheduler_address])
    assert rc == cli.RUN_FAILED  # one of the two runs fails on purpose
    rows = {r["fail"]: r for r in _summary(tmp_path / "d" / "summary.csv")}
    assert rows["False"]["status"] == "complete" and rows["False"]["product"] == "1.0"
    assert rows["False"]["claims_dir_seen"] == ""  # None: the kernel saw no scorecard
    assert rows["True"]["status"] == "failed" and "asked to fail" in rows["True"]["error"]
    done = tmp_path / "d" / rows["False"]["run"]
    assert runs.is_complete(done)
    assert (tmp_path / "d" / (rows["True"]["run"] + ".failed") / "FAILED.txt").exists()


def _papermill_glued(src, parameters, out):
    nb = pm.execute_notebook(str(src), str(out), parameters=parameters, cwd=str(src.parent),
                             kernel_name="python3", progress_bar=False)
    return json.dumps(glued_values(nb), sort_keys=True, default=str)  # NaN-safe comparison


def test_rayint_run_equals_plain_papermill_tiny(tmp_path, monkeypatch):
    monkeypatch.delenv("RAYINT_CLAIMS_DIR")
    assert cli.main(["run", str(TINY), "-p", "a", "4", "-p", "x", "0.25", "--out", "r"]) == 0
    ours = json.loads((tmp_path / "r" / "glued.json").read_text())
    plain = _papermill_glued(TINY, {"a": 4, "x": 0.25}, tmp_path / "plain.ipynb")
    assert ours["product"] == 1.0 and json.dumps(ours, sort_keys=True) == plain


@pytest.mark.slow
def test_rayint_run_equals_plain_papermill(tmp_path, monkeypatch):
    """The real notebook with small parameters: same glued values both ways. The two
    executions run side by side (rayint in a subprocess) to halve the wall time."""
    monkeypatch.delenv("RAYINT_CLAIMS_DIR")
    src = notebook_path("01_minimal_bandit")
    small = {"n_runs": 20, "max_samples": 2000, "n_trajectories": 3, "seed": 1}
    small = {k: v for k, v in small.items() if k in params.read_parameters(src)}
    argv = [sys.executable, "-m", "rayint_lib.cli.main", "run", "01_minimal_bandit", "--out", "r"]
    for k, v in small.items():
        argv += ["-p", k, str(v)]
    proc = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    plain = _papermill_glued(src, small, tmp_path / "plain.ipynb")
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()[-2000:]
    ours = json.loads((tmp_path / "r" / "glued.json").read_text())
    assert len(ours) > 0 and json.dumps(ours, sort_keys=True) == plain


def test_provenance_record_and_page_footer(tmp_path):
    from rayint_lib.book.provenance import Provenance

    prov = Provenance(seed=7, K=2)
    rec = prov.write(tmp_path / "p.json", notebook="x")
    assert json.loads((tmp_path / "p.json").read_text()) == json.loads(json.dumps(rec))
    assert rec["seed"] == 7 and rec["parameters"] == {"K": 2} and rec["notebook"] == "x"
    assert rec["rayint_lib"] and rec["wall_time_s"] >= 0
    md = prov.markdown()
    assert "seed 7" in md and f"rayint_lib {rec['rayint_lib']}" in md and "commit" in md


def test_interrupted_parallel_sweep_marks_its_runs_failed(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", REGISTER, "sweep", str(TINY), "-p", "a", "1,2,3",
                             "-p", "sleep", "30", "--jobs", "2", "--out", "s"], cwd=tmp_path,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while len(list(tmp_path.glob("s/.*.tmp-*/notebook.ipynb"))) < 2:  # both runs executing
        assert time.time() < deadline and proc.poll() is None, "runs did not start"
        time.sleep(0.2)
    time.sleep(2.0)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    names = sorted(p.name for p in (tmp_path / "s").iterdir())
    # the two running runs are marked failed, the third never started, nothing looks complete
    assert len(names) == 3 and "sweep.json" in names, names
    assert sorted(n.split("_")[0] for n in names if n.endswith(".failed")) == ["a=1", "a=2"]
    assert not any(runs.is_complete(p) for p in (tmp_path / "s").iterdir())


def test_help_of_a_value_written_over_several_lines():
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell('xs = ["a",\n      "b"]  # two names\ny = 3  # three\n')
    cell.metadata["tags"] = ["parameters"]
    nb.cells.append(cell)
    ps = params.read_parameters(nb)
    assert ps["xs"].default == ["a", "b"] and ps["xs"].help == "two names"
    assert ps["y"].help == "three"

"""The end of every chapter page: the one command that re-runs it with other parameters."""
from __future__ import annotations

import re
import shlex

import pytest

from rayint_lib.book.notebooks import chapter_names, notebook_path
from rayint_lib.book.page import Page
from rayint_lib.chapters import chapter
from rayint_lib.cli import params


@pytest.mark.parametrize("name", chapter_names())
def test_rerun_command_names_a_real_parameter_and_a_valid_value(name):
    declared = params.read_parameters(notebook_path(name))
    example = getattr(chapter(name), "RERUN_EXAMPLE", None)    # as chapters.start gives it
    text = Page(name, {k: p.default for k, p in declared.items()}, example).rerun()
    command = re.search(r"`(rayint run [^`]+)`", text).group(1)
    argv = shlex.split(command)
    assert argv[:3] == ["rayint", "run", name] and argv[3] == "-p"
    option, value = argv[4], argv[5]
    assert option in declared
    overrides, _, _ = params.resolve(notebook_path(name), {option: params.Text(value)})
    assert overrides[option] != declared[option].default  # other parameters, not the same run
    assert f"shows its {len(declared)} parameters" in text
    assert re.search(r"This execution took \d+ s\.", text)


def test_rerun_without_a_seed_uses_the_first_parameter():
    text = Page("01_minimal_bandit", {"K": [2, 4], "n": 2}).rerun()
    assert "`rayint run 01_minimal_bandit -p K '[2,4]'`" in text


@pytest.mark.book
def test_every_built_chapter_page_ends_with_its_rerun_command():
    import os
    from pathlib import Path

    html = Path(__file__).resolve().parents[2] / "_build" / "html" / "book"
    if not html.is_dir():
        if os.environ.get("RAYINT_REQUIRE_BOOK"):
            pytest.fail("the book is not built: run `make book`")
        pytest.skip("the book is not built (make book)")
    for name in chapter_names():
        text = re.sub(r"<[^>]+>", "", (html / f"{name}.html").read_text())   # the words only
        assert "Re-run this page" in text and f"rayint run {name} -p " in text, name
        assert re.search(r"This execution took \d+ s\.", text), name


def test_provenance_records_the_commit_at_the_start(monkeypatch):
    """A run records the commit of the code it started with, not one committed while it ran."""
    from rayint_lib.book import provenance

    monkeypatch.setattr(provenance, "git_commit", lambda path=None: "aaa1111")
    record = provenance.Provenance(seed=0)
    monkeypatch.setattr(provenance, "git_commit", lambda path=None: "bbb2222+dirty")
    assert record.summary()["git_commit"] == "aaa1111"

"""Cite and reuse (issue 21): CITATION.cff, the licence files and statements."""
from __future__ import annotations

from pathlib import Path

import yaml

from rayint_lib import __version__

ROOT = Path(__file__).resolve().parents[2]


def test_citation_file_cites_the_book_as_software_and_the_paper_as_its_reference():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert {"message", "title", "authors"} <= set(cff) and cff["type"] == "software"
    assert cff["version"] == __version__  # the citation follows the library's version
    assert {"MIT", "CC-BY-4.0"} <= set(cff["license"])
    paper = cff["references"][0]
    assert [a["family-names"] for a in paper["authors"]] == ["Schaul", "Borsa", "Modayil",
                                                             "Pascanu"]
    assert paper["year"] == 2019 and "1904.11455" in paper["url"]
    assert any("1904.11455" in i["value"] for i in paper["identifiers"])


def test_licences_are_stated_where_a_reader_looks():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    readme = (ROOT / "README.md").read_text()
    intro = (ROOT / "book" / "intro.md").read_text()
    for text in (readme, intro):
        assert "MIT" in text and "CC BY 4.0" in text and "CITATION.cff" in text
    assert "## Third-party files" in readme


def test_every_shipped_third_party_log_has_its_source_and_licence():
    readme = (ROOT / "README.md").read_text()
    for folder in sorted((ROOT / "book" / "data" / "public_logs").glob("*/")):
        assert (folder / "SOURCE.md").is_file() and (folder / "LICENSE").is_file(), folder
        assert f"{folder.name}/" in readme, f"README's third-party list misses {folder.name}"

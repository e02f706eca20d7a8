"""The data behind a figure (issue 21): read back from the artists, saved by the kernel hook
during a book build, linked under each figure of the built book."""
from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from rayint_lib.book import figure_data, figure_links  # noqa: E402

HTML = Path(__file__).resolve().parents[2] / "_build" / "html"


@pytest.fixture
def fig():
    f, axes = plt.subplots(1, 3)
    a = axes[0]
    a.plot([1, 10, 100], [0.1, 0.5, 0.9], label="run A")
    a.plot([1, 100], [0.2, 0.3])
    a.fill_between([1, 10, 100], [0.0, 0.4, 0.8], [0.2, 0.6, 1.0], label="95% band")
    a.axhline(0.5, label="threshold")
    a.set(xscale="log", xlabel="samples (log)", ylabel="J(t)", title="K = 2")
    b = axes[1]
    b.bar(["on", "off"], [3.0, 1.0], label="median")
    b.errorbar([0, 1], [3.0, 1.0], yerr=[0.5, 0.25], label="95% interval", fmt="none")
    b.set(ylabel="samples to solve")
    c = axes[2]
    im = c.imshow(np.arange(6.0).reshape(2, 3), extent=(0, 3, 0, 2), origin="lower")
    f.colorbar(im, ax=c, label="J")
    yield f
    plt.close(f)


def test_every_artist_becomes_rows_named_after_the_axes(fig):
    df = figure_data.table(fig, "fig-x")
    assert set(df["figure"]) == {"fig-x"}
    assert list(df["panel"].unique()) == ["K = 2", "panel 2", "panel 3"]  # colour bar skipped
    run = df[df["series"] == "run A"]
    assert run["samples (log)"].tolist() == [1, 10, 100] and run["J(t)"].tolist() == [
        0.1, 0.5, 0.9]
    assert df[df["series"] == "line 1"]["J(t)"].tolist() == [0.2, 0.3]  # unlabelled: numbered
    band = df[df["series"] == "95% band"]
    assert band["J(t) (low)"].tolist() == [0.0, 0.4, 0.8]
    assert band["J(t) (high)"].tolist() == [0.2, 0.6, 1.0]
    # an axhline is given in data coordinates over the visible range, not as axes fractions
    thr = df[df["series"] == "threshold"]
    assert thr["J(t)"].tolist() == [0.5, 0.5] and thr["samples (log)"].min() < 1.5
    bars = df[df["series"] == "median"]
    assert bars["samples to solve"].tolist() == [3.0, 1.0]
    assert bars["x (tick)"].tolist() == ["on", "off"]  # categories keep their names
    err = df[df["series"] == "95% interval"]
    assert err["samples to solve (low)"].tolist() == [2.5, 0.75]
    assert err["samples to solve (high)"].tolist() == [3.5, 1.25]
    cells = df[df["kind"] == "cell"].sort_values("value")
    assert cells["value"].tolist() == list(np.arange(6.0))
    assert cells[["x", "y"]].iloc[0].tolist() == [0.5, 0.5]  # origin lower: row 0 at bottom
    assert cells[["x", "y"]].iloc[5].tolist() == [2.5, 1.5]
    assert figure_data.summary(df) == f"3 panels, 7 series, {len(df)} rows"


def test_a_chapter_figure_has_every_legend_entry_and_line():
    from rayint_lib.chapters import factored_objectives as ch
    from rayint_lib.chapters import factored_objectives_figures as figs

    f = figs.figure6(ch.validate())
    try:
        df = figure_data.table(f, "fig-02-coupling")
        for ax in f.axes:
            legend = ax.get_legend()
            labels = {t.get_text() for t in legend.get_texts()} if legend else set()
            assert labels <= set(df["series"]), labels - set(df["series"])
            assert len(df[df["kind"] == "line"].groupby(["panel", "series"])) >= len(
                [ln for ln in ax.get_lines() if len(ln.get_xdata())])
    finally:
        plt.close(f)


def _execute(tmp_path, monkeypatch, cells, env_claims):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src, metadata=meta) for src, meta in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, tmp_path / "demo.ipynb")
    if env_claims:
        monkeypatch.setenv("RAYINT_CLAIMS_DIR", str(tmp_path / "_build" / "claims"))
    else:
        monkeypatch.delenv("RAYINT_CLAIMS_DIR", raising=False)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
    import nbclient

    nbclient.NotebookClient(nb, resources={"metadata": {"path": str(tmp_path)}},
                            kernel_name="python3").execute()
    return nb


CELLS = [
    ("from rayint_lib.book.page import Page\npage = Page('demo', {})", {}),
    ("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
     "ax.plot([1, 2, 3], [4, 5, 6], label='a')\nax.set_xlabel('t (s)');",
     {"mystnb": {"figure": {"name": "fig-demo", "caption": "Demo."}}}),
    ("fig, ax = plt.subplots()\nax.bar([1, 2], [3, 4])\nplt.close(fig)\nfig",
     {"mystnb": {"figure": {"name": "fig-bars", "caption": "Bars."}}}),
    ("fig, ax = plt.subplots()\nax.plot([0, 1]);", {}),  # no figure name: no data file
]


def test_a_book_build_saves_each_named_figure_and_adds_no_output(tmp_path, monkeypatch):
    nb = _execute(tmp_path, monkeypatch, CELLS, env_claims=True)
    folder = tmp_path / "_build" / "figure-data"
    assert sorted(p.name for p in folder.iterdir()) == ["fig-bars.csv", "fig-demo.csv"]
    demo = pd.read_csv(folder / "fig-demo.csv")
    assert demo["t (s)"].tolist() == [1, 2, 3] and set(demo["series"]) == {"a"}
    assert pd.read_csv(folder / "fig-bars.csv")["y"].tolist() == [3, 4]
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert figure_links.MIME not in out.get("data", {})


def test_outside_a_book_build_nothing_is_written(tmp_path, monkeypatch):
    _execute(tmp_path, monkeypatch, CELLS, env_claims=False)
    assert not (tmp_path / "_build").exists()


# --- the built book ------------------------------------------------------------------------

def _figures(page: Path) -> list[tuple[str, str, str]]:
    """(figure id, href of its data link, summary) for every figure of a built page."""
    html = page.read_text()
    out = []
    for m in re.finditer(r'<figure[^>]*id="([^"]+)"(.*?)</figure>', html, re.S):
        link = re.search(r'class="figure-data">Data: <a [^>]*href="([^"]+)".*?</a> \(([^;]+);',
                         m.group(2), re.S)
        out.append((m.group(1), link.group(1) if link else "", link.group(2) if link else ""))
    return out


@pytest.mark.book
def test_every_figure_of_the_built_book_links_its_data():
    import os

    if not (HTML / "index.html").exists():
        if os.environ.get("RAYINT_REQUIRE_BOOK"):
            pytest.fail("the book is not built: run `make book`")
        pytest.skip("the book is not built (make book)")
    pages = sorted((HTML / "book").glob("*.html")) + [HTML / "book" / "intro.html"]
    found = [(page, *f) for page in dict.fromkeys(pages) if page.exists()
             for f in _figures(page)]
    assert len(found) >= 30  # every chapter has figures, the front page one
    for page, name, href, summary in found:
        assert href, f"{page.name}: figure {name} has no data link"
        path = (page.parent / href).resolve()
        assert path.is_file() and path.name == f"{name}.csv", (page.name, name, href)
        df = pd.read_csv(path)
        assert set(df["figure"]) == {name}
        assert figure_data.summary(df) == summary, (name, summary)
        assert df["series"].notna().all() and len(df) > 0

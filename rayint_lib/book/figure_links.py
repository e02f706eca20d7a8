"""The data under every figure of the book (issue 21), kernel side: while the book is built,
each figure a page displays is saved as a tidy CSV (:func:`rayint_lib.book.figure_data.table`)
named after its cell's figure name (``mystnb.figure.name``: ``fig-03-learning-curves.csv``).
The build then puts "Data: NAME.csv" under the figure (:mod:`rayint_lib.book.data_links`).

One mechanism for every chapter: :func:`watch`, called by every page when it starts, records
each matplotlib figure the kernel displays (the displayhook and ``plt.show`` both go through
IPython's display formatters) and, after each cell, finds the cell's figure name by its
source in the page's notebook file. Nothing happens outside a book build
(``RAYINT_CLAIMS_DIR`` unset: parameter runs, tests) or outside IPython.
"""
from __future__ import annotations

import os
from pathlib import Path

from IPython.core.formatters import BaseFormatter
from matplotlib.figure import Figure

from . import figure_data
from .notebooks import BOOK_DIR

MIME = "application/vnd.rayint.figure-seen"  # never in an output: the formatter returns None


def data_dir() -> Path | None:
    """Where the build writes figure data: ``RAYINT_FIGURE_DATA_DIR``, else ``figure-data``
    beside the scorecard's ``RAYINT_CLAIMS_DIR``; ``None`` when no book is being built."""
    if os.environ.get("RAYINT_FIGURE_DATA_DIR"):
        return Path(os.environ["RAYINT_FIGURE_DATA_DIR"])
    claims = os.environ.get("RAYINT_CLAIMS_DIR")
    return Path(claims).absolute().parent / "figure-data" if claims else None


def page_file(page: str) -> Path | None:
    """``PAGE.ipynb`` or ``PAGE.md`` (a MyST text notebook) in the working directory (where
    the build executes a page), else in ``book/``; ``None`` if there is none."""
    return next((folder / f"{page}{ext}" for folder in (Path.cwd(), BOOK_DIR)
                 for ext in (".ipynb", ".md") if (folder / f"{page}{ext}").is_file()), None)


def figure_cells(path: Path) -> list[tuple[str, str]]:
    """``(source, figure name)`` of every code cell of ``path`` with ``mystnb.figure.name``."""
    import nbformat

    text = path.read_text()
    if path.suffix == ".md":
        from myst_nb.core.read import read_myst_markdown_notebook

        nb = read_myst_markdown_notebook(text)
    else:
        nb = nbformat.reads(text, as_version=4)
    return [(c.source, c.metadata["mystnb"]["figure"]["name"]) for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("mystnb", {}).get("figure", {}).get("name")]


def write(figures: list, name: str, folder: Path) -> Path:
    """Save the data of ``figures`` (one cell's) as ``folder/NAME.csv``; returns the path."""
    import pandas as pd

    parts = [figure_data.table(fig, name) for fig in figures]
    df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    tmp = path.with_suffix(".csv.tmp")
    df.to_csv(tmp, index=False, float_format="%.8g")  # 8 significant digits
    os.replace(tmp, path)
    return path


class _Seen(BaseFormatter):
    """Records every Figure that IPython formats for display; adds no output."""

    format_type = MIME

    def __init__(self):
        super().__init__()  # no parent: a configuration change must not reset it
        self.figures: list = []

    def __call__(self, obj):
        if isinstance(obj, Figure) and all(f is not obj for f in self.figures):
            self.figures.append(obj)


class _Watcher:
    def __init__(self, ip, page: Path, folder: Path):
        self.ip, self.folder = ip, folder
        self.cells = figure_cells(page)
        for _, name in self.cells:  # no stale data from an earlier build
            (folder / f"{name}.csv").unlink(missing_ok=True)
        self.seen = _Seen()
        ip.display_formatter.formatters[MIME] = self.seen

    def after_cell(self, result):
        figures, self.seen.figures = self.seen.figures, []
        source = result.info.raw_cell if result.info is not None else None
        names = [name for src, name in self.cells if src.strip() == (source or "").strip()]
        if figures and names and result.error_in_exec is None:
            write(figures, names[0], self.folder)

    def stop(self):
        self.ip.events.unregister("post_run_cell", self.after_cell)
        self.ip.display_formatter.formatters.pop(MIME, None)


_watcher: _Watcher | None = None


def watch(page: str) -> bool:
    """Save and link the data of every figure this page shows (only in a book build, in
    IPython); returns whether it watches. A second call replaces the first."""
    global _watcher
    from IPython import get_ipython

    ip, folder, path = get_ipython(), data_dir(), page_file(page)
    if _watcher is not None:
        _watcher.stop()
        _watcher = None
    if ip is None or folder is None or path is None:
        return False
    _watcher = _Watcher(ip, path, folder)
    ip.events.register("post_run_cell", _watcher.after_cell)
    return True

"""The data under every figure of the book (issue 21), build side: a Sphinx extension that
puts "Data: NAME.csv (panels, series, rows)" under each figure whose data the page's kernel
saved (:mod:`rayint_lib.book.figure_links`) as a download link, so Sphinx copies the CSV
into the built site (``_downloads/``) and the link works offline from ``_build/html``.

Enabled in ``_config.yml`` (``sphinx.extra_extensions``).
"""
from __future__ import annotations

import os

import pandas as pd
from docutils import nodes
from sphinx import addnodes

from . import figure_data, figure_links


def add_links(app, doctree):
    """Under every named figure with a saved CSV: a paragraph with its download link."""
    folder = figure_links.data_dir()
    if folder is None:
        return
    doc_dir = os.path.dirname(app.env.doc2path(app.env.docname))
    for figure in doctree.findall(nodes.figure):
        for name in figure["names"]:
            path = folder / f"{name}.csv"
            if not path.is_file():
                continue
            target = os.path.relpath(path, doc_dir).replace(os.sep, "/")
            ref = addnodes.download_reference("", "", nodes.literal(text=path.name),
                                              reftarget=target, refdoc=app.env.docname,
                                              refexplicit=True, reftype="download")
            summary = figure_data.summary(pd.read_csv(path))
            figure += nodes.paragraph("", "", nodes.Text("Data: "), ref,
                                      nodes.Text(f" ({summary}; one row per plotted point)"),
                                      classes=["figure-data"])


def setup(app):
    # before Sphinx's download collector (priority 500), which copies what the links name
    app.connect("doctree-read", add_links, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

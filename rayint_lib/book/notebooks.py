"""Reading notebooks: their parameters cell and the values they glued (MyST-NB ``glue``)."""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat

BOOK_DIR = Path(__file__).resolve().parents[2] / "book"


def chapter_names() -> list[str]:
    """Short names of the chapter notebooks, ``book/NN_*.ipynb``, in order."""
    return sorted(q.stem for q in BOOK_DIR.glob("[0-9]*.ipynb"))


def notebook_path(name_or_path) -> Path:
    """``book/NN_name.ipynb`` from a short name (``01_minimal_bandit``) or a path."""
    p = Path(name_or_path)
    if p.suffix == ".ipynb" and p.exists():
        return p
    candidate = BOOK_DIR / f"{p.stem}.ipynb"
    if candidate.exists():
        return candidate
    raise ValueError(f"unknown notebook {str(name_or_path)!r}; known: {chapter_names()}")


def glued_values(nb) -> dict:
    """``{name: value}`` for every ``glue(name, value)`` output of an executed notebook.

    Values come back from their ``text/plain`` form (numbers, strings, lists via
    ``ast.literal_eval``; anything else as the plain text).
    """
    if not isinstance(nb, nbformat.NotebookNode):
        nb = nbformat.read(str(nb), as_version=4)
    out = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            meta = o.get("metadata", {}).get("scrapbook")
            if not meta:
                continue
            prefix = meta.get("mime_prefix", "")
            text = o.get("data", {}).get(prefix + "text/plain")
            if text is None:
                out[meta["name"]] = None
                continue
            try:
                out[meta["name"]] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                out[meta["name"]] = text.strip("'\"")
    return out

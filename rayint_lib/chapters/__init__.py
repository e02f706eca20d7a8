"""One module per notebook of the book: its parameters and validator, its computations.

A notebook ``book/NN_name.ipynb`` is backed by ``rayint_lib.chapters.name`` (the name
without its number), which defines ``NOTEBOOK = "NN_name"``, ``PARAMS`` (its parameters,
declared once with :func:`rayint_lib.model.params.declare`; the notebook's ``parameters`` cell
equals it) and ``validate(**parameters)``. ``validate`` checks the values against ``PARAMS``
and what a declaration cannot say (combinations, memory and time estimates), raising
``ValueError`` naming the parameter and its allowed range before any work starts; the
notebook's set-up line and ``rayint run`` both call it. Its claims and findings are data:
``claims/NN_name.yaml`` beside this file, read by :func:`claims_of`.
"""
from __future__ import annotations

from importlib import import_module
from pathlib import Path
from types import ModuleType

from ..book import plotting
from ..book.claims import definitions
from ..book.page import Page


def module_name(notebook: str) -> str:
    """``"01_minimal_bandit"`` -> ``"minimal_bandit"`` (the chapter module's name)."""
    number, _, name = notebook.partition("_")
    if not name or not number[:2].isdigit():
        raise ValueError(f"unknown notebook {notebook!r}: chapter notebooks are named NN_name")
    return name


CLAIMS_DIR = Path(__file__).with_name("claims")


def claims_of(notebook: str) -> tuple[dict, dict]:
    """``(CLAIMS, FINDINGS)`` of a chapter: its claim definitions, data in
    ``claims/<notebook>.yaml`` (:func:`rayint_lib.book.claims.definitions`)."""
    return definitions(CLAIMS_DIR / f"{notebook}.yaml")


def chapter(notebook: str) -> ModuleType:
    """The chapter module of ``notebook``; ``ValueError`` if there is none."""
    try:
        module = import_module(f"{__name__}.{module_name(notebook)}")
    except ModuleNotFoundError as err:
        if err.name != f"{__name__}.{module_name(notebook)}":
            raise
        raise ValueError(f"notebook {notebook!r} has no chapter module") from None
    if getattr(module, "NOTEBOOK", None) != notebook:
        raise ValueError(f"notebook {notebook!r} has no chapter module")
    return module


def declaration(notebook: str):
    """The :class:`~rayint_lib.model.params.Declaration` of ``notebook``'s parameters."""
    return chapter(notebook).PARAMS


def validate(notebook: str, **parameters):
    """Validate the parameters of ``notebook``; returns what its validator returns."""
    return chapter(notebook).validate(**parameters)


def start(notebook: str, namespace: dict):
    """Set up a chapter page: validate the parameters cell's values (taken from
    ``namespace``, the notebook's ``globals()``), start provenance, set the plotting style.

    Returns ``(cfg, page)``: what the chapter's validator returns, and the
    :class:`~rayint_lib.book.page.Page` that glues numbers and scores claims.
    """
    module = chapter(notebook)
    parameters = {name: namespace[name] for name in module.PARAMS if name in namespace}
    cfg = module.validate(**parameters)
    plotting.set_style()
    return cfg, Page(notebook, parameters, getattr(module, "RERUN_EXAMPLE", None))

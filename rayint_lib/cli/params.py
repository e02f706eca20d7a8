"""A notebook's parameters: declared by its chapter module, parsed, checked, validated.

Each chapter declares its parameters once (``PARAMS``, :mod:`rayint_lib.model.params`): the
type, range and meaning of each. Command-line text is parsed to the declared type here; the
chapter's validator (:func:`rayint_lib.chapters.validate`) checks ranges, combinations and the
memory and time estimates, which are collected for sweeps. The notebook's ``parameters`` cell
(one line ``name = literal  # meaning`` per parameter) equals the declaration (tested); it is
read here for ``rayint list`` of a notebook without a chapter module. Everything here runs
before any kernel starts.
"""
from __future__ import annotations

import ast
import difflib
import io
import math
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .. import chapters
from ..model import config
from ..model.config import clip, short
from ..model.params import Declaration, Param

_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}
_NONE = {"none", "null"}
MAX_NOTEBOOK_BYTES = 64 * 2**20      # a notebook file larger than this is refused unread
_PARSE_ERRORS = (ValueError, SyntaxError, TypeError, RecursionError, MemoryError)


class Text(str):
    """A value as typed on the command line: parsed to the parameter's type by :func:`resolve`
    (plain values, e.g. from a YAML file, are only checked by :func:`coerce`)."""


class ParameterError(ValueError):
    """A bad notebook name, parameter name or value (the message says which and why)."""


@dataclass(frozen=True)
class Parameter:
    """One line ``name = default  # help`` of a parameters cell."""

    name: str
    default: object
    help: str = ""


@dataclass(frozen=True)
class Cost:
    """A run's estimates from its validator: peak memory (the largest part) and wall time
    (the parts in turn)."""

    bytes: float
    seconds: float


def _read_notebook(path) -> nbformat.NotebookNode:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES or not path.is_file():
            raise ParameterError(f"notebook {clip(path)} is not a regular file of at "
                                 f"most {MAX_NOTEBOOK_BYTES // 2**20} MiB")
        data = path.read_bytes()
    except OSError as err:
        raise ParameterError(f"cannot read notebook {clip(path)}: {err.strerror}") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        if not all(isinstance(c, dict) and isinstance(c.get("source"), str) for c in nb.cells):
            raise ValueError("its cells are not notebook cells")
        return nb
    except Exception as err:  # noqa: BLE001 - nbformat raises many kinds for a bad file
        raise ParameterError(f"notebook {clip(path)} is not a Jupyter notebook (JSON, "
                             f"UTF-8): {clip(err)}") from None


def parameters_cell(nb) -> nbformat.NotebookNode | None:
    """The first code cell tagged ``parameters`` of notebook ``nb`` (a path or a node)."""
    if not isinstance(nb, nbformat.NotebookNode):
        nb = _read_notebook(nb)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell
    return None


def read_parameters(nb) -> dict[str, Parameter]:
    """``{name: Parameter}`` from the parameters cell of ``nb`` (empty if it has none); a
    parameter's help is the comment on its line (any line of a value over several lines)."""
    cell = parameters_cell(nb)
    if cell is None:
        return {}
    source = cell.source
    comments = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                comments.setdefault(tok.start[0], tok.string.lstrip("#").strip())
        body = ast.parse(source).body
    except (tokenize.TokenError, *_PARSE_ERRORS) as err:
        raise ParameterError(f"the parameters cell is not Python: {clip(err)}") from None
    out = {}
    for node in body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        try:
            default = ast.literal_eval(node.value)
        except _PARSE_ERRORS as err:
            raise ParameterError(f"parameter {name!r}: default is not a literal "
                                 f"({clip(err)})") from None
        if isinstance(default, tuple):
            default = list(default)
        # the comment of a value written over several lines may sit on any of them
        lines = range(node.lineno, (node.end_lineno or node.lineno) + 1)
        out[name] = Parameter(name, default, next((comments[i] for i in lines if i in comments),
                                                  ""))
    return out


def unknown_name_message(name, known, what="parameter", where="") -> str:
    """``unknown parameter 'x'...; did you mean 'y'?`` with the list of known names."""
    name = str(name)[:200]
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {what} {short(name)}{where}{hint} Known: {', '.join(known) or '(none)'}"


def _bad(p: Param, value, why=""):
    return ParameterError(f"parameter {p.name!r} expects {p.type_name} (default "
                          f"{short(p.default)}); got {short(value)}{why}")


def _as_int(p, value):
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(p, value)
    return value


def _number(p: Param, kind, t: str):
    try:
        if kind is float:
            return float(t)
        try:
            return int(t)
        except ValueError:
            return _as_int(p, float(t))  # 1e5 -> 100000
    except ValueError:
        raise _bad(p, t) from None


def parse_text(p: Param, text: str):
    """The value of command-line text ``text`` for parameter ``p`` (its declared type)."""
    t = text.strip()
    if p.optional and t.lower() in _NONE:
        return None
    if p.kind is str:
        if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
            return t[1:-1]
        return text
    if p.kind is bool:
        if t.lower() in _TRUE:
            return True
        if t.lower() in _FALSE:
            return False
        raise _bad(p, text, " (use true or false)")
    if p.kind is list:
        try:
            value = ast.literal_eval(t if t.startswith("[") else f"[{t}]")
        except _PARSE_ERRORS:
            if p.item is not str or "[" in t.strip("[]") or "'" in t or '"' in t:
                raise _bad(p, text) from None
            value = [v.strip() for v in t.strip("[]").split(",")]  # [a, b] for names
        return coerce(p, value)
    return _number(p, p.kind, t)


def coerce(p: Param, value):
    """An already typed ``value`` (from a YAML file or a parsed list) in ``p``'s type where
    that loses nothing (``1e5`` for an int, a tuple for a list); ranges are the validator's."""
    if value is None:
        if p.optional:
            return None
        raise _bad(p, value)
    if p.kind is list:
        if not isinstance(value, (list, tuple)):
            raise _bad(p, value)
        return [_as_int(p, v) if p.item is int and isinstance(v, float) else v for v in value]
    if p.kind is int and isinstance(value, float):
        return _as_int(p, value)
    return value


def check_notebook(nb_path):
    """Refuse a notebook that is not JSON, or whose parameters cell names other parameters
    than its chapter declares (it would fail in the kernel)."""
    cell, declared = read_parameters(nb_path), declaration(nb_path)
    if list(cell) != list(declared):
        raise ParameterError(f"notebook {clip(nb_path)}: its parameters cell does not "
                             f"declare {', '.join(declared)} (the chapter's parameters)")


def declaration(nb_path) -> Declaration:
    """The declared parameters of notebook ``nb_path`` (its chapter module's ``PARAMS``)."""
    try:
        return chapters.declaration(Path(nb_path).stem)
    except ValueError as err:
        raise ParameterError(str(err)) from None


def resolve(nb_path, overrides: dict) -> tuple[dict, dict, Cost]:
    """Typed ``(overrides, all_parameters, cost)`` for notebook ``nb_path``, validated.

    ``overrides`` maps names to command-line :class:`Text` or typed values. Raises
    :class:`ParameterError` for an unknown name (with the closest valid one), a value that does
    not parse to the parameter's type, or one the notebook's validator rejects.
    """
    nb_path = Path(nb_path)
    declared = declaration(nb_path)
    where = f" for notebook {nb_path.stem}"
    typed = {}
    for name, value in overrides.items():
        if name not in declared:
            raise ParameterError(unknown_name_message(name, list(declared), where=where))
        p = declared[name]
        typed[name] = parse_text(p, value) if isinstance(value, Text) else coerce(p, value)
    full = {**declared.defaults, **typed}
    return typed, full, validate(nb_path.stem, full)


def validate(short_name: str, full: dict) -> Cost:
    """Run the notebook's validator (its chapter module's ``validate``) on all its parameters;
    returns the estimates it made."""
    try:
        with config.estimates() as seen:
            chapters.validate(short_name, **full)
    except (ValueError, ArithmeticError, RecursionError, MemoryError) as err:
        raise ParameterError(f"{short_name}: {short_message(err)}") from None
    except TypeError as err:  # the validator and the declaration disagree: a project bug
        raise ParameterError(f"{short_name}: its validator does not match its declaration "
                             f"({short_message(err)})") from None
    return Cost(max(seen["bytes"], default=0.0), sum(seen["seconds"]))


def short_message(err, limit=600) -> str:
    """An error's message, cut to ``limit`` characters."""
    text = str(err)
    return text if len(text) <= limit else text[:limit - 3] + "..."

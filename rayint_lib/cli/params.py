"""A notebook's parameters: read from its ``parameters`` cell, parsed, checked, validated.

The cell tagged ``parameters`` holds one line per parameter, ``name = literal  # meaning``.
The default literal gives the type (int, float, str, bool, list); a ``None`` default accepts
``None`` or any simple literal and leaves the check to the notebook's validator
(:func:`rayint_lib.chapters.validate`). Everything here runs before any kernel starts.
"""
from __future__ import annotations

import ast
import difflib
import io
import math
import tokenize
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .. import chapters

TYPE_NAMES = {bool: "bool", int: "int", float: "float", str: "str", list: "list", type(None): "any"}
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}
_NONE = {"none", "null"}


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

    @property
    def type(self) -> type:
        return type(self.default)

    @property
    def type_name(self) -> str:
        return TYPE_NAMES.get(self.type, self.type.__name__)


def parameters_cell(nb) -> nbformat.NotebookNode | None:
    """The first code cell tagged ``parameters`` of notebook ``nb`` (a path or a node)."""
    if not isinstance(nb, nbformat.NotebookNode):
        nb = nbformat.read(str(nb), as_version=4)
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
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments.setdefault(tok.start[0], tok.string.lstrip("#").strip())
    out = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        try:
            default = ast.literal_eval(node.value)
        except ValueError as err:
            raise ParameterError(f"parameter {name!r}: default is not a literal ({err})") from None
        if isinstance(default, tuple):
            default = list(default)
        # the comment of a value written over several lines may sit on any of them
        lines = range(node.lineno, (node.end_lineno or node.lineno) + 1)
        out[name] = Parameter(name, default, next((comments[i] for i in lines if i in comments),
                                                  ""))
    return out


def unknown_name_message(name, known, what="parameter", where="") -> str:
    """``unknown parameter 'x'...; did you mean 'y'?`` with the list of known names."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {what} {name!r}{where}{hint} Known: {', '.join(known) or '(none)'}"


def _bad(p: Parameter, value, why=""):
    return ParameterError(f"parameter {p.name!r} expects {p.type_name} (default {p.default!r}); "
                          f"got {value!r}{why}")


def _as_int(p, value):
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(p, value)
    return value


def parse_text(p: Parameter, text: str):
    """The value of command-line text ``text`` for parameter ``p`` (typed as its default)."""
    t = text.strip()
    if p.type is str:
        if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
            return t[1:-1]
        return text
    if p.type is bool:
        if t.lower() in _TRUE:
            return True
        if t.lower() in _FALSE:
            return False
        raise _bad(p, text, " (use true or false)")
    if p.type is int:
        try:
            return int(t)
        except ValueError:
            try:
                return _as_int(p, float(t))  # 1e5 -> 100000
            except ValueError:
                raise _bad(p, text) from None
    if p.type is float:
        try:
            return float(t)
        except ValueError:
            raise _bad(p, text) from None
    if p.type is list:
        try:
            value = ast.literal_eval(t if t.startswith("[") else f"[{t}]")
        except (ValueError, SyntaxError):
            raise _bad(p, text) from None
        return coerce(p, value)
    # None default: None or any literal; anything else is a string
    if t.lower() in _NONE:
        return None
    try:
        return ast.literal_eval(t)
    except (ValueError, SyntaxError):
        return text


def coerce(p: Parameter, value):
    """Check an already typed ``value`` (from a YAML file) against ``p``'s type."""
    if p.type is type(None):
        if value is None or isinstance(value, (bool, int, float, str, list)):
            return value
        raise _bad(p, value)
    if p.type is int:
        return _as_int(p, value)
    if p.type is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad(p, value)
        return float(value)
    if p.type is list:
        if not isinstance(value, (list, tuple)):
            raise _bad(p, value)
        return list(value)
    if not isinstance(value, p.type):
        raise _bad(p, value)
    return value


def resolve(nb_path, overrides: dict) -> tuple[dict, dict]:
    """Typed ``(overrides, all_parameters)`` for notebook ``nb_path``, validated.

    ``overrides`` maps names to command-line :class:`Text` or typed values. Raises
    :class:`ParameterError` for an unknown name (with the closest valid one), a value that does
    not parse to the parameter's type, or one the notebook's validator rejects.
    """
    nb_path = Path(nb_path)
    declared = read_parameters(nb_path)
    where = f" for notebook {nb_path.stem}"
    if not declared and overrides:
        raise ParameterError(f"notebook {nb_path.stem} has no cell tagged 'parameters'")
    typed = {}
    for name, value in overrides.items():
        if name not in declared:
            raise ParameterError(unknown_name_message(name, list(declared), where=where))
        p = declared[name]
        typed[name] = parse_text(p, value) if isinstance(value, Text) else coerce(p, value)
    full = {name: p.default for name, p in declared.items()}
    full.update(typed)
    validate(nb_path.stem, full)
    return typed, full


def validate(short_name: str, full: dict):
    """Run the notebook's validator (its chapter module's ``validate``) on all its parameters."""
    try:
        return chapters.validate(short_name, **full)
    except ValueError as err:
        raise ParameterError(f"{short_name}: {err}") from None
    except TypeError as err:  # the validator and the parameters cell disagree: a project bug
        raise ParameterError(f"{short_name}: its validator does not match its parameters cell "
                             f"({err})") from None

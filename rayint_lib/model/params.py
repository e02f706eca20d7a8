"""Parameters declared once: name, default, type, allowed range or choices, meaning.

Each chapter module declares its parameters with :func:`declare` (a :class:`Declaration` of
:class:`Param`). From that one declaration come the notebook's ``parameters`` cell (a test
asserts they are equal), the type and range checks of the chapter's validator and of the
``rayint`` command, and ``rayint list``. What a declaration cannot say (checks across
parameters, memory and time estimates) stays in the chapter's ``validate``.
"""
from __future__ import annotations

from dataclasses import dataclass, make_dataclass

from .config import check_choice, check_float, check_int, check_list, short

KINDS = (bool, int, float, str, list)
MAX_LIST = 64            # entries of a list parameter (a sweep axis of lists multiplies them)


@dataclass(frozen=True)
class Param:
    """One parameter: ``kind`` is ``int``, ``float``, ``str``, ``bool`` or ``list`` (of
    ``item``); ``low``/``high`` (open with ``low_open``/``high_open``) bound a number or each
    entry of a list; ``choices`` lists the allowed strings; ``optional``: ``None`` is allowed
    (a default of ``None`` implies it); ``may_be_empty``: a list may be ``[]``."""

    name: str
    default: object
    meaning: str
    kind: type = None
    item: type = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple | None = None
    optional: bool = False
    may_be_empty: bool = False

    def __post_init__(self):
        kind = self.kind or type(self.default)
        if kind is tuple:
            kind = list
        if kind not in KINDS:
            raise TypeError(f"parameter {self.name}: kind must be one of {KINDS}, got {kind}")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "optional", self.optional or self.default is None)
        if kind is list and self.item is None:
            object.__setattr__(self, "item", type(self.default[0]) if self.default else float)

    @property
    def type_name(self) -> str:
        name = f"list[{self.item.__name__}]" if self.kind is list else self.kind.__name__
        return f"{name} or None" if self.optional else name

    @property
    def allowed(self) -> str:
        """The allowed values in words (for ``rayint list`` and messages)."""
        if self.choices:
            return " | ".join(self.choices)
        if self.low is None and self.high is None:
            return ""
        left = "(" if self.low_open or self.low is None else "["
        right = ")" if self.high_open or self.high is None else "]"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        return f"{left}{lo}, {hi}{right}"

    def check(self, value):
        """The checked value (ints as ``int``, reals as ``float``, lists as ``list``);
        ``ValueError`` naming the parameter, the allowed range and a short prefix of the
        value."""
        if value is None and self.optional:
            return None
        if self.kind is list:
            if self.may_be_empty and isinstance(value, (list, tuple)) and not value:
                return []
            if isinstance(value, (list, tuple)) and len(value) > MAX_LIST:
                raise ValueError(f"{self.name} may have at most {MAX_LIST} entries; got "
                                 f"{len(value)}: {short(value)}")
            return check_list(self.name, value, self._check_one, kind=self.item)
        return self._check_one(self.name, value, self.kind)

    def _check_one(self, name, value, kind):
        if kind is int:
            return check_int(name, value, self.low, self.high)
        if kind is float:
            if self.low_open or self.high_open:
                return check_float(name, value, self.low, self.high, self.low_open,
                                   self.high_open)
            return check_float(name, value, self.low, self.high)
        if kind is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false, got {short(value)}")
            return value
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, got {short(value)}")
        return check_choice(name, value, self.choices) if self.choices else value


class Declaration(dict):
    """``{name: Param}`` of one chapter, in the order of its notebook's parameters cell."""

    @property
    def defaults(self) -> dict:
        return {name: p.default for name, p in self.items()}

    def check(self, values: dict) -> dict:
        """Every declared parameter, checked: ``values`` over the defaults. An unknown name
        is a ``ValueError`` that lists the known ones."""
        unknown = [k for k in values if k not in self]
        if unknown:
            raise ValueError(f"unknown parameter(s) {short(unknown)}; known: {', '.join(self)}")
        return {name: p.check(values.get(name, p.default)) for name, p in self.items()}

    def record(self, name: str, drop=()) -> type:
        """A frozen dataclass with one field per parameter (less ``drop``), in order: the
        base of a chapter's settings object. Build it with :meth:`values_of`."""
        types = {bool: bool, int: int, float: float, str: str, list: tuple}
        return make_dataclass(name, [(k, types[p.kind] | None if p.optional else types[p.kind])
                                     for k, p in self.items() if k not in drop], frozen=True)

    @staticmethod
    def values_of(checked: dict, record: type) -> dict:
        """The fields of ``record`` from ``checked`` values, lists as tuples (hashable)."""
        names = record.__dataclass_fields__
        return {k: tuple(v) if isinstance(v, list) else v for k, v in checked.items()
                if k in names}


def declare(*params: Param) -> Declaration:
    """The declaration of a chapter's parameters (names must be unique)."""
    out = Declaration((p.name, p) for p in params)
    if len(out) != len(params):
        raise ValueError("a parameter is declared twice")
    return out

"""One way to check printed algebra: a printed step next to its derivation (App. B, App. C).

A :class:`Check` holds a printed expression (our transcription of what the paper prints,
rebuilt as a sympy expression), the same quantity derived independently (from theta, or from
generic symbols), and whether the two are identical. :func:`same` decides identity: exactly
for rational functions (``sympy.cancel`` of the difference), by ``sympy.simplify`` otherwise
(square roots, undefined functions); it never compares strings.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


def same(a, b=0) -> bool:
    """``a == b`` identically (``same(e)`` asks ``e == 0``); matrices entry by entry.

    Rational functions of their symbols are decided exactly by ``sympy.cancel``; anything else
    (square roots of norms, undefined functions ``f_k``) by ``sympy.simplify`` when expanding
    alone does not give zero.
    """
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        a, b = sp.Matrix(a), sp.Matrix(b)
        return a.shape == b.shape and all(same(x, y) for x, y in zip(a, b))
    e = sp.expand(sp.sympify(a) - sp.sympify(b))
    if e == 0:
        return True
    if e.is_rational_function():
        return sp.cancel(sp.together(e)) == 0
    return sp.simplify(e) == 0


@dataclass(frozen=True)
class Check:
    """One printed step of the paper next to its independent derivation.

    ``printed`` and ``derived`` are sympy expressions (or matrices); ``holds`` is
    ``same(printed, derived)``; ``note`` says how we read the printed step.
    """

    id: str
    section: str
    step: str            # the printed step, in words or LaTeX
    printed: object
    derived: object
    holds: bool
    note: str = ""


def check(id: str, section: str, step: str, printed, derived, note: str = "",
          holds: bool | None = None) -> Check:
    """A :class:`Check`, deciding ``holds`` by :func:`same` unless it is given."""
    return Check(id, section, step, printed, derived,
                 same(printed, derived) if holds is None else bool(holds), note)


def find(checks, id: str) -> Check:
    """The check named ``id``; ``ValueError`` naming the known ids otherwise."""
    for c in checks:
        if c.id == id:
            return c
    raise ValueError(f"unknown check {id!r}; known: {[c.id for c in checks]}")


def all_hold(checks, ids) -> bool:
    """Whether every check named in ``ids`` holds."""
    return all(find(checks, i).holds for i in ids)


def tex(expr) -> str:
    """Compact LaTeX of an expression; a 3-vector with a common factor as ``c [a, b, c]^T``."""
    if isinstance(expr, sp.MatrixBase) and expr.shape == (3, 1):
        common = sp.factor(sp.gcd(list(expr)))
        if common not in (0, 1):
            inner = ", ".join(sp.latex(sp.factor(x / common)) for x in expr)
            return sp.latex(common) + r"\,\left[" + inner + r"\right]^{\top}"
    if isinstance(expr, sp.MatrixBase):
        return sp.latex(expr.applyfunc(sp.factor), mat_delim="[").replace("\n", " ")
    return sp.latex(sp.factor(expr)).replace("\n", " ")


def broken(latex: str, width=70) -> str:
    """LaTeX of a long expression broken into lines of about ``width`` characters of source
    at its top-level signs (``aligned``), so that it fits a text column; ``\\left(`` and
    ``\\right)`` become ``\\bigl(`` / ``\\bigr)``, which need no partner on the same line.
    Matrices and short expressions are returned as they are."""
    if len(latex) <= width or "matrix" in latex:
        return latex
    text = (latex.replace(r"\left(", r"\bigl(").replace(r"\right)", r"\bigr)")
            .replace(r"\left[", r"\bigl[").replace(r"\right]", r"\bigr]"))
    lines, start, depth, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        depth += {"{": 1, "}": -1}.get(c, 0)
        if c in "+-" and depth == 0 and i - start >= width and text[i - 1] == " ":
            lines.append(text[start:i].rstrip())
            start = i
        i += 1
    lines.append(text[start:])
    return r"\begin{aligned}&" + r" \\ &\quad ".join(lines) + r"\end{aligned}"


def _note(text: str) -> str:
    """A reading note as Markdown: as text, or as code when it quotes TeX."""
    return f"`{text}`" if "\\" in text else text


def markdown_blocks(checks, ids=None) -> str:
    """The checks as Markdown, one block per printed step: section, the step, whether it
    holds and how it is read, then the printed and the derived expressions as display math
    broken into lines (:func:`broken`), so that no table is wider than the text column.
    ``ids``: the checks to show, in their order (default all)."""
    chosen = list(checks) if ids is None else [find(checks, i) for i in ids]
    out = []
    for c in chosen:
        head = (f"**{c.section}**, step ${c.step}$: "
                + ("holds" if c.holds else "**does not hold**")
                + (f" ({_note(c.note)})" if c.note else ""))
        printed, derived = tex(c.printed), tex(c.derived)
        body = [f"$$\\text{{printed: }}{broken(printed)}$$"]
        body.append("derived: the same expression" if printed == derived
                    else f"$$\\text{{derived: }}{broken(derived)}$$")
        out.append("\n\n".join([head, *body]))
    return "\n\n---\n\n".join(out)

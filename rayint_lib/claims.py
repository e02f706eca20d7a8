"""The claims registry: each quoted result of the paper next to ours, with a verdict.

A chapter builds its :class:`Claim` list from values it computed, shows it with
:func:`table`, and :func:`record` saves it for the book's scorecard page when the book is
being built (``RAYINT_CLAIMS_DIR`` set by ``make book``). Papermill runs with other
parameters do not touch the scorecard.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

KINDS = ("abs", "rel", "at_least", "at_most", "holds")
REPRODUCED, NOT_REPRODUCED, AMBIGUOUS = "reproduced", "not reproduced", "paper ambiguous"


@dataclass(frozen=True)
class Claim:
    """One claim of the paper.

    ``kind`` says how ``ours`` is compared with ``paper_value``: ``abs`` (``|ours - paper|
    <= tolerance``), ``rel`` (relative tolerance), ``at_least`` / ``at_most`` (the paper
    states a bound), ``holds`` (a qualitative statement; ``ours`` is a bool computed by the
    chapter). ``ambiguous=True`` marks claims whose printed form cannot be checked as stated;
    ``note`` says why or what differs.
    """

    id: str
    section: str
    statement: str
    paper_value: float | str | None
    ours: float | bool
    kind: str = "abs"
    tolerance: float = 0.0
    ambiguous: bool = False
    note: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {self.kind!r}")

    @property
    def verdict(self) -> str:
        if self.ambiguous:
            return AMBIGUOUS
        return REPRODUCED if self._holds() else NOT_REPRODUCED

    def _holds(self) -> bool:
        ours = self.ours
        if self.kind == "holds":
            return bool(ours)
        if ours is None or (isinstance(ours, float) and math.isnan(ours)):
            return False
        paper = float(self.paper_value)
        if self.kind == "abs":
            return abs(ours - paper) <= self.tolerance
        if self.kind == "rel":
            return abs(ours - paper) <= self.tolerance * abs(paper)
        if self.kind == "at_least":
            return ours >= paper - self.tolerance
        return ours <= paper + self.tolerance

    def criterion(self) -> str:
        """The test applied, in words."""
        return {
            "abs": f"|ours - paper| <= {self.tolerance:g}",
            "rel": f"|ours - paper| <= {self.tolerance:g} x |paper|",
            "at_least": f"ours >= paper - {self.tolerance:g}",
            "at_most": f"ours <= paper + {self.tolerance:g}",
            "holds": "holds in our computation",
        }[self.kind]


def _fmt(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def table(claims) -> pd.DataFrame:
    """A "Paper vs reproduction" table of ``claims``."""
    return pd.DataFrame([{
        "id": c.id, "section": c.section, "claim": c.statement,
        "paper": _fmt(c.paper_value), "ours": _fmt(c.ours), "test": c.criterion(),
        "verdict": c.verdict, "note": c.note} for c in claims])


def record(chapter: str, claims) -> Path | None:
    """Save ``claims`` of ``chapter`` for the scorecard, only during ``make book``."""
    folder = os.environ.get("RAYINT_CLAIMS_DIR")
    if not folder:
        return None
    path = Path(folder) / f"{chapter}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{**asdict(c), "verdict": c.verdict, "test": c.criterion()} for c in claims]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rows, indent=1, default=float))
    tmp.replace(path)
    return path


def load(folder=None) -> dict[str, list[dict]]:
    """Every chapter's recorded claims, ``{chapter: [row, ...]}``, sorted by chapter."""
    folder = Path(folder or os.environ.get("RAYINT_CLAIMS_DIR", "_build/claims"))
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def chapters_in_toc(toc_path) -> list[str]:
    """Notebook chapters listed in the book's ``_toc.yml`` (stems of ``book/NN_*.ipynb``)."""
    import yaml

    toc = yaml.safe_load(Path(toc_path).read_text())
    files = [ch["file"] for part in toc.get("parts", []) for ch in part.get("chapters", [])]
    return [Path(f).name for f in files if (Path(toc_path).parent / f"{f}.ipynb").exists()
            and Path(f).name[:2].isdigit()]


def scorecard(toc_path, folder=None) -> pd.DataFrame:
    """All chapters' claims as one table; raises if a chapter of the toc recorded none."""
    records = load(folder)
    missing = [c for c in chapters_in_toc(toc_path) if c not in records]
    if missing and os.environ.get("RAYINT_CLAIMS_DIR"):
        raise RuntimeError(f"chapters without recorded claims: {missing}")
    rows = [{"chapter": ch, **row} for ch, rs in records.items() for row in rs]
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["paper"] = df["paper_value"].map(_fmt)
    df["ours"] = df["ours"].map(_fmt)
    return df[["chapter", "id", "section", "statement", "paper", "ours", "test", "verdict", "note"]]


VERDICT_COLORS = {REPRODUCED: "#d9f2d9", NOT_REPRODUCED: "#f9d6d5", AMBIGUOUS: "#fff2cc"}


def styled(df: pd.DataFrame, columns=("id", "section", "statement", "paper", "ours", "verdict", "note")):
    """A compact, colour-coded view of a claims table (verdict column shaded)."""
    view = df[[c for c in columns if c in df.columns]].rename(columns={"statement": "claim"})
    return (view.style.hide(axis="index")
            .map(lambda v: f"background-color: {VERDICT_COLORS.get(v, 'transparent')}", subset=["verdict"])
            .set_properties(**{"text-align": "left", "vertical-align": "top", "font-size": "0.85em"}))


def summary(card: pd.DataFrame) -> pd.DataFrame:
    """Claims per chapter and verdict (a count table for the scorecard)."""
    counts = card.pivot_table(index="chapter", columns="verdict", values="id", aggfunc="count", fill_value=0)
    counts = counts.reindex(columns=[REPRODUCED, NOT_REPRODUCED, AMBIGUOUS], fill_value=0)
    counts.loc["all chapters"] = counts.sum()
    return counts

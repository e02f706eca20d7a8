"""The claims registry: one entry per statement of the paper, verdicts that use intervals.

A claim's fixed fields (the paper's words and value, the test, the tolerance and why) are
data, defined once in a YAML file of the chapter that checks it and read by
:func:`definitions` into the chapter's ``CLAIMS`` and ``FINDINGS``. A notebook supplies
only the measured value with its 95% interval and its evidence
(:meth:`rayint_lib.book.page.Page.check`); :func:`record` saves the rows for the scorecard
while the book is built (``RAYINT_CLAIMS_DIR``), so parameter runs never touch it.

The book's own answers to questions the paper leaves open are :class:`Finding` rows, a
separate "Beyond the paper" table that is not counted among the paper's claims.
"""
from __future__ import annotations

import html
import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..model.stats import Estimate

REPRODUCED, NOT_REPRODUCED = "reproduced", "not reproduced"
UNDECIDED, AMBIGUOUS = "undecided", "paper ambiguous"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, UNDECIDED, AMBIGUOUS)
RULES = ("within", "at_least", "at_most", "holds", "ambiguous")

VERDICT_RULE = (
    "A claim is *reproduced* when the whole 95% interval of our value lies inside the paper's "
    "value plus or minus the tolerance (for a bound: on the stated side of it), *not "
    "reproduced* when the whole interval lies outside, and *undecided* when the interval "
    "straddles the line. A value computed without randomness (algebra, quadrature) has an "
    "interval of zero width. A qualitative statement is reproduced when our computation "
    "shows it. *Paper ambiguous* marks a printed claim that cannot be checked as stated; "
    "the reason is given. The tolerance of each claim follows the precision of the paper's "
    "words (\"20%\" is read to the nearest 5%, \"about 1e-4\" to a factor of 2).")


@dataclass(frozen=True)
class Claim:
    """One statement of the paper and the test that decides it.

    ``rule``: ``within`` (|ours - paper| <= tolerance), ``at_least`` (ours >= paper -
    tolerance), ``at_most`` (ours <= paper + tolerance), ``holds`` (a qualitative statement:
    the measured value is a bool computed by the chapter), ``ambiguous`` (cannot be checked
    as printed; ``reason`` says why). ``why`` says why the tolerance is what it is.
    ``reason`` of a scored claim states why its verdict stands against an objection (how
    the paper's words are read); the scorecard shows it with the evidence.
    """

    id: str
    section: str
    quote: str
    paper_value: float | None = None
    rule: str = "within"
    tolerance: float = 0.0
    why: str = ""
    reason: str = ""

    def __post_init__(self):
        if self.rule not in RULES:
            raise ValueError(f"claim {self.id}: rule must be one of {RULES}; got {self.rule!r}")
        if self.rule in ("within", "at_least", "at_most"):
            if not isinstance(self.paper_value, (int, float)) or not math.isfinite(self.tolerance):
                raise ValueError(f"claim {self.id}: a numeric rule needs a paper value and a "
                                 "finite tolerance")
            if not self.why:
                raise ValueError(f"claim {self.id}: say why the tolerance is {self.tolerance}")
        if self.rule == "ambiguous" and not self.reason:
            raise ValueError(f"claim {self.id}: an ambiguous claim needs its reason")

    @property
    def band(self) -> tuple[float, float]:
        """The values that reproduce the claim."""
        p, t = float(self.paper_value), self.tolerance
        return {"within": (p - t, p + t), "at_least": (p - t, math.inf),
                "at_most": (-math.inf, p + t)}[self.rule]

    def verdict(self, measured) -> str:
        """The verdict for ``measured`` (an :class:`Estimate`, a number or, for ``holds``,
        a bool), by :data:`VERDICT_RULE`."""
        if self.rule == "ambiguous":
            return AMBIGUOUS
        if self.rule == "holds":
            if not isinstance(measured, (bool, np.bool_)):
                raise ValueError(f"claim {self.id}: a qualitative claim is measured by a bool")
            return REPRODUCED if measured else NOT_REPRODUCED
        value, low, high = interval(measured)
        if math.isnan(value) or math.isnan(low) or math.isnan(high):
            return UNDECIDED if not math.isnan(value) else NOT_REPRODUCED
        lo, hi = self.band
        if lo <= low and high <= hi:
            return REPRODUCED
        if high < lo or low > hi:
            return NOT_REPRODUCED
        return UNDECIDED

    def test(self) -> str:
        """The test, in words."""
        if self.rule in ("holds", "ambiguous"):
            return {"holds": "holds in our computation",
                    "ambiguous": f"not checkable as printed: {self.reason}"}[self.rule]
        lo, hi = self.band
        side = {"within": f"in [{lo:.4g}, {hi:.4g}]", "at_least": f">= {lo:.4g}",
                "at_most": f"<= {hi:.4g}"}[self.rule]
        return f"95% interval {side}"

    def fails_if(self) -> str:
        """What result would have failed the claim."""
        if self.rule == "holds":
            return "our computation shows the opposite"
        if self.rule == "ambiguous":
            return "(not scored)"
        lo, hi = self.band
        return {"within": f"interval entirely below {lo:.4g} or above {hi:.4g}",
                "at_least": f"interval entirely below {lo:.4g}",
                "at_most": f"interval entirely above {hi:.4g}"}[self.rule]

    def example(self, reproduced: bool):
        """A measured value that this claim scores as reproduced (or not): the tests feed
        both, so that a rule or tolerance that can never fail is caught."""
        if self.rule == "holds":
            return reproduced
        lo, hi = self.band
        if reproduced:
            x = (lo + hi) / 2 if math.isfinite(lo + hi) else (lo if math.isfinite(lo) else hi)
        else:
            width = max(abs(self.paper_value), self.tolerance, 1.0)
            x = hi + width if math.isfinite(hi) else lo - width
        return Estimate(x, x, x)


@dataclass(frozen=True)
class Finding:
    """A result of the book itself: the answer to a question the paper leaves open, or a
    measurement beyond the paper. Shown apart from the claims and never counted with them."""

    id: str
    section: str
    question: str


def interval(measured) -> tuple[float, float, float]:
    """``(value, low, high)`` of a measured value; a plain number has a zero-width interval."""
    if isinstance(measured, Estimate):
        return float(measured.value), float(measured.low), float(measured.high)
    x = float(measured)
    return x, x, x


def definitions(path) -> tuple[dict, dict]:
    """``(claims, findings)`` registries from a YAML file with ``claims:`` and ``findings:``
    lists, each entry the fields of a :class:`Claim` or a :class:`Finding`; ``ValueError``
    naming the file and the entry for a bad one."""
    path = Path(path)
    data = yaml.safe_load(path.read_text()) or {}
    out = []
    for key, kind in (("claims", Claim), ("findings", Finding)):
        entries = []
        for i, fields in enumerate(data.get(key) or []):
            try:
                entries.append(kind(**fields))
            except (TypeError, ValueError) as err:
                raise ValueError(f"{path}: {key}[{i}] ({fields.get('id')!r}): {err}") from None
        try:
            out.append(registry(*entries))
        except ValueError as err:
            raise ValueError(f"{path}: {key}: {err}") from None
    return out[0], out[1]


def registry(*entries):
    """``{id: entry}`` of a chapter's claims (or findings); ids must be unique."""
    out = {}
    for c in entries:
        if c.id in out:
            raise ValueError(f"id {c.id!r} defined twice")
        out[c.id] = c
    return out


def _fmt(x) -> str:
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, float)):
        return "" if isinstance(x, float) and math.isnan(x) else f"{x:.4g}"
    return "" if x is None else str(x)


def evidence_row(chapter: str, claim: Claim, measured, evidence: str = "",
                 readings: dict | None = None) -> dict:
    """One scorecard row: the claim's fields, our value with its interval, the verdict, and
    the verdict under each alternative reading of the paper's open choices."""
    if claim.rule == "holds" or claim.rule == "ambiguous" and isinstance(measured, bool):
        ours, low, high = _fmt(measured), None, None
    elif measured is None:
        ours, low, high = "", None, None
    else:
        value, low, high = interval(measured)
        ours = _fmt(value) if low == high else f"{value:.4g} [{low:.4g}, {high:.4g}]"
    row = {**asdict(claim), "chapter": chapter, "paper": _fmt(claim.paper_value), "ours": ours,
           "low": low, "high": high, "test": claim.test(), "fails_if": claim.fails_if(),
           "verdict": claim.verdict(measured) if measured is not None or claim.rule ==
           "ambiguous" else UNDECIDED, "evidence": evidence, "readings": ""}
    if claim.reason and claim.rule != "ambiguous":
        row["evidence"] = f"{evidence} Reading: {claim.reason}".strip()
    if readings:
        verdicts = {name: claim.verdict(m) for name, m in readings.items()}
        passing = [n for n, v in verdicts.items() if v == REPRODUCED]
        values = [interval(m)[0] for m in readings.values()]
        row["readings"] = (f"{min(values):.3g} to {max(values):.3g} over {len(values)} readings;"
                           f" reproduced under {len(passing)}"
                           + (f" ({', '.join(passing)})" if passing else ""))
    return row


def finding_row(chapter: str, finding: Finding, answer: str, measured=None,
                evidence: str = "") -> dict:
    value = "" if measured is None else (
        _fmt(measured) if not isinstance(measured, Estimate) else f"{measured:.4g}")
    return {**asdict(finding), "chapter": chapter, "answer": answer, "value": value,
            "evidence": evidence}


def record(chapter: str, rows: list[dict], findings: list[dict]) -> Path | None:
    """Save a chapter's rows for the scorecard, only during ``make book``."""
    folder = os.environ.get("RAYINT_CLAIMS_DIR")
    if not folder:
        return None
    path = Path(folder) / f"{chapter}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"claims": rows, "findings": findings}, indent=1, default=float))
    tmp.replace(path)
    return path


def load(folder=None) -> dict[str, dict]:
    """Every chapter's recorded rows, ``{chapter: {"claims": [...], "findings": [...]}}``."""
    folder = Path(folder or os.environ.get("RAYINT_CLAIMS_DIR", "_build/claims"))
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def chapters_in_toc(toc_path) -> list[str]:
    """Notebook chapters listed in the book's ``_toc.yml`` (stems of ``book/NN_*.ipynb``)."""
    toc = yaml.safe_load(Path(toc_path).read_text())
    files = [ch["file"] for part in toc.get("parts", []) for ch in part.get("chapters", [])]
    return [Path(f).name for f in files if (Path(toc_path).parent / f"{f}.ipynb").exists()
            and Path(f).name[:2].isdigit()]


def scorecard(toc_path, folder=None) -> pd.DataFrame:
    """One row per claim of the paper; a claim checked in several chapters keeps the verdict
    of the first and lists the others. Raises if a chapter of the toc recorded nothing."""
    records = load(folder)
    missing = [c for c in chapters_in_toc(toc_path) if c not in records]
    if missing and os.environ.get("RAYINT_CLAIMS_DIR"):
        raise RuntimeError(f"chapters without recorded claims: {missing}")
    rows, seen = [], {}
    for chapter, rec in records.items():
        for row in rec["claims"]:
            if row["id"] in seen:
                first = seen[row["id"]]
                first["also"] = (first.get("also", "") + f"{chapter}: {row['verdict']} "
                                 f"({row['ours']}); ").strip()
                continue
            seen[row["id"]] = row
            rows.append(row)
    df = pd.DataFrame(rows)
    if "also" not in df:
        df["also"] = ""
    return df.fillna({"also": ""})


def findings(folder=None) -> pd.DataFrame:
    """The "Beyond the paper" table: every chapter's findings."""
    return pd.DataFrame([r for rec in load(folder).values() for r in rec["findings"]])


def counts(card: pd.DataFrame, found: pd.DataFrame) -> dict[str, int]:
    """The scorecard's counts, as glued on the scorecard and the front page: ``n_claims``,
    ``n_findings`` and ``n_<verdict>`` for each verdict (spaces as underscores)."""
    tally = card["verdict"].value_counts() if len(card) else {}
    return {"n_claims": len(card), "n_findings": len(found),
            **{f"n_{v.replace(' ', '_')}": int(tally.get(v, 0)) for v in VERDICTS}}


VERDICT_COLORS = {REPRODUCED: "#d9f2d9", NOT_REPRODUCED: "#f9d6d5", UNDECIDED: "#e0e0f5",
                  AMBIGUOUS: "#fff2cc"}
CLAIM_COLUMNS = ("id", "section", "quote", "paper", "ours", "test", "verdict", "readings",
                 "evidence")
FINDING_COLUMNS = ("chapter", "id", "section", "question", "answer", "value", "evidence")

# the compact view: several fields stacked in one cell (main text, then small lines), so that
# a table fits the book's text column (about 750 px at a 1280 px window)
_STACKS = {"claim": ("id", "section", "chapter"),
           "the paper says": ("quote", "paper"),
           "ours [95% interval]": ("ours", "test"),
           "finding": ("id", "section", "chapter"),
           "answer": ("answer", "value"),
           "evidence": ("evidence", "readings", "also")}
_LABELS = {"paper": "paper: ", "test": "test: ", "readings": "readings: ",
           "also": "also: ", "value": "value: "}


def _stack(df: pd.DataFrame, fields) -> pd.Series:
    """One HTML cell per row: the first present field as text, the others as small lines."""
    present = [f for f in fields if f in df.columns]

    def cell(row):
        parts = [(f, str(row[f])) for f in present if str(row[f]) not in ("", "nan", "None")]
        if not parts:
            return ""
        (_, first), rest = parts[0], parts[1:]
        return html.escape(first) + "".join(
            f'<br><span style="font-size: 0.9em; color: #555">{_LABELS.get(f, "")}'
            f"{html.escape(v)}</span>" for f, v in rest)

    return df.apply(cell, axis=1) if len(df) else pd.Series(dtype=str)


def compact(df: pd.DataFrame, columns=CLAIM_COLUMNS) -> pd.DataFrame:
    """The columns ``columns`` of a claims (or findings) table, stacked into at most five:
    claim, the paper says, ours with the test, verdict, evidence with the readings."""
    keep = [c for c in columns if c in df.columns]
    out = {}
    findings = "question" in keep
    order = (("finding", "question", "answer", "evidence") if findings else
             ("claim", "the paper says", "ours [95% interval]", "verdict", "evidence"))
    for name in order:
        fields = _STACKS.get(name, (name,))
        fields = [f for f in fields if f in keep]
        if fields:
            out[name] = _stack(df, fields) if name != "verdict" else df["verdict"]
    return pd.DataFrame(out, index=df.index)


_WIDTHS = {"claim": 14, "the paper says": 26, "ours [95% interval]": 16, "verdict": 13,
           "evidence": 31, "finding": 16, "question": 26, "answer": 30}


def styled(df: pd.DataFrame, columns=CLAIM_COLUMNS):
    """A compact (:func:`compact`), colour-coded view of a claims or findings table, laid out
    with fixed column shares of the text column's width (long words wrap inside a cell)."""
    view = compact(df, columns)
    widths = {c: _WIDTHS.get(c, 20) for c in view.columns}
    total = sum(widths.values())
    style = view.style.hide(axis="index").set_properties(
        **{"text-align": "left", "vertical-align": "top", "overflow-wrap": "anywhere"})
    style = style.set_table_styles(
        [{"selector": "", "props": "table-layout: fixed; width: 100%"}]
        + [{"selector": f"th.col_heading.col{i}", "props": f"width: {100 * w / total:.1f}%"}
           for i, w in enumerate(widths.values())])
    if "verdict" in view:
        style = style.map(lambda v: f"background-color: {VERDICT_COLORS.get(v, 'transparent')}",
                          subset=["verdict"])
    return style


def summary(card: pd.DataFrame) -> pd.DataFrame:
    """Claims per chapter and verdict (a count table for the scorecard)."""
    counts = card.pivot_table(index="chapter", columns="verdict", values="id", aggfunc="count",
                              fill_value=0).reindex(columns=list(VERDICTS), fill_value=0)
    counts.loc["all chapters"] = counts.sum()
    return counts

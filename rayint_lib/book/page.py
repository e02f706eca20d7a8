"""The page helper behind every chapter notebook: glue numbers, check claims, finish.

``cfg, page = rayint_lib.chapters.start("01_minimal_bandit", globals())`` validates the
parameters cell, starts the provenance record and sets the plotting style; then

* ``page.glue(rho_2x2=..., **{"frac_onpolicy_eps_le_1e-5": estimate})`` glues every value for
  the prose (``{glue:text}`name```), an :class:`~rayint_lib.model.stats.Estimate` also as
  ``name_ci_low`` and ``name_ci_high``;
* ``page.check(claim, measured, evidence=...)`` scores one claim of the paper;
* ``page.find(finding, answer, measured)`` adds a "Beyond the paper" row;
* ``page.finish()`` shows the "Paper vs reproduction" table, the findings, the provenance
  and the one command that re-runs the page with other parameters, and records them for the
  scorecard when the book is built.
"""
from __future__ import annotations

import json
import shlex

import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue as _glue

from ..model.stats import Estimate
from . import claims, figure_links
from .notebooks import chapter_names
from .provenance import Provenance


def show(df: pd.DataFrame, spec=".3g") -> pd.DataFrame:
    """A table for the page: every Estimate as ``value [low, high]``."""
    return df.map(lambda v: format(v, spec) if isinstance(v, Estimate) else v)


class Page:
    """One executing chapter: its glued values, claim rows, findings and provenance."""

    def __init__(self, notebook: str, parameters: dict, rerun_example: tuple | None = None):
        self.notebook = notebook
        self.rerun_example = rerun_example    # (name, value) for pages without a seed
        self.provenance = Provenance(**parameters)
        self.rows: list[dict] = []
        self.findings: list[dict] = []
        figure_links.watch(notebook)  # in a book build: "Data: NAME.csv" under each figure

    def glue(self, values: dict | None = None, **more):
        """Glue each value (names from ``values`` and keyword arguments) for the prose."""
        for name, value in {**(values or {}), **more}.items():
            if isinstance(value, Estimate):
                _glue(name, float(value.value), display=False)
                _glue(f"{name}_ci_low", float(value.low), display=False)
                _glue(f"{name}_ci_high", float(value.high), display=False)
            else:           # numpy scalars as Python numbers: {glue:text} formats those
                _glue(name, value.item() if isinstance(value, np.generic) else value,
                      display=False)

    def check(self, claim: claims.Claim, measured, evidence: str = "",
              readings: dict | None = None) -> str:
        """Score ``claim`` with our measured value; returns the verdict."""
        row = claims.evidence_row(self.notebook, claim, measured, evidence, readings)
        self.rows.append(row)
        return row["verdict"]

    def find(self, finding: claims.Finding, answer: str, measured=None, evidence: str = ""):
        """Add one of the book's own findings ("Beyond the paper")."""
        self.findings.append(claims.finding_row(self.notebook, finding, answer, measured,
                                                evidence))

    def table(self) -> pd.DataFrame:
        """This chapter's claims so far, as the scorecard shows them."""
        return pd.DataFrame(self.rows)

    def finish(self):
        """Show the chapter's "Paper vs reproduction" table, its findings and provenance;
        record them for the scorecard (only while the book is built)."""
        claims.record(self.notebook, self.rows, self.findings)
        if self.rows:
            display(claims.styled(self.table()))
        if self.findings:
            display(Markdown("**Beyond the paper** (the book's own findings, not counted "
                             "among the paper's claims)"))
            display(claims.styled(pd.DataFrame(self.findings), claims.FINDING_COLUMNS))
        display(Markdown(self.provenance.markdown()))
        if self.notebook in chapter_names():  # a page `rayint run` can run
            display(Markdown(self.rerun()))

    def rerun(self) -> str:
        """How to re-run this page with other parameters (one ``rayint run`` command with one
        of its real parameters), and how long this execution took."""
        p = self.provenance
        if p.seed is not None:
            name, value = "seed", json.dumps(p.seed + 1)
        elif self.rerun_example:
            name, value = self.rerun_example
            value = shlex.quote(json.dumps(value, separators=(",", ":")))
        else:
            name, value = next(iter(p.parameters.items()), ("", None))
            value = shlex.quote(json.dumps(value, separators=(",", ":")))
        option = f" -p {name} {value}" if name else ""
        n = len(p.parameters) + (p.seed is not None)
        return (f"**Re-run this page** with other parameters: `rayint run {self.notebook}"
                f"{option}` (`rayint list` shows its {n} parameters, their meanings and ranges; "
                f"`rayint sweep` takes several values of each). This execution took "
                f"{p.summary()['wall_time_s']:.0f} s.")

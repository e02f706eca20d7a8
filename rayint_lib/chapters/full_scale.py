"""Chapter 10_full_scale: the deep-RL studies at full scale, from stored parameter runs
(issue 20 item 6).

The book executes each chapter at a size that fits its five minutes on 2 cores. The
full-scale studies (more seeds, more rooms or tasks, longer budgets) are parameter runs of the
same notebooks (``rayint run``); their results are stored in ``book/data/runs/NAME/``
(:mod:`rayint_lib.book.stored_runs`: the run's parameters, every number its page glued and its
provenance, as ``rayint run`` wrote them). This page reads them: for each run the command
that re-computes it, the commit that computed it and whether the code that computed it has
changed since, and its headline measures with their 95% intervals; for every room or task
count, the shared network against the control without interference (separate networks), the
difference with Newcombe's interval.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..book.claims import registry
from ..book.stored_runs import ROOT, StoredRun, changed_since, load_all
from ..model import stats
from ..model.params import Param, declare

NOTEBOOK = "10_full_scale"
CLAIMS = registry()     # none scored here: the stored runs' own chapters score the claims
BOOK = ROOT / "book"

# the files whose change could change a stored run of each notebook (git pathspecs)
CODE = {"03b_deep_rl": ("rayint_lib/chapters/deep_rl.py", "rayint_lib/chapters/deep_rl_rooms.py",
                        "rayint_lib/model/deep", ":!rayint_lib/model/deep/ppo.py",
                        ":!rayint_lib/model/deep/multitask.py",
                        ":!rayint_lib/model/deep/expected.py", "book/03b_deep_rl.ipynb"),
        "03c_deep_benchmark": ("rayint_lib/chapters/deep_benchmark*.py",
                               "rayint_lib/model/deep", ":!rayint_lib/model/deep/rooms.py",
                               ":!rayint_lib/model/deep/bandit.py",
                               "book/03c_deep_benchmark.ipynb")}

# per notebook: (label, glued name at the run's own K, name at each further count of its
# ``more_K`` or None); a count's column is shown when the run glued it
MEASURES = {
    "03b_deep_rl": (
        ("learn every room, shared network", "rooms_frac_all_learned_shared",
         "rooms_K{}_frac_all_learned_shared"),
        ("learn every room, separate networks", "rooms_frac_all_learned_separate",
         "rooms_K{}_frac_all_learned_separate"),
        ("rooms one at a time, shared", "rooms_frac_one_at_a_time_shared",
         "rooms_K{}_frac_one_at_a_time_shared"),
        ("rooms one at a time, separate", "rooms_frac_one_at_a_time_separate",
         "rooms_K{}_frac_one_at_a_time_separate"),
        ("gradient cosine between rooms, shared", "rooms_grad_cosine_median_shared",
         "rooms_K{}_grad_cosine_median_shared"),
        ("env steps between rooms, shared (median)", None, "rooms_K{}_gap_shared"),
        ("coupling ratio of the stalled room", "rooms_coupling_ratio_low_J", None)),
    "03c_deep_benchmark": (
        ("learn every task, shared network", "bench_frac_all_learned_shared", None),
        ("learn every task, separate agents", "bench_frac_all_learned_separate", None),
        ("tasks one at a time, shared", "bench_frac_one_at_a_time_shared", None),
        ("tasks one at a time, separate", "bench_frac_one_at_a_time_separate", None),
        ("final return, shared network", "bench_final_return_shared", None),
        ("final return, separate agents", "bench_final_return_separate", None),
        ("gradient cosine between tasks, shared", "bench_grad_cosine_median_shared", None),
        ("coupling ratio at low J", "bench_coupling_ratio_low_J", None),
        ("learn every task given one: separate minus shared", "bench_dissipate_separate",
         None),
        ("learn every task given one: exact uniform-data minus exact on-policy update",
         "bench_coupling_only_dissipate", None)),
}
UNIT = {"03b_deep_rl": "room", "03c_deep_benchmark": "task"}
REMEDY = re.compile(r"bench_remedy_(\w+?)_all_learned")     # 03c's remedies, when run
REMEDY_MEASURES = (("learn every task", "all_learned"),
                   ("minus the tuned shared agent (paired)", "diff"),
                   ("final return", "final_return"), ("tuned step size", "lr"),
                   ("env steps", "env_steps"))


@dataclass(frozen=True)
class Settings:
    """The page's validated parameters."""

    runs_dir: Path
    notebooks: tuple
    stored: tuple          # the runs in ``runs_dir`` (read once, by :func:`validate`)


RERUN_EXAMPLE = ("notebooks", ["03c_deep_benchmark"])   # the page's re-run: one chapter's runs

PARAMS = declare(
    Param("runs_dir", "data/runs", "folder of stored parameter runs, one sub-folder each "
          "(relative to book/)"),
    Param("notebooks", list(MEASURES), "show the stored runs of these chapters",
          choices=tuple(MEASURES)),
)


def validate(**values) -> Settings:
    """Check the parameters; the folder must hold stored runs of notebooks this page knows."""
    v = PARAMS.check(values)
    folder = Path(v["runs_dir"])
    folder = folder if folder.is_absolute() else BOOK / folder
    if not folder.is_dir():
        raise ValueError(f"runs_dir: {folder} is not a folder (a folder of stored runs, "
                         "one sub-folder each)")
    stored = tuple(load_all(folder))
    for run in stored:
        if run.notebook not in MEASURES:
            raise ValueError(f"runs_dir: run {run.name} is of {run.notebook}; this page shows "
                             f"runs of {', '.join(MEASURES)}")
    return Settings(folder, tuple(v["notebooks"]), stored)


def runs(cfg: Settings) -> list[StoredRun]:
    """The stored runs of the chosen chapters."""
    return [r for r in cfg.stored if r.notebook in cfg.notebooks]


def code_changed(run: StoredRun) -> str:
    """Which files that computed ``run`` have changed since its commit ("none" if none)."""
    files = changed_since(run.commit, CODE[run.notebook])
    if files is None:
        return "cannot tell (no git history or a run from uncommitted code)"
    return ", ".join(files) if files else "none"


def overview(stored: list[StoredRun]) -> pd.DataFrame:
    """One row per stored run: what computed it, when, how long, and whether its code has
    changed since."""
    return pd.DataFrame([{"run": r.name, "commit": r.commit,
                          "finished (UTC)": r.provenance.get("finished_utc", ""),
                          "wall time (min)": round(r.provenance["wall_time_s"] / 60, 1),
                          "code changed since": code_changed(r)} for r in stored])


def counts(run: StoredRun) -> list[int]:
    """The room / task counts of ``run``: its ``K`` and the counts of ``more_K`` it glued."""
    more = {k for k in run.parameters.get("more_K", [])
            if any(m and m.format(k) in run.glued for _, _, m in MEASURES[run.notebook])}
    return [_own_K(run), *sorted(more)]


def _own_K(run: StoredRun) -> int:
    return run.parameters.get("K", 2)


def _name(run: StoredRun, k: int, main: str | None, more: str | None) -> str | None:
    """The glued name of a measure at count ``k``: ``main`` at the run's own ``K``."""
    return main if k == _own_K(run) else (more.format(k) if more else None)


def _cell(run: StoredRun, name: str | None):
    if name is None or name not in run.glued:
        return ""
    value = run.estimate(name)
    if isinstance(value, stats.Estimate) and not math.isfinite(value.value):
        return "beyond the budget"          # a median of times never reached
    return value


def headlines(run: StoredRun) -> pd.DataFrame:
    """The run's headline measures (``MEASURES``), one column per room / task count, each
    with its 95% interval."""
    return pd.DataFrame([{"measure": label,
                          **{f"K = {k}": _cell(run, _name(run, k, main, more))
                             for k in counts(run)}}
                         for label, main, more in MEASURES[run.notebook]])


def remedies(run: StoredRun) -> pd.DataFrame:
    """03c's remedies on the benchmark agent, when the run has them: one row per method."""
    methods = [m.group(1) for m in map(REMEDY.fullmatch, run.glued) if m]
    return pd.DataFrame([{"remedy": m, **{label: _cell(run, f"bench_remedy_{m}_{key}")
                                           for label, key in REMEDY_MEASURES}}
                         for m in methods])


def interference_by_count(run: StoredRun) -> pd.DataFrame:
    """Per room / task count: runs that learn every room with a shared network and with
    separate networks, and the difference (shared - separate) with Newcombe's interval: the
    cost of sharing parameters (interference) at each count."""
    (_, shared, more_shared), (_, separate, more_separate) = MEASURES[run.notebook][:2]
    rows = []
    for k in counts(run):
        a = run.estimate(_name(run, k, shared, more_shared))
        b = run.estimate(_name(run, k, separate, more_separate))
        rows.append({"rooms / tasks": k, "shared": a, "separate": b,
                     "shared - separate": stats.newcombe_difference(a, b)})
    return pd.DataFrame(rows)


def reading(run: StoredRun) -> str:
    """One sentence per room / task count, from :func:`interference_by_count`: the
    difference and which way its interval points."""
    unit, lines = UNIT[run.notebook], []
    for k, sh, se, d in interference_by_count(run).itertuples(index=False):
        side = (f"fewer with a shared network: sharing costs whole {unit}s" if d.high < 0
                else "more with a shared network" if d.low > 0
                else "no difference resolved")
        lines.append(f"- K = {k}: every {unit} learned in {sh:.2f} of runs with a shared "
                     f"network, {se:.2f} with separate networks; difference {d:.2f} ({side}).")
    return "\n".join(lines)


def heading(run: StoredRun) -> str:
    """The run's heading: its name and the command that re-computes it."""
    return f"### {run.name}\n\n`{run.command}`"


def tables(run: StoredRun) -> list[pd.DataFrame]:
    """The run's tables: headlines, the cost of sharing per count, and 03c's remedies when
    the run compared them."""
    found = [headlines(run), interference_by_count(run), remedies(run)]
    return [t for t in found if not t.empty]

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

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..book.stored_runs import StoredRun, changed_since, load_all
from ..model import stats
from ..model.params import Param, declare

NOTEBOOK = "10_full_scale"
BOOK = Path(__file__).resolve().parents[2] / "book"

# the files whose change would change a stored run of each notebook (git pathspecs)
CODE = {"03b_deep_rl": ("rayint_lib/chapters/deep_rl*.py", "rayint_lib/model/deep",
                        "book/03b_deep_rl.ipynb"),
        "03c_deep_benchmark": ("rayint_lib/chapters/deep_benchmark*.py",
                               "rayint_lib/model/deep", "book/03c_deep_benchmark.ipynb")}

# (glued name, or a pattern with one group for the room / task count; label) per notebook
HEADLINES = {
    "03b_deep_rl": (
        ("rooms_frac_all_learned_shared", "learn every room, shared network (K = {K})"),
        ("rooms_frac_all_learned_separate", "learn every room, separate networks (K = {K})"),
        ("rooms_frac_one_at_a_time_shared", "rooms one at a time, shared network (K = {K})"),
        ("rooms_frac_one_at_a_time_separate", "rooms one at a time, separate (K = {K})"),
        ("rooms_grad_cosine_median_shared", "gradient cosine between rooms, shared (K = {K})"),
        ("rooms_coupling_ratio_low_J", "coupling ratio of the stalled room (K = {K})"),
        (r"rooms_K(\d+)_frac_all_learned_shared", "learn every room, shared network (K = {})"),
        (r"rooms_K(\d+)_frac_all_learned_separate", "learn every room, separate (K = {})"),
        (r"rooms_K(\d+)_frac_one_at_a_time_shared", "rooms one at a time, shared (K = {})"),
        (r"rooms_K(\d+)_frac_one_at_a_time_separate", "rooms one at a time, separate (K = {})"),
        (r"rooms_K(\d+)_grad_cosine_median_shared", "gradient cosine, shared (K = {})"),
        (r"rooms_K(\d+)_gap_shared", "env steps between rooms, shared (K = {})")),
    "03c_deep_benchmark": (
        ("bench_frac_all_learned_shared", "learn every task, shared network (K = {K})"),
        ("bench_frac_all_learned_separate", "learn every task, separate agents (K = {K})"),
        ("bench_frac_one_at_a_time_shared", "tasks one at a time, shared network (K = {K})"),
        ("bench_frac_one_at_a_time_separate", "tasks one at a time, separate (K = {K})"),
        ("bench_final_return_shared", "final return, shared network (K = {K})"),
        ("bench_final_return_separate", "final return, separate agents (K = {K})"),
        ("bench_grad_cosine_median_shared", "gradient cosine between tasks, shared (K = {K})"),
        ("bench_coupling_ratio_low_J", "coupling ratio at low J (K = {K})"),
        ("bench_dissipate_separate", "learn every task given one: separate minus shared "
         "(K = {K})"),
        ("bench_dissipate_separate_answer", "... without interference (separate agents)"),
        ("bench_coupling_only_dissipate", "learn every task given one: exact uniform-data "
         "minus exact on-policy update (K = {K})"),
        (r"bench_remedy_(\w+)_all_learned", "learn every task, remedy {}"),
        (r"bench_remedy_(\w+)_diff", "remedy {} minus shared, learn every task (paired)")),
}
# (shared, separate) glued fractions compared per room / task count
PAIRS = {"03b_deep_rl": (("rooms_frac_all_learned_shared", "rooms_frac_all_learned_separate"),
                         (r"rooms_K{}_frac_all_learned_shared",
                          r"rooms_K{}_frac_all_learned_separate")),
         "03c_deep_benchmark": (("bench_frac_all_learned_shared",
                                 "bench_frac_all_learned_separate"), None)}


@dataclass(frozen=True)
class Settings:
    """The page's validated parameters."""

    runs_dir: Path
    notebooks: tuple


RERUN_EXAMPLE = ("notebooks", ["03c_deep_benchmark"])   # the page's re-run: one chapter's runs

PARAMS = declare(
    Param("runs_dir", "data/runs", "folder of stored parameter runs, one sub-folder each "
          "(relative to book/)"),
    Param("notebooks", list(HEADLINES), "show the stored runs of these chapters",
          choices=tuple(HEADLINES)),
)


def validate(**values) -> Settings:
    """Check the parameters; the folder must hold stored runs of notebooks this page knows."""
    v = PARAMS.check(values)
    folder = Path(v["runs_dir"])
    folder = folder if folder.is_absolute() else BOOK / folder
    if not folder.is_dir():
        raise ValueError(f"runs_dir: {folder} is not a folder (a folder of stored runs, "
                         "one sub-folder each)")
    for run in load_all(folder):
        if run.notebook not in HEADLINES:
            raise ValueError(f"runs_dir: run {run.name} is of {run.notebook}; this page shows "
                             f"runs of {', '.join(HEADLINES)}")
    return Settings(folder, tuple(v["notebooks"]))


def runs(cfg: Settings) -> list[StoredRun]:
    """The stored runs of the chosen chapters."""
    return [r for r in load_all(cfg.runs_dir) if r.notebook in cfg.notebooks]


def code_changed(run: StoredRun) -> str:
    """Which files that computed ``run`` have changed since its commit ("none" if none)."""
    files = changed_since(run.commit, CODE[run.notebook])
    if files is None:
        return "cannot tell (no git history or a run from uncommitted code)"
    return ", ".join(files) if files else "none"


def overview(stored: list[StoredRun]) -> pd.DataFrame:
    """One row per stored run: what computed it, when, how long, and whether its code has
    changed since."""
    return pd.DataFrame([{"run": r.name, "command": r.command, "commit": r.commit,
                          "finished (UTC)": r.provenance.get("finished_utc", ""),
                          "wall time (min)": round(r.provenance["wall_time_s"] / 60, 1),
                          "host": r.provenance.get("platform", ""),
                          "code changed since": code_changed(r)} for r in stored])


def _K(run: StoredRun):
    return run.parameters.get("K", 2)


def headlines(run: StoredRun) -> pd.DataFrame:
    """The run's headline measures (``HEADLINES``), each with its 95% interval."""
    rows = []
    for key, label in HEADLINES[run.notebook]:
        if key in run.glued:
            rows.append({"measure": label.format(K=_K(run)), "value": run.estimate(key)})
            continue
        for name in sorted(run.glued, key=_natural):
            m = re.fullmatch(key, name)
            if m:
                rows.append({"measure": label.format(m.group(1)), "value": run.estimate(name)})
    return pd.DataFrame(rows)


def _natural(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def interference_by_count(run: StoredRun) -> pd.DataFrame:
    """Per room / task count: runs that learn every room with a shared network and with
    separate networks, and the difference (shared - separate) with Newcombe's interval: the
    cost of sharing parameters (interference) at each count."""
    main, more = PAIRS[run.notebook]
    counts = {_K(run): main}
    if more:
        pattern = more[0].replace("{}", r"(\d+)")
        for name in run.glued:
            m = re.fullmatch(pattern, name)
            if m:
                k = int(m.group(1))
                counts[k] = (more[0].format(k), more[1].format(k))
    rows = []
    for k in sorted(counts):
        shared, separate = (run.estimate(n) for n in counts[k])
        rows.append({"rooms / tasks": k, "shared": shared, "separate": separate,
                     "shared - separate": stats.newcombe_difference(shared, separate)})
    return pd.DataFrame(rows)


UNIT = {"03b_deep_rl": "room", "03c_deep_benchmark": "task"}


def reading(run: StoredRun) -> str:
    """One sentence per room / task count, from :func:`interference_by_count`: the
    difference and which way its interval points."""
    unit, lines = UNIT[run.notebook], []
    by_count = interference_by_count(run)
    for row in by_count.itertuples(index=False):
        k, sh, se, d = row
        side = (f"fewer with a shared network: sharing costs whole {unit}s" if d.high < 0
                else "more with a shared network" if d.low > 0
                else "no difference resolved")
        lines.append(f"- K = {k}: every {unit} learned in {sh:.2f} of runs with a shared "
                     f"network, {se:.2f} with separate networks; difference {d:.2f} ({side}).")
    return "\n".join(lines)

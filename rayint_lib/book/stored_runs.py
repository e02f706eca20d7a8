"""Parameter runs stored with the book: results too large for its five-minute build.

A stored run is the small part of a ``rayint run`` folder, copied under
``book/data/runs/NAME/``: ``parameters.json`` (every parameter's value in the run),
``glued.json`` (every number the executed page glued) and ``provenance.json`` (commit,
versions, host, start and wall time). Nothing in it is typed: the three files are the ones
``rayint run`` wrote (:mod:`rayint_lib.cli.runs`). :func:`changed_since` says which of the
files that computed a run have changed since its commit, so a page that shows a stored run can
say whether the code it reads still is the code that produced it.
"""
from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..model.stats import Estimate

FILES = ("parameters.json", "glued.json", "provenance.json")
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class StoredRun:
    """One stored parameter run (module doc)."""

    name: str
    parameters: dict
    glued: dict
    provenance: dict

    @property
    def notebook(self) -> str:
        return self.provenance["notebook"]

    @property
    def commit(self) -> str:
        return str(self.provenance.get("git_commit") or "unknown")

    @property
    def command(self) -> str:
        """The ``rayint run`` command that re-computes the run (the values it set; the
        others are the notebook's defaults, all of them in ``parameters``)."""
        options = "".join(f" -p {k} {shlex.quote(json.dumps(v, separators=(',', ':')))}"
                          for k, v in self.provenance.get("overrides", {}).items())
        return f"rayint run {self.notebook}{options}"

    def estimate(self, name: str) -> Estimate | float:
        """The glued value ``name``: an Estimate where the run glued its 95% interval."""
        value = self.glued[name]
        if f"{name}_ci_low" in self.glued:
            return Estimate(float(value), float(self.glued[f"{name}_ci_low"]),
                            float(self.glued[f"{name}_ci_high"]))
        return value


def load(folder) -> StoredRun:
    """The stored run in ``folder``; ``ValueError`` naming a missing file or an incomplete
    run."""
    folder = Path(folder)
    missing = [f for f in FILES if not (folder / f).is_file()]
    if missing:
        raise ValueError(f"stored run {folder}: missing {', '.join(missing)} (copy them from "
                         "the folder `rayint run` wrote)")
    data = {f: json.loads((folder / f).read_text()) for f in FILES}
    if data["provenance.json"].get("status") != "complete":
        raise ValueError(f"stored run {folder}: provenance.json does not say the run completed")
    return StoredRun(folder.name, data["parameters.json"], data["glued.json"],
                     data["provenance.json"])


def load_all(root) -> list[StoredRun]:
    """Every stored run under ``root`` (one per sub-folder), by name."""
    return [load(p) for p in sorted(Path(root).iterdir()) if p.is_dir()]


def changed_since(commit: str, paths, root=ROOT) -> list[str] | None:
    """Files among ``paths`` (git pathspecs) that differ between ``commit`` and the working
    tree, or ``None`` when git cannot tell (no repository, unknown commit, a dirty run)."""
    if not commit or commit.endswith("+dirty") or commit == "unknown":
        return None
    try:
        out = subprocess.run(["git", "-C", str(root), "diff", "--name-only", commit, "--",
                              *paths], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.split() if out.returncode == 0 else None

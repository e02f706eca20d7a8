"""Provenance of an execution: library version, git commit, packages, seed, timing."""
from __future__ import annotations

import datetime as dt
import json
import platform
import socket
import subprocess
import time
from importlib import metadata
from pathlib import Path

from .. import __version__

PACKAGES = ("numpy", "scipy", "sympy", "numba", "matplotlib", "pandas", "papermill")


def git_commit(path=None) -> str | None:
    """The commit of the repository holding the library (with ``+dirty``), if any."""
    root = Path(path or Path(__file__).resolve().parent.parent)
    try:
        git = ["git", "-C", str(root)]
        commit = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(git + ["status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def package_versions(names=PACKAGES) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


class Provenance:
    """Start it at the top of a notebook (or of a run); :meth:`summary` at the end gives the
    record. Every page of the book ends with :meth:`markdown`; ``rayint run`` writes
    :meth:`summary` (plus what it knows about the run) to ``provenance.json``.
    """

    def __init__(self, seed=None, **parameters):
        self.seed = seed
        self.parameters = parameters
        self.started = dt.datetime.now(dt.timezone.utc)
        self.commit = git_commit()    # at the start: the code that runs, not what is there later
        self._t0 = time.perf_counter()

    def summary(self, **extra) -> dict:
        """The record: versions, commit, machine, seed, parameters, start, wall time, ``extra``."""
        now = dt.datetime.now(dt.timezone.utc)
        return {
            "rayint_lib": __version__,
            "git_commit": self.commit,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "hostname": socket.gethostname(),
            "packages": package_versions(),
            "seed": self.seed,
            "parameters": self.parameters,
            "started_utc": self.started.isoformat(timespec="seconds"),
            "finished_utc": now.isoformat(timespec="seconds"),
            "wall_time_s": round(time.perf_counter() - self._t0, 2),
            **extra,
        }

    def write(self, path, **extra) -> dict:
        """Write :meth:`summary` as JSON to ``path``; returns it."""
        s = self.summary(**extra)
        Path(path).write_text(json.dumps(s, indent=1, default=str))
        return s

    def markdown(self) -> str:
        """A short Markdown block for the end of a page."""
        s = self.summary()
        pk = ", ".join(f"{k} {v}" for k, v in s["packages"].items())
        return (f"**Provenance.** rayint_lib {s['rayint_lib']}, commit `{s['git_commit']}`, "
                f"Python {s['python']}; seed {s['seed']}; executed {s['started_utc']} in "
                f"{s['wall_time_s']} s. Packages: {pk}.")

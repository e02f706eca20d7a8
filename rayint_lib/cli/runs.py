"""Run folders of parameter runs: complete or clearly failed, never half-written.

A run executes a notebook with Papermill into a hidden temporary sibling of its folder
(``.NAME.tmp-PID-XXXX`` holding ``RUNNING.txt``) and renames it to ``NAME`` only when every
file is written: ``notebook.ipynb`` (executed), ``notebook.html`` (standalone, nbconvert),
``parameters.json``, ``glued.json`` (every glued value), ``provenance.json``. A failing or
interrupted run (SIGINT, SIGTERM) is renamed to ``NAME.failed`` with ``FAILED.txt`` (the
traceback) instead; a killed one (SIGKILL) leaves only its hidden temporary folder, still
marked ``RUNNING.txt``. When a run completes, the ``NAME.failed`` of an earlier attempt is
removed (a resumed sweep leaves no stale failure beside a result). The kernel never sees
``RAYINT_CLAIMS_DIR``, so parameter runs do not touch the book's scorecard.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import tempfile
import traceback
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from ..book.notebooks import glued_values
from ..book.provenance import Provenance

FILES = ("notebook.ipynb", "notebook.html", "parameters.json", "glued.json", "provenance.json")
RUNNING, FAILED = "RUNNING.txt", "FAILED.txt"
SCRUBBED_ENV = ("RAYINT_CLAIMS_DIR",)
# a Dask sweep submits a run again this many times when its workers keep dying
WORKER_DEATH_RESUBMITS = 10


class RunExists(FileExistsError):
    """The output folder of a run exists already (results are never overwritten)."""


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread by SIGTERM (see :func:`raise_on_sigterm`)."""


def raise_on_sigterm():
    """Turn SIGTERM into :class:`Interrupted`, so a terminated run is marked failed."""

    def handler(signum, frame):
        for sig in (signal.SIGTERM, signal.SIGINT):  # a second signal must not break the
            signal.signal(sig, signal.SIG_IGN)       # writing of the failed folder
        raise Interrupted(f"interrupted by signal {signal.Signals(signum).name}")

    signal.signal(signal.SIGTERM, handler)


def kernel_env() -> dict:
    """The environment of the notebook's kernel: ours without ``RAYINT_CLAIMS_DIR``."""
    return {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}


class ScrubbedKernelManager(AsyncKernelManager):
    """A kernel manager that starts kernels with :func:`kernel_env`."""

    async def start_kernel(self, **kw):
        kw.setdefault("env", kernel_env())
        return await super().start_kernel(**kw)


def _json(obj) -> str:
    return json.dumps(obj, indent=1, default=str, allow_nan=True)


def _html(nb) -> str:
    import warnings

    from nbconvert import HTMLExporter

    with warnings.catch_warnings():  # glue's papermill.record outputs have no HTML form
        warnings.simplefilter("ignore", UserWarning)
        body, _ = HTMLExporter(embed_images=True).from_notebook_node(nb)
    return body


def execute_into(nb_path, overrides: dict, parameters: dict, workdir, *, cwd=None,
                 kernel_name="python3", extra=None) -> dict:
    """Execute ``nb_path`` with ``overrides`` (Papermill) and write the run's files into
    ``workdir``; returns the provenance record. Raises if the notebook fails (the partly
    executed notebook is then in ``workdir``)."""
    import papermill as pm

    workdir = Path(workdir).absolute()  # papermill changes the process's working directory
    nb_path = Path(nb_path).absolute()
    rest = {k: v for k, v in parameters.items() if k != "seed"}
    prov = Provenance(seed=parameters.get("seed"), **rest)
    (workdir / "parameters.json").write_text(_json(parameters))
    nb = pm.execute_notebook(str(nb_path), str(workdir / "notebook.ipynb"), parameters=overrides,
                             cwd=str(cwd or nb_path.parent), kernel_name=kernel_name,
                             progress_bar=False, kernel_manager_class=ScrubbedKernelManager)
    (workdir / "notebook.html").write_text(_html(nb))
    (workdir / "glued.json").write_text(_json(glued_values(nb)))
    return prov.write(workdir / "provenance.json", notebook=nb_path.stem,
                      overrides=overrides, status="complete", **(extra or {}))


def _claim(out_dir: Path) -> Path:
    """A fresh hidden temporary sibling of ``out_dir`` marked RUNNING."""
    if out_dir.exists():
        raise RunExists(f"output folder {out_dir} exists already; results are never overwritten "
                        "(choose another --out)")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-{os.getpid()}-", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; a result folder is an ordinary one
    (tmp / RUNNING).write_text(f"pid {os.getpid()} is writing {out_dir.name}; if no process "
                               "runs, it was killed and this folder is not a result.\n")
    return tmp


def failed_path(out_dir) -> Path:
    out_dir = Path(out_dir)
    return out_dir.with_name(out_dir.name + ".failed")


def _finish(tmp: Path, out_dir: Path):
    (tmp / RUNNING).unlink()
    if out_dir.exists():  # appeared while we ran: keep both, ours as failed
        raise RunExists(f"output folder {out_dir} appeared while the run was executing")
    os.rename(tmp, out_dir)
    stale = failed_path(out_dir)  # an earlier attempt's failure, now superseded
    if stale.is_dir():
        shutil.rmtree(stale)


def _fail(tmp: Path, out_dir: Path, text: str) -> Path:
    (tmp / FAILED).write_text(text)
    (tmp / RUNNING).unlink(missing_ok=True)
    failed = failed_path(out_dir)
    if failed.exists():  # the previous attempt's failure; this one replaces it
        shutil.rmtree(failed)
    os.rename(tmp, failed)
    return failed


def run(nb_path, overrides: dict, parameters: dict, out_dir, **kw) -> dict:
    """Execute one run into ``out_dir`` atomically (see the module doc); returns provenance.

    On any failure, interruption included, the temporary folder becomes ``out_dir.failed``
    with ``FAILED.txt`` and the exception propagates.
    """
    out_dir = Path(out_dir).absolute()
    tmp = _claim(out_dir)
    try:
        prov = execute_into(nb_path, overrides, parameters, tmp, **kw)
        _finish(tmp, out_dir)
        return prov
    except BaseException as err:
        _fail(tmp, out_dir, f"{type(err).__name__}: {err}\n\n{traceback.format_exc()}")
        raise


def run_quietly(nb_path, overrides, parameters, out_dir, **kw) -> dict:
    """:func:`run` for sweeps: returns ``{"status": "complete"|"failed", ...}`` instead of
    raising on a notebook failure (interruptions still propagate)."""
    try:
        prov = run(nb_path, overrides, parameters, out_dir, **kw)
        return {"status": "complete", "folder": str(out_dir), "wall_time_s": prov["wall_time_s"]}
    except Exception as err:  # noqa: BLE001 - reported in FAILED.txt and the summary
        return {"status": "failed", "folder": str(failed_path(out_dir)), "error": _short(err)}


def _short(err) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[-1] if text else ''}"[:300]


def child_main():
    """A local sweep's child process: one run from a JSON spec on stdin; result on stdout."""
    import sys

    raise_on_sigterm()
    spec = json.loads(sys.stdin.read())
    res = run_quietly(spec["nb"], spec["overrides"], spec["parameters"], spec["out"],
                      kernel_name=spec["kernel_name"])
    print(json.dumps(res, default=str), flush=True)


CHILD = "from rayint_lib.cli.runs import child_main; child_main()"


# --- remote runs (Dask): execute where the worker is, write the folder here ---------------

def execute_remote(nb_text: str, nb_name: str, overrides: dict, parameters: dict,
                   cwd=None, force=False) -> dict:
    """Execute a notebook given as text on a (possibly remote) worker; returns its files as
    base64 strings plus ``ok`` and ``traceback``, so the client writes the run folder and no
    shared file system is needed. ``force``: the kernel gets ``RAYINT_FORCE=1`` (``--force``)."""
    previous = os.environ.get("RAYINT_FORCE")
    if force:
        os.environ["RAYINT_FORCE"] = "1"
    try:
        return _execute_remote(nb_text, nb_name, overrides, parameters, cwd)
    finally:
        if force and previous is None:
            os.environ.pop("RAYINT_FORCE", None)


def _execute_remote(nb_text, nb_name, overrides, parameters, cwd):
    with tempfile.TemporaryDirectory(prefix="rayint-") as tmp:
        tmp = Path(tmp)
        src = tmp / "src" / f"{nb_name}.ipynb"
        src.parent.mkdir()
        src.write_text(nb_text)
        work = tmp / "run"
        work.mkdir()
        if cwd is None or not Path(cwd).is_dir():
            cwd = src.parent
        ok, tb, error = True, "", ""
        try:
            execute_into(src, overrides, parameters, work, cwd=cwd)
        except Exception as err:  # noqa: BLE001 - shipped back and written to FAILED.txt
            ok, error = False, _short(err)
            tb = f"{type(err).__name__}: {err}\n\n{traceback.format_exc()}"
        files = {p.name: base64.b64encode(p.read_bytes()).decode() for p in work.iterdir()
                 if p.is_file()}
        return {"ok": ok, "traceback": tb, "error": error, "files": files}


def write_remote_result(result: dict, out_dir) -> dict:
    """Write what :func:`execute_remote` returned as a run folder (complete or failed)."""
    out_dir = Path(out_dir).absolute()
    tmp = _claim(out_dir)
    try:
        for name, data in result["files"].items():
            (tmp / name).write_bytes(base64.b64decode(data))
        if result["ok"]:
            _finish(tmp, out_dir)
            prov = json.loads((out_dir / "provenance.json").read_text())
            return {"status": "complete", "folder": str(out_dir),
                    "wall_time_s": prov["wall_time_s"]}
        failed = _fail(tmp, out_dir, result["traceback"])
        return {"status": "failed", "folder": str(failed), "error": result["error"]}
    except BaseException as err:
        if tmp.exists():
            _fail(tmp, out_dir, traceback.format_exc())
        if isinstance(err, Exception):
            return {"status": "failed", "folder": str(failed_path(out_dir)), "error": _short(err)}
        raise


# --- naming and reading run folders ------------------------------------------------------

def digest(obj, n=8) -> str:
    """A short stable hash of a JSON-able object."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:n]


def combination_name(swept: dict, parameters: dict) -> str:
    """Deterministic folder name of one sweep combination: swept values + hash of all."""
    text = "_".join(f"{k}={v}" for k, v in swept.items()) or "defaults"
    text = re.sub(r"[^A-Za-z0-9._=+-]", "-", text)[:80]
    return f"{text}_{digest(parameters)}"


def is_complete(folder) -> bool:
    """A finished run folder: final name, every file, provenance status complete."""
    folder = Path(folder)
    if not all((folder / f).is_file() for f in FILES) or (folder / RUNNING).exists():
        return False
    try:
        return json.loads((folder / "provenance.json").read_text()).get("status") == "complete"
    except (OSError, ValueError):
        return False


def read_run(folder) -> tuple[dict, dict, dict]:
    """``(parameters, glued, provenance)`` of a complete run folder."""
    folder = Path(folder)
    return tuple(json.loads((folder / f).read_text())
                 for f in ("parameters.json", "glued.json", "provenance.json"))

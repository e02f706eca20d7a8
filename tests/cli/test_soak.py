"""Soak: a sweep of 40 tiny runs on a local Dask cluster whose workers are killed every few
seconds (issue 21). The harness is ``benchmarks/soak.py``; by hand it runs 500 runs."""
from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import soak  # noqa: E402

from rayint_lib.cli import runs  # noqa: E402


def test_grid_has_at_least_the_runs_asked_for():
    for n in (1, 40, 41, 500, 860):
        a, x = soak.grid(n)
        assert len(a.split(",")) * len(x.split(",")) >= n
    with pytest.raises(ValueError, match="runs must be in"):
        soak.grid(861)


def test_audit_finds_lost_duplicated_and_differing_runs(tmp_path):
    ref, out = tmp_path / "ref", tmp_path / "out"
    for name, text in {"r1": "1", "r2": "2", "r3": "3"}.items():
        (ref / name).mkdir(parents=True)
        (ref / name / "glued.json").write_text(text)
    (ref / "r4").mkdir()  # not in the sweep: ignored
    for name, text in {"r1": "1", "r2": "two", "r4": "4"}.items():
        (out / name).mkdir(parents=True)
        (out / name / "glued.json").write_text(text)
        (out / name / "provenance.json").write_text("{}")
    (out / "r1.failed").mkdir()
    (out / "summary.csv").write_text("run,status\nr1,complete\nr2,complete\nr3,failed\n")
    found = soak.audit(out, ref)
    assert found == {"runs": 3, "lost": ["r3"], "duplicated": ["r1.failed", "r4"],
                     "compared": 2, "differ": ["r2"]}


def test_sweep_survives_workers_killed_every_few_seconds(tmp_path):
    pytest.importorskip("distributed")
    # a scheduler that gives up on a task at the first worker death (KilledWorker): the
    # sweep itself must submit those runs again
    r = soak.soak(tmp_path / "s", 40, n_workers=2, period=3.0, timeout=600, allowed_failures=0)
    assert r["runs"] >= 40 and r["kills"] >= 3 and r["gave_up"] >= 1, r
    # the first invocation completes every run although workers kept dying
    assert r["first_rc"] == 0, r["first_stderr"]
    assert "0 not complete" in r["first_stderr"]
    assert r["lost"] == [] and r["differ"] == [], r  # glued.json byte-identical to local runs
    # one folder per run: no second copy, no temporary folder, and the planted stale
    # NAME.failed of an earlier attempt is gone now that those runs completed
    assert r["stale_failures_planted"] == 2 and r["duplicated"] == [], r
    assert r["second_rc"] == 0
    assert f"{r['runs']} already finished, 0 to run" in r["second_stderr"]


def test_a_completed_run_removes_the_failure_of_an_earlier_attempt(tmp_path):
    import base64
    import json

    from rayint_lib.cli import runs

    out = tmp_path / "a=1_x=0.5_0123abcd"
    failed = runs.failed_path(out)
    failed.mkdir()
    (failed / "FAILED.txt").write_text("Interrupted: an earlier attempt\n")
    prov = json.dumps({"status": "complete", "wall_time_s": 1.0}).encode()
    result = {"ok": True, "traceback": "", "error": "",
              "files": {"provenance.json": base64.b64encode(prov).decode()}}
    assert runs.write_remote_result(result, out)["status"] == "complete"
    assert out.is_dir() and not failed.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


@pytest.fixture
def tiny_on_dask(tmp_path, monkeypatch):
    """The tiny notebook registered (as tests/cli/test_cli.py does), run in ``tmp_path``;
    yields an in-process Dask cluster (one worker, one thread)."""
    distributed = pytest.importorskip("distributed")
    from rayint_lib import chapters

    monkeypatch.syspath_prepend(str(soak.DATA))
    import tiny_validator

    base = chapters.chapter
    monkeypatch.setattr(chapters, "chapter",
                        lambda nb: tiny_validator if nb == "tiny" else base(nb))
    monkeypatch.delenv("RAYINT_CLAIMS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1", dashboard_address=None) as cl:
        yield cl


def test_a_fetched_result_is_released_at_once(tiny_on_dask, monkeypatch):
    """The cause of the long sweeps' stall: results kept after they were written pile up on
    the workers, and each worker death makes the cluster compute them again. When the sweep
    counts a run done, the scheduler must hold no finished result (it forgot the earlier
    ones, and the one just written is released)."""
    from rayint_lib.cli import main as cli

    scheduler, held = tiny_on_dask.scheduler, []

    class Bar:
        """The progress bar: on each finished run, the results the scheduler still holds
        (waiting up to 10 s for the release to arrive)."""

        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self):
            deadline = time.monotonic() + 10
            while (n := sum(ts.state == "memory" for ts in list(scheduler.tasks.values()))) \
                    and time.monotonic() < deadline:
                time.sleep(0.1)
            held.append(n)

    monkeypatch.setattr(cli, "_progress", Bar)
    rc = cli.main(["sweep", str(soak.TINY), "-p", "a", "1,2,3", "--out", "d",
                   "--scheduler", tiny_on_dask.scheduler_address])
    assert rc == 0
    assert held == [0, 0, 0]


ATTEMPTS: Counter = Counter()
EXECUTE_REMOTE = runs.execute_remote  # the real one (the test below replaces it)


def kernel_fails_to_start_once(nb_text, nb_name, overrides, parameters, cwd=None, force=False):
    """``runs.execute_remote`` whose first attempt at each run reports the kernel start
    failure seen in the 500-run soak (a module function: pickled by reference)."""
    ATTEMPTS[json.dumps(overrides, sort_keys=True)] += 1
    if ATTEMPTS[json.dumps(overrides, sort_keys=True)] == 1:
        text = "RuntimeError: Kernel didn't respond in 60 seconds"
        return {"ok": False, "error": text, "traceback": f"{text}\n\n(traceback)", "files": {}}
    return EXECUTE_REMOTE(nb_text, nb_name, overrides, parameters, cwd, force=force)


def test_a_run_whose_kernel_did_not_start_is_run_again(tiny_on_dask, monkeypatch, tmp_path):
    from rayint_lib.cli import main as cli

    ATTEMPTS.clear()
    monkeypatch.setattr(cli.runs, "execute_remote", kernel_fails_to_start_once)
    rc = cli.main(["sweep", str(soak.TINY), "-p", "a", "1,2", "--out", "d",
                   "--scheduler", tiny_on_dask.scheduler_address])
    assert rc == 0 and sorted(ATTEMPTS.values()) == [2, 2]
    assert sorted(p.name.endswith(".failed") for p in (tmp_path / "d").iterdir()) == [False] * 4

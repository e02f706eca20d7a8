"""``rayint detect``: CSV files, TensorBoard exports and folders in; a report, JSON or a
PNG out; bad input refused with the file, row and column, exit status 2, nothing written."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rayint_lib.cli import main as cli

T = np.arange(0, 100_001, 2000)


def curve(run, noise=0.0, seed=0):
    """One plateau at J = 1 whose exit moves with ``run``."""
    rng = np.random.default_rng(seed)
    y = (1 / (1 + np.exp(-(T - 10_000 - 5000 * run) / 1500))
         + 1 / (1 + np.exp(-(T - 40_000 - 12_000 * run) / 1500)))
    return y + rng.normal(0, noise, T.size)


def write(path: Path, header, rows):
    path.write_text(",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


@pytest.fixture
def long_csv(tmp_path):
    rows = [(f"seed{r}", int(t), f"{v:.6f}") for r in range(4) for t, v in zip(T, curve(r))]
    return write(tmp_path / "curves.csv", ["run", "global_step", "Value"], rows)


@pytest.fixture
def tb_folder(tmp_path):
    folder = tmp_path / "tb"
    folder.mkdir()
    for r in range(3):
        rows = [(f"{1.6e9 + t / 50:.3f}", int(t), f"{v:.6f}")
                for t, v in zip(T, curve(r, 0.01, r))]
        write(folder / f"run-{r}.csv", ["Wall time", "Step", "Value"], rows)
    (folder / "notes.txt").write_text("not a curve")
    return folder


def run_json(argv, capsys):
    assert cli.main(["detect", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_keys_and_plateaus(long_csv, capsys):
    out = run_json([str(long_csv)], capsys)
    assert {"runs", "plateaus_per_run", "mean_curve_plateaus", "averaging_hides_plateaus",
            "verdict", "thresholds", "consistent_with_ray_interference"} <= set(out)
    assert [r["run"] for r in out["runs"]] == ["seed0", "seed1", "seed2", "seed3"]
    assert out["plateaus_per_run"] == 1.0
    for r, run in enumerate(out["runs"]):
        (p,) = run["plateaus"]
        assert {"start_step", "end_step", "level", "flatness", "start_ci", "end_ci",
                "level_ci"} <= set(p)
        st = run["start_stall"]
        assert st["left_start"] and st["fraction_ci"][0] <= st["fraction"] + 1e-9
        assert st["end_step"] == pytest.approx(10_000 + 5000 * r, abs=4000)
        assert p["level"] == pytest.approx(1.0, abs=0.02)
        assert abs(p["end_step"] - (40_000 + 12_000 * r - 6000)) <= 5000  # 5% of the span
    assert out["averaging_hides_plateaus"] is True
    assert out["verdict"].startswith("plateaus in 4 of 4 individual runs")
    assert "slow start" in out["verdict"] and "start_stall_fraction" in out


def test_every_format_from_the_command_line(tmp_path, capsys):
    """A Monitor folder (one run of two workers) and a TensorBoard event folder, together."""
    from tensorboardX import SummaryWriter

    rng = np.random.default_rng(0)
    mon = tmp_path / "a2c"
    mon.mkdir()
    for w in range(2):
        ret = np.repeat([0.0, 1.0, 1.0, 2.0], 150) + rng.normal(0, 0.2, 600)
        rows = "".join(f"{r:.3f},10,{w * 0.5 + i:.2f}\n" for i, r in enumerate(ret))
        (mon / f"{w}.monitor.csv").write_text('#{"t_start": 0, "env_id": "x"}\nr,l,t\n' + rows)
    writer = SummaryWriter(str(tmp_path / "tb" / "ppo"))
    for i, v in enumerate(curve(0)):
        writer.add_scalar("charts/episodic_return", float(v), global_step=int(T[i]))
    writer.close()
    out = run_json([str(mon), str(tmp_path / "tb")], capsys)
    assert [r["run"] for r in out["runs"]] == ["a2c", "ppo"]
    assert out["runs"][0]["n_points"] == 1200 and out["runs"][0]["last_step"] == 12000
    assert len(out["runs"][1]["plateaus"]) == 1


def test_tensorboard_export_and_folder(tb_folder, capsys):
    one = run_json([str(tb_folder / "run-0.csv")], capsys)
    assert [r["run"] for r in one["runs"]] == ["run-0"] and len(one["runs"][0]["plateaus"]) == 1
    assert "log several runs" in one["verdict"]
    out = run_json([str(tb_folder)], capsys)
    assert [r["run"] for r in out["runs"]] == ["run-0", "run-1", "run-2"]
    assert out["plateau_counts"] == [1, 1, 1]


def test_components_and_given_columns(tmp_path, capsys):
    first = 1 / (1 + np.exp(-(T - 20_000) / 1500))
    second = 1 / (1 + np.exp(-(T - 60_000) / 1500))
    rows = [(int(t), k, f"{v:.6f}", "A") for k, ys in (("pellets", first), ("ghosts", second))
            for t, v in zip(T, ys)]
    path = write(tmp_path / "c.csv", ["it", "task", "ret", "who"], rows)
    out = run_json([str(path), "--step-col", "IT", "--value-col", "ret", "--run-col", "who",
                    "--component-col", "task"], capsys)
    (run,) = out["runs"]
    assert run["stalls"][0]["component"] == "ghosts" and run["sequential"] is True
    assert "components learned one at a time" in out["verdict"]


def test_text_report_and_plot(long_csv, tmp_path, capsys):
    png = tmp_path / "out.png"
    assert cli.main(["detect", str(long_csv), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "run seed0" in text and "verdict: plateaus in 4 of 4" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.csv", "out.png"]


def _rows(n=10, start=0):
    return [(start + i, f"{i / n:.3f}") for i in range(n)]


BAD = {
    "missing file": (None, "cannot read", None),
    "empty file": ("", "row 1: empty file", None),
    "header only": ("step,value\n", "row 2: no data rows", None),
    "no value column": ("step,loss\n1,2\n", "row 1: no value column", None),
    "no such given column": ("step,value\n1,2\n", "row 1, column 'score': no such column",
                             ["--value-col", "score"]),
    "two step columns": ("step,global_step,value\n1,1,2\n", "could all be the step column",
                         None),
    "non-numeric value": ([(0, "0.1"), (1, "0.2"), (2, "abc")],
                          "row 4, column 'value': 'abc' is not a number", None),
    "non-numeric step": ([(0, "0.1"), ("x", "0.2")], "row 3, column 'step'", None),
    "NaN value": ([(i, "nan" if i == 5 else "0.5") for i in range(10)],
                  "row 7, column 'value': value is nan", None),
    "infinite value": ([(i, "inf" if i == 1 else "0.5") for i in range(10)],
                       "row 3, column 'value'", None),
    "repeated step": ([(min(i, 4), "0.5") for i in range(10)],
                      "row 7, column 'step': step 4 repeats", None),
    "unsorted steps": ([(i if i != 6 else 2.5, "0.5") for i in range(10)],
                       "row 8, column 'step': step 2.5 is smaller", None),
    "too few points": (_rows(5), "rows 2-6, column 'step': 5 point(s)", None),
    "ragged row": ("step,value\n1,2\n2,3,4\n", "row 3: 3 fields", None),
    "empty folder": ("folder", "a folder with no logs", None),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_file_row_column_and_writes_nothing(case, tmp_path, capsys):
    content, message, extra = BAD[case]
    path = tmp_path / "bad.csv"
    if content == "folder":
        path = tmp_path / "empty"
        path.mkdir()
    elif isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        write(path, ["step", "value"], content)
    before = sorted(p.name for p in tmp_path.iterdir())
    rc = cli.main(["detect", str(path), "--plot", str(tmp_path / "out.png"), *(extra or [])])
    err = capsys.readouterr().err
    assert rc == cli.USAGE_ERROR, err
    assert err.count("\n") == 1 and err.startswith("rayint: error: ")
    assert message in err and str(path) in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before      # no PNG, nothing else


def test_bad_run_in_a_long_file_is_named(tmp_path, capsys):
    rows = [("a", i, "0.5") for i in range(10)] + [("b", i, "0.5") for i in range(3)]
    path = write(tmp_path / "runs.csv", ["run", "step", "value"], rows)
    assert cli.main(["detect", str(path)]) == cli.USAGE_ERROR
    assert "rows 12-14, column 'step': 3 point(s) in run 'b'" in capsys.readouterr().err


def test_bad_file_in_a_folder_is_named(tb_folder, capsys):
    bad = tb_folder / "run-1.csv"
    bad.write_text(bad.read_text().replace(",0.0", ",NaN", 1))
    assert cli.main(["detect", str(tb_folder), "--json"]) == cli.USAGE_ERROR
    captured = capsys.readouterr()
    assert f"{bad}, row " in captured.err and "column 'Value'" in captured.err
    assert captured.out == ""


def test_plot_into_a_missing_folder_is_refused(long_csv, tmp_path, capsys):
    assert cli.main(["detect", str(long_csv), "--plot", "nowhere/out.png"]) == cli.USAGE_ERROR
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()


def test_bad_threshold_is_a_usage_error(long_csv, capsys):
    assert cli.main(["detect", str(long_csv), "--tolerance", "0.4"]) == cli.USAGE_ERROR
    assert "tolerance must be in" in capsys.readouterr().err


# --- every bad input of issues 18 and 22: exit 2, the culprit named, a short message, --------
# --- nothing written and no existing file changed --------------------------------------------

def _good(tmp_path):
    return write(tmp_path / "good.csv", ["step", "value"], [(i, i % 3) for i in range(20)])


def _monitor(path, rows, t_start=0.0):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('#{"t_start": %s, "env_id": null}\nr,l,t\n' % t_start
                    + "".join(f"{r},{n},{t}\n" for r, n, t in rows))
    return path


def _events(folder, corrupt=False):
    from tensorboardX import SummaryWriter

    w = SummaryWriter(str(folder))
    for i in range(20):
        w.add_scalar("charts/episodic_return", float(i), global_step=i)
        w.add_scalar("losses/value_loss", 1.0, global_step=i)
    w.close()
    (f,) = folder.glob("events.out.tfevents.*")
    if corrupt:
        data = bytearray(f.read_bytes())
        first = int.from_bytes(data[:8], "little") + 16
        data[first + 13] ^= 0xFF
        f.write_bytes(bytes(data))
    return f


def _case_plot_existing(tmp_path):
    (tmp_path / "old.png").write_bytes(b"precious")
    return [str(_good(tmp_path)), "--plot", str(tmp_path / "old.png")], "the file exists", \
        "old.png"


def _case_plot_is_input(tmp_path):
    g = _good(tmp_path)
    return [str(g), "--plot", str(g), "--force"], "an input of this command", "good.csv"


def _case_plot_device(tmp_path):
    return [str(_good(tmp_path)), "--plot", "/dev/null", "--force"], \
        "not a regular file", "/dev/null"


def _case_plot_symlink(tmp_path):
    (tmp_path / "link.png").symlink_to(tmp_path / "nowhere.png")
    return [str(_good(tmp_path)), "--plot", str(tmp_path / "link.png")], \
        "not a regular file", "link.png"


def _case_monitor_no_episodes(tmp_path):
    p = _monitor(tmp_path / "run" / "0.monitor.csv", [])
    return [str(tmp_path / "run")], "row 3: no episodes", str(p)


def _case_monitor_nan_return(tmp_path):
    p = _monitor(tmp_path / "run" / "0.monitor.csv",
                 [(("nan" if i == 4 else i), 5, i) for i in range(12)])
    return [str(tmp_path / "run")], "row 7, column 'r': value is nan", str(p)


def _case_runs_table(tmp_path):
    p = tmp_path / "wandb_export.csv"
    p.write_text("Name,State,Runtime,Created,episodic_return\nrun-1,finished,10,2024,3\n")
    return [str(p)], "runs-table export", str(p)


def _case_corrupt_events(tmp_path):
    f = _events(tmp_path / "run", corrupt=True)
    return [str(tmp_path / "run")], "corrupt record", str(f)


def _case_missing_tag(tmp_path):
    _events(tmp_path / "run")
    return [str(tmp_path / "run"), "--tag", "eval/return"], \
        "the tags present are 'charts/episodic_return', 'losses/value_loss'", "run"


def _case_mixed_folder(tmp_path):
    _monitor(tmp_path / "run" / "0.monitor.csv", [(1, 5, 1)] * 10)
    write(tmp_path / "run" / "curve.csv", ["step", "value"], [(1, 2)])
    return [str(tmp_path / "run")], "mixes formats", "run"


def _case_backwards_steps(tmp_path):
    rows = [(i if i != 9 else 3, 0.5) for i in range(12)]
    p = write(tmp_path / "c.csv", ["step", "value"], rows)
    return [str(p)], "row 11, column 'step': step 3 is smaller than the step before it", str(p)


def _case_not_utf8(tmp_path):
    p = tmp_path / "latin1.csv"
    p.write_bytes(b"step,value\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(5000))
                  + b"5000,\xe9\n")                # past the first block the header is read in
    return [str(p)], f"byte {p.stat().st_size - 2}: not UTF-8", str(p)


def _case_device_input(tmp_path):
    return ["/dev/zero"], "not a regular file", "/dev/zero"


def _case_too_big(tmp_path, monkeypatch=None):
    p = _good(tmp_path)
    return [str(p)], "more than the", str(p)


def _case_long_header(tmp_path):
    p = tmp_path / "wide.csv"
    p.write_text("step," + "x" * 20000 + "\n1,2\n")
    return [str(p)], "no value column", str(p)


def _case_long_value(tmp_path):
    p = tmp_path / "long.csv"
    p.write_text("step,value\n1," + "9" * 5 + "z" * 20000 + "\n")
    return [str(p)], "is not a number", str(p)


def _case_huge_steps(tmp_path):
    p = write(tmp_path / "huge.csv", ["step", "value"],
              [(f"{100000000000000000 + i}", i) for i in range(12)])
    return [str(p)], "cannot be told from the step before it in double precision", str(p)


def _case_plot_empty_name(tmp_path):
    return [str(_good(tmp_path)), "--plot", ""], "an empty file name", "--plot"


BAD_LOGS = {name[6:]: f for name, f in dict(globals()).items() if name.startswith("_case_")}


@pytest.mark.parametrize("case", sorted(BAD_LOGS))
def test_bad_logs_refused_before_work(case, tmp_path, capsys, monkeypatch):
    if case == "too_big":
        monkeypatch.setattr("rayint_lib.logs.table.MAX_BYTES", 100)
    argv, message, culprit = BAD_LOGS[case](tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    rc = cli.main(["detect", *argv, *([] if "--plot" in argv else
                                      ["--plot", str(tmp_path / "out.png")])])
    err = capsys.readouterr().err
    assert rc == cli.USAGE_ERROR, err
    assert err.count("\n") == 1 and err.startswith("rayint: error: "), err
    assert message in err and culprit in err, err
    assert len(err) < 700                                   # bounded: a short prefix quoted
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before                                   # nothing written or changed


def test_plot_force_replaces_a_regular_file(long_csv, tmp_path, capsys):
    out = tmp_path / "old.png"
    out.write_bytes(b"old")
    assert cli.main(["detect", str(long_csv), "--plot", str(out), "--force"]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_same_verdict_at_any_scale(tmp_path, capsys):
    """Curves near the largest double give the same runs, plateaus and verdict."""
    base = [(f"s{r}", int(t), v) for r in range(3) for t, v in zip(T, curve(r, 0.05, r))]
    out = {}
    for name, factor in (("unit", 1.0), ("huge", 8e307), ("tiny", 1e-300)):
        rows = [(r, t, f"{v * factor:.17g}") for r, t, v in base]
        out[name] = run_json([str(write(tmp_path / f"{name}.csv", ["run", "step", "value"],
                                        rows))], capsys)
    for name in ("huge", "tiny"):
        assert out[name]["verdict"] == out["unit"]["verdict"]
        assert out[name]["plateau_counts"] == out["unit"]["plateau_counts"]
        assert [p["start_step"] for r in out[name]["runs"] for p in r["plateaus"]] == \
            [p["start_step"] for r in out["unit"]["runs"] for p in r["plateaus"]]

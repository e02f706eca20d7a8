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
        assert {"start_step", "end_step", "level", "flatness"} <= set(p)
        assert p["level"] == pytest.approx(1.0, abs=0.02)
        assert abs(p["end_step"] - (40_000 + 12_000 * r - 6000)) <= 5000  # 5% of the span
    assert out["averaging_hides_plateaus"] is True
    assert out["verdict"].startswith("plateaus in 4 of 4 individual runs")


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

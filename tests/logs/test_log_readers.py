"""Each log reader (rayint_lib.logs) on files written the way each library writes them:
TensorBoard event files by tensorboardX's SummaryWriter, a real public Stable-Baselines3
Monitor log, and the CSV layouts of SB3, RLlib and W&B."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from rayint_lib import logs
from rayint_lib.logs import tfevents

REPO = Path(__file__).resolve().parents[2]
PUBLIC = REPO / "book" / "data" / "public_logs" / "open_the_chests"


def write_monitor(path: Path, episodes, t_start=1000.0):
    """As SB3's ``Monitor`` writes it: a JSON line, then ``csv.DictWriter`` rows r,l,t."""
    with open(path, "w", newline="") as f:
        f.write("#%s\n" % json.dumps({"t_start": t_start, "env_id": "CartPole-v1"}))
        w = csv.DictWriter(f, fieldnames=("r", "l", "t"))
        w.writeheader()
        for r, length, t in episodes:
            w.writerow({"r": r, "l": length, "t": t})


def write_events(folder: Path, tag="charts/episodic_return", n=30, start=0, other=None):
    from tensorboardX import SummaryWriter

    w = SummaryWriter(str(folder))
    for i in range(start, start + n):
        w.add_scalar(tag, float(i) / 10, global_step=i * 100)
        if other:
            w.add_scalar(other, 1.0, global_step=i * 100)
    w.close()
    return sorted(folder.glob("events.out.tfevents.*"))


def test_real_public_monitor_log():
    t = logs.read([PUBLIC / "run0"])
    assert t.run_names == ["run0"] and t.formats == ["monitor"]
    assert t.steps.size == 925 and t.steps[0] == 20 and t.values[0] == -55
    assert np.all(np.diff(t.steps) > 0)
    assert t.where(3) .endswith("row 6, column 'l'")


def test_monitor_folder_is_one_run_merged_by_wall_time(tmp_path):
    run = tmp_path / "ppo_1"
    run.mkdir()
    write_monitor(run / "0.monitor.csv", [(1.0, 10, 1.0), (2.0, 10, 3.0)], t_start=100.0)
    write_monitor(run / "1.monitor.csv", [(5.0, 7, 1.5), (6.0, 3, 2.0)], t_start=101.0)
    t = logs.read([run])
    assert t.run_names == ["ppo_1"]
    # wall times 101 (w0), 102.5 (w1), 103 (w0), 103 (w1): stable order, cumulative lengths
    assert list(t.values) == [1.0, 5.0, 2.0, 6.0]
    assert list(t.steps) == [10, 17, 27, 30]
    two = tmp_path / "ppo_2"
    two.mkdir()
    write_monitor(two / "0.monitor.csv", [(1.0, 5, 1.0)] * 2)
    assert logs.read([run, two]).run_names == ["ppo_1", "ppo_2"]


def test_event_files_written_by_tensorboardx(tmp_path):
    write_events(tmp_path / "runA", other="losses/value_loss")
    write_events(tmp_path / "runB", n=12)
    t = logs.read([tmp_path])
    assert t.run_names == ["runA", "runB"] and t.formats == ["tfevents"]
    a = t.runs == 0
    assert list(t.steps[a][:3]) == [0, 100, 200]
    assert t.values[a][5] == pytest.approx(0.5)
    assert logs.read([tmp_path / "runA"], tag="losses/value_loss").values[0] == 1.0
    with pytest.raises(logs.LogError, match="tags present are 'charts/episodic_return', "
                       "'losses/value_loss'") as info:
        logs.read([tmp_path / "runA"], tag="nope")
    assert "no scalar tag 'nope'" in str(info.value)


def test_event_file_cut_short_is_read_with_a_warning(tmp_path):
    (f,) = write_events(tmp_path / "run", n=20)
    data = f.read_bytes()
    f.write_bytes(data[:-7])
    t = logs.read([tmp_path / "run"])
    assert t.steps.size == 19 and "cut short" in t.warnings[0]


def test_corrupt_event_record_names_file_and_byte(tmp_path):
    (f,) = write_events(tmp_path / "run", n=20)
    data = bytearray(f.read_bytes())
    # the third record starts after the first two; damage a byte inside it
    pos = 0
    for _ in range(2):
        length = int.from_bytes(data[pos:pos + 8], "little")
        pos += 12 + length + 4
    data[pos + 14] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(logs.LogError, match=f"byte {pos}: corrupt record"):
        logs.read([tmp_path / "run"])


def test_masked_crc_matches_the_writer():
    # tensorboardX's own record of an empty event, checked by our CRC-32C
    from tensorboardX.record_writer import masked_crc32c

    for data in (b"", b"a", b"123456789", bytes(range(256))):
        assert tfevents.masked_crc(data) == masked_crc32c(data)


def test_sb3_progress_skips_empty_early_rows(tmp_path):
    p = tmp_path / "PPO_3" / "progress.csv"
    p.parent.mkdir()
    p.write_text("rollout/ep_len_mean,rollout/ep_rew_mean,time/fps,time/total_timesteps\n"
                 ",,900,2048\n" + "".join(f"20,{i}.5,900,{2048 * (i + 2)}\n" for i in range(9)))
    t = logs.read([p])
    assert t.formats == ["sb3_progress"] and t.run_names == ["PPO_3"]
    assert t.steps[0] == 4096 and t.values[0] == 0.5 and t.record[0] == 3


@pytest.mark.parametrize("step, value", [
    ("num_env_steps_sampled_lifetime", "env_runners/episode_return_mean"),
    ("timesteps_total", "episode_reward_mean"),
])
def test_rllib_progress(tmp_path, step, value):
    p = tmp_path / "PPO_CartPole_0" / "progress.csv"
    p.parent.mkdir()
    p.write_text(f"{value},training_iteration,{step}\n"
                 + "".join(f"{i * 3},{i},{4000 * (i + 1)}\n" for i in range(10)))
    t = logs.read([p])
    assert t.formats == ["rllib_progress"] and list(t.values[:2]) == [0, 3]


def test_wandb_chart_export_one_run_per_column(tmp_path):
    p = tmp_path / "chart.csv"
    rows = ['"Step","ppo-1 - episodic_return","ppo-1 - episodic_return__MIN",'
            '"ppo-1 - episodic_return__MAX","ppo-2 - episodic_return",'
            '"ppo-2 - episodic_return__MIN","ppo-2 - episodic_return__MAX"']
    for i in range(10):
        b = "" if i == 0 else f"{i * 2}"
        rows.append(f"{i * 10},{i},{i},{i},{b},{b},{b}")
    p.write_text("\n".join(rows) + "\n")
    t = logs.read([p])
    assert t.run_names == ["ppo-1", "ppo-2"]
    assert (t.runs == 1).sum() == 9 and t.steps[t.runs == 1][0] == 10


def test_wandb_history_and_runs_table(tmp_path):
    p = tmp_path / "history.csv"
    p.write_text("_step,_runtime,charts/episodic_return,losses/pg\n"
                 + "".join(f"{i},{i}.1,{i * 1.5},0.1\n" for i in range(10)))
    t = logs.read([p])
    assert t.formats == ["wandb"] and t.values[2] == 3.0
    runs = tmp_path / "runs.csv"
    runs.write_text("Name,State,Notes,User,Runtime,episodic_return\nppo-1,finished,,me,30,200\n")
    with pytest.raises(logs.LogError, match="runs-table export .* export a run's history"):
        logs.read([runs])


def test_folder_mixing_formats_is_refused(tmp_path):
    write_monitor(tmp_path / "0.monitor.csv", [(1.0, 5, 1.0)])
    (tmp_path / "curve.csv").write_text("step,value\n1,2\n")
    with pytest.raises(logs.LogError, match="mixes formats"):
        logs.read([tmp_path])


def test_not_utf8_named_with_byte_offset(tmp_path):
    p = tmp_path / "c.csv"
    p.write_bytes(b"step,value\n1,2\n2,\xff\n")
    with pytest.raises(logs.LogError, match=r"byte 17: not UTF-8"):
        logs.read([p], fmt="monitor")


def test_tensor_scalars_as_tensorflow_2_writes_them(tmp_path):
    """TF2's summary API logs scalars as tensors (float_val, or raw tensor_content)."""
    import struct

    from tensorboardX.event_file_writer import EventFileWriter
    from tensorboardX.proto.event_pb2 import Event
    from tensorboardX.proto.summary_pb2 import Summary
    from tensorboardX.proto.tensor_pb2 import TensorProto

    w = EventFileWriter(str(tmp_path / "tf2"))
    for i in range(12):
        values = [Summary.Value(tag="eval/mean_reward",
                                tensor=TensorProto(dtype=1, float_val=[i * 0.5])),
                  Summary.Value(tag="episode_return",
                                tensor=TensorProto(dtype=2, tensor_content=struct.pack(
                                    "<d", i * 2.0)))]
        w.add_event(Event(wall_time=1e9 + i, step=i * 10, summary=Summary(value=values)))
    w.close()
    t = logs.read([tmp_path / "tf2"])                   # the first usual tag present
    assert list(t.values[:3]) == [0.0, 0.5, 1.0] and t.steps[-1] == 110
    t = logs.read([tmp_path / "tf2"], tag="episode_return")
    assert list(t.values[:3]) == [0.0, 2.0, 4.0]

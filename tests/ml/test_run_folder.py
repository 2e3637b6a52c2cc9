"""The reading side of the run folder (docs/run-folder.md): run.json, the metrics tail, grids."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from studio.ml.checkpoints import save_checkpoint
from studio.ml.training import run_folder as rf
from studio.ml.training.dcgan import DCGANTrainer
from studio.ml.training.run import RunSettings, TrainingRun

RUN = {"format": rf.RUN_FORMAT, "kind": "dcgan", "config": {"nz": 16, "image_size": 32, "channels": 3},
       "dataset": {"name": "shapes", "path": None, "seed": 0, "size": 32, "channels": 3, "images": 8192},
       "total_steps": 100, "sample_every": 10, "checkpoint_every": 50, "batch_size": 64, "start_step": 0,
       "world_size": 4, "backend": "gloo", "device": "cpu", "host": "node7", "pid": 1, "command": None,
       "started": "2025-01-01T00:00:00+00:00", "status": "running", "step": None, "ended": None, "message": None}


def line(step: int, t: float = 1000.0, **extra) -> bytes:
    record = {"step": step, "time": t + step, "loss_D": 1.0 / step, **extra}
    return (json.dumps(record, ensure_ascii=False) + "\n").encode()


def test_the_reader_follows_what_the_writer_writes(tmp_path, tiny_config, shapes32):
    trainer = DCGANTrainer(tiny_config, shapes32, "cpu", seed=0)
    writer = TrainingRun(trainer, RunSettings(tmp_path, 4, sample_every=2, checkpoint_every=4), {"name": "shapes"})
    tail = rf.MetricsTail(tmp_path / rf.METRICS_NAME)
    info = rf.read_run_info(tmp_path)
    assert (info["kind"], info["status"], info["total_steps"]) == ("dcgan", "running", 4)
    writer.initial_samples()
    for _ in range(2):
        writer.advance()
    assert [r["step"] for r in tail.poll().records] == [1, 2]  # flushed with the step-2 grid
    assert [step for step, _ in rf.list_sample_grids(tmp_path)] == [0, 2]
    assert rf.read_grid(rf.list_sample_grids(tmp_path)[-1][1]).shape == (8 * 34 + 2, 8 * 34 + 2, 3)
    while not writer.done:
        writer.advance()
    writer.close()
    assert [r["step"] for r in tail.poll().records] == [3, 4]
    assert rf.read_run_info(tmp_path)["status"] == "finished"
    assert rf.file_stamp(tmp_path / rf.CHECKPOINT_NAME) is not None


def test_tail_keeps_a_torn_line_until_its_newline_arrives(tmp_path):
    path = tmp_path / "metrics.jsonl"
    tail = rf.MetricsTail(path)
    assert tail.poll().records == [] and not tail.poll().reset  # no log yet: nothing, no reset
    second = line(2, extra="é")  # a two-byte character, cut in the middle below
    cut = second.index("é".encode()) + 1
    path.write_bytes(line(1) + second[:cut])
    read = tail.poll()
    assert [r["step"] for r in read.records] == [1] and read.grew and read.skipped == 0
    assert tail.poll().records == []  # still torn
    with open(path, "ab") as f:
        f.write(second[cut:] + line(3)[:5])
    read = tail.poll()
    assert [r["step"] for r in read.records] == [2] and read.records[0]["extra"] == "é"
    with open(path, "ab") as f:
        f.write(line(3)[5:])
    assert [r["step"] for r in tail.poll().records] == [3]
    assert tail.offset == path.stat().st_size and tail.skipped == 0


def test_tail_skips_and_counts_lines_that_are_not_records(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(line(1) + b"{not json\n" + b"\n" + b"[1, 2]\n" + b'{"loss": 1}\n' + b"\xff\xfe\n" + line(2))
    tail = rf.MetricsTail(path)
    read = tail.poll()
    assert [r["step"] for r in read.records] == [1, 2]
    assert read.skipped == 4 and tail.skipped == 4  # the empty line is not counted


def test_tail_reads_a_long_history_in_chunks(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b"".join(line(step) for step in range(1, 201)))
    tail = rf.MetricsTail(path, max_bytes=1000)
    steps, polls = [], 0
    while True:
        read = tail.poll()
        polls += 1
        steps += [r["step"] for r in read.records]
        if not read.more:
            break
    assert steps == list(range(1, 201)) and polls > 5


def test_tail_starts_again_when_the_log_is_replaced_or_shrinks(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b"".join(line(step) for step in range(1, 11)))
    tail = rf.MetricsTail(path)
    assert len(tail.poll().records) == 10
    # a resumed run rewrites the log atomically, without the lines after its checkpoint's step
    tmp = tmp_path / ".metrics.jsonl.tmp"
    tmp.write_bytes(b"".join(line(step) for step in range(1, 6)))
    os.replace(tmp, path)
    read = tail.poll()
    assert read.reset and [r["step"] for r in read.records] == [1, 2, 3, 4, 5]
    with open(path, "ab") as f:
        f.write(line(6))
    read = tail.poll()
    assert not read.reset and [r["step"] for r in read.records] == [6]
    # rewritten in place, shorter (same inode)
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(line(1, t=5000.0))
    read = tail.poll()
    assert read.reset and [r["time"] for r in read.records] == [5001.0]
    path.unlink()
    assert tail.poll().reset and not tail.poll().reset


def test_step_rate_uses_the_records_own_clock():
    rate = rf.StepRate(window=5.0)
    rate.add([{"step": s, "time": 100.0 + s / 10} for s in range(1, 201)])  # 10 steps/s, arriving at once
    assert rate.steps_per_second == pytest.approx(10.0)
    rate.add([{"step": 201, "time": 200.0}])  # a long pause: the window holds one point before it
    assert rate.steps_per_second < 1.0
    rate.add([{"step": 5, "time": 50.0}])  # another session: starts over
    assert rate.steps_per_second is None


def test_grids_are_listed_by_step_and_odd_names_ignored(tmp_path):
    samples = tmp_path / "samples"
    samples.mkdir()
    for name in ("step_000100.png", "step_000020.png", "step_1000000.png", "step_x.png", "step_000030.png.tmp",
                 ".step_000040.png", "notes.txt", "step_000050.PNG"):
        (samples / name).write_bytes(b"")
    assert [(step, path.name) for step, path in rf.list_sample_grids(tmp_path)] == [
        (20, "step_000020.png"), (100, "step_000100.png"), (1000000, "step_1000000.png")]
    assert rf.list_sample_grids(tmp_path / "elsewhere") == []


def test_read_grid_decodes_gray_and_rgb_and_names_a_broken_file(tmp_path):
    gray, rgb = tmp_path / "gray.png", tmp_path / "rgb.png"
    Image.fromarray(np.full((6, 8), 7, np.uint8)).save(gray)
    Image.fromarray(np.full((6, 8, 3), 9, np.uint8)).save(rgb)
    assert rf.read_grid(gray).shape == (6, 8, 1) and rf.read_grid(rgb)[0, 0].tolist() == [9, 9, 9]
    cut = tmp_path / "step_000010.png"
    cut.write_bytes(rgb.read_bytes()[:40])
    with pytest.raises(rf.RunFolderError, match="step_000010.png"):
        rf.read_grid(cut)
    with pytest.raises(rf.RunFolderError, match="gone.png"):
        rf.read_grid(tmp_path / "gone.png")


def test_run_json_is_read_and_checked(tmp_path):
    assert rf.read_run_info(tmp_path) is None
    assert not rf.is_run_folder(tmp_path)
    (tmp_path / "run.json").write_text(json.dumps(RUN))
    assert rf.is_run_folder(tmp_path)
    assert rf.read_run_info(tmp_path) == RUN
    for text, said in (("{\"format\": \"latent-studio-run/1\", \"kind\": ", "not valid JSON"),
                       ("[1, 2]", "a JSON list"),
                       (json.dumps({**RUN, "format": "latent-studio-run/2"}), "cannot read"),
                       (json.dumps({**RUN, "format": "something-else"}), "not a latent-studio run"),
                       (json.dumps({**RUN, "config": None}), "'config' is not a dict")):
        (tmp_path / "run.json").write_text(text)
        with pytest.raises(rf.RunFolderError, match=said) as caught:
            rf.read_run_info(tmp_path)
        assert str(tmp_path / "run.json") in str(caught.value)


def test_without_run_json_the_checkpoint_describes_the_run(tmp_path):
    import torch

    meta = {"kind": "dcgan", "config": RUN["config"], "dataset": RUN["dataset"], "step": 40}
    save_checkpoint(tmp_path / "last.safetensors", {"w": torch.zeros(2)}, {"format": "latent-studio/1", **meta})
    assert rf.is_run_folder(tmp_path)
    checkpoint = tmp_path / "last.safetensors"
    info = rf.info_from_checkpoint_meta(rf.read_checkpoint_meta(checkpoint), checkpoint)
    assert info["source"] == "checkpoint" and {k: info[k] for k in meta} == meta and info["status"] is None
    stamp = rf.file_stamp(checkpoint)
    save_checkpoint(checkpoint, {"w": torch.zeros(2)}, {**meta, "step": 50})
    assert rf.file_stamp(checkpoint) != stamp  # a new checkpoint is noticed
    checkpoint.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(rf.RunFolderError, match="last.safetensors"):
        rf.read_checkpoint_meta(checkpoint)


def test_spread_keeps_the_ends():
    assert rf.spread(list(range(10)), 20) == list(range(10))
    picked = rf.spread(list(range(100)), 5)
    assert picked[0] == 0 and picked[-1] == 99 and len(picked) == 5
    assert rf.spread([1, 2, 3], 1) == [3]

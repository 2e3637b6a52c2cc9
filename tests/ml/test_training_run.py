import json
import math

import pytest
from PIL import Image

from studio.ml.checkpoints import load_checkpoint, read_checkpoint_meta
from studio.ml.training.dcgan import DCGANTrainer
from studio.ml.training.run import NonFiniteLoss, RunSettings, TrainingRun, checkpoint_meta, read_metrics_log
from studio.testing.trainers import DivergingTrainer

INFO = {"name": "shapes", "path": None, "seed": 0, "size": 32, "channels": 3}


def make_run(tmp_path, config, data, total=12, at=None, **settings):
    trainer = DCGANTrainer(config, data, "cpu", seed=0)
    if at is not None:
        trainer = DivergingTrainer(trainer, at)
    return TrainingRun(trainer, RunSettings(tmp_path, total, **settings), INFO)


def test_run_writes_log_samples_and_checkpoints(tmp_path, tiny_config, shapes32):
    run = make_run(tmp_path, tiny_config, shapes32, total=12, sample_every=5, checkpoint_every=4)
    assert run.checkpoint_path == tmp_path / "last.safetensors" and run.metrics_path == tmp_path / "metrics.jsonl"
    first = run.initial_samples()
    assert first.shape == (64, 3, 32, 32)
    reports = []
    while not run.done:
        reports.append(run.advance())
    assert [r.step for r in reports] == list(range(1, 13))
    assert [r.step for r in reports if r.samples is not None] == [5, 10, 12]  # and at the end
    assert [r.step for r in reports if r.checkpoint is not None] == [4, 8, 12]
    assert all(r.seconds > 0 and set(r.losses) == {"loss_D", "loss_G", "D_x", "D_G_z"} for r in reports)
    assert run.close() == run.checkpoint_path

    records = read_metrics_log(run.metrics_path)
    assert [r["step"] for r in records] == list(range(1, 13))
    assert records[0]["loss_G"] == reports[0].losses["loss_G"] and records[0]["time"] > 1.6e9
    names = sorted(p.name for p in run.samples_dir.iterdir())
    assert names == ["step_000000.png", "step_000005.png", "step_000010.png", "step_000012.png"]
    with Image.open(run.samples_dir / "step_000005.png") as grid:
        assert grid.size == (8 * 34 + 2, 8 * 34 + 2) and grid.mode == "RGB"

    meta = read_checkpoint_meta(run.checkpoint_path)
    assert meta["format"] == "latent-studio/1" and meta["kind"] == "dcgan" and meta["step"] == 12
    assert meta["dataset"] == INFO and meta["config"]["nz"] == 16 and meta["metrics"] == reports[-1].losses
    assert {"latent_studio", "torch"} <= meta["versions"].keys() and meta["created"]


def test_resumed_run_continues_the_log(tmp_path, tiny_config, shapes32):
    run = make_run(tmp_path, tiny_config, shapes32, total=6, checkpoint_every=4)
    while not run.done:
        run.advance()
    run.close(save=False)  # a crash after step 6: the checkpoint is at step 4, the log at step 6
    checkpoint = load_checkpoint(run.checkpoint_path)
    trainer = DCGANTrainer(checkpoint.meta["config"], shapes32, "cpu", seed=0)
    trainer.load_state(checkpoint.tensors, checkpoint.meta["extra"], source=run.checkpoint_path)
    resumed = TrainingRun(trainer, RunSettings(tmp_path, 8, checkpoint_every=4), INFO)
    with open(tmp_path / "metrics.jsonl", "rb") as f:
        assert f.read().endswith(b"\n")
    while not resumed.done:
        resumed.advance()
    resumed.close()
    assert [r["step"] for r in read_metrics_log(resumed.metrics_path)] == list(range(1, 9))


def test_non_finite_loss_stops_before_writing_and_keeps_the_good_checkpoint(tmp_path, tiny_config, shapes32):
    run = make_run(tmp_path, tiny_config, shapes32, total=20, at=8, sample_every=3, checkpoint_every=5)
    run.initial_samples()
    with pytest.raises(NonFiniteLoss) as info:
        while not run.done:
            run.advance()
    error = info.value
    assert error.step == 8 and math.isnan(error.losses["loss_G"])
    assert error.last_checkpoint == tmp_path / "last.safetensors" and error.last_step == 5
    assert "loss_G=nan at step 8" in str(error) and "last.safetensors (step 5)" in str(error)
    good = run.checkpoint_path.read_bytes()

    assert run.close() is None  # no checkpoint of diverged weights
    assert run.checkpoint_path.read_bytes() == good
    assert load_checkpoint(run.checkpoint_path).meta["step"] == 5
    assert [r["step"] for r in read_metrics_log(run.metrics_path)] == list(range(1, 8))
    assert sorted(p.name for p in run.samples_dir.iterdir()) == [
        "step_000000.png", "step_000003.png", "step_000006.png"]
    with pytest.raises(RuntimeError):
        run.advance()


def test_non_finite_loss_before_any_checkpoint(tmp_path, tiny_config, shapes32):
    run = make_run(tmp_path, tiny_config, shapes32, total=20, at=2, checkpoint_every=5)
    run.advance()
    with pytest.raises(NonFiniteLoss, match="no checkpoint had been written") as info:
        run.advance()
    assert info.value.last_checkpoint is None
    run.close()
    assert not run.checkpoint_path.exists()


def test_checkpoint_meta_is_json(tiny_config, shapes32):
    trainer = DCGANTrainer(tiny_config, shapes32, "cpu", seed=0)
    meta = checkpoint_meta(trainer, INFO, {"loss_G": 1.0})
    json.dumps(meta, allow_nan=False)  # strict JSON
    assert set(meta) == {"format", "kind", "config", "dataset", "step", "metrics", "extra", "created", "versions"}


def test_metrics_log_tolerates_a_cut_last_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1, "loss_G": 1.0}\n{"step": 2, "loss_G": 0.9}\n{"step": 3, "lo')
    assert [r["step"] for r in read_metrics_log(path)] == [1, 2]
    (tmp_path / "other.jsonl").write_text("not json at all\n")
    with pytest.raises(ValueError, match="not a metrics log"):
        read_metrics_log(tmp_path / "other.jsonl")


def test_settings_are_checked(tmp_path):
    with pytest.raises(ValueError):
        RunSettings(tmp_path, 10, sample_every=0)


def run_info(run) -> dict:
    return json.loads(run.info_path.read_text())


def test_run_json_says_what_runs_and_how_it_ended(tmp_path, tiny_config, shapes32):
    run = make_run(tmp_path / "a", tiny_config, shapes32, total=3)
    info = run_info(run)  # written at the start, before any step
    assert info["format"] == "latent-studio-run/1" and info["status"] == "running" and info["step"] is None
    assert info["kind"] == "dcgan" and info["config"]["nz"] == 16 and info["dataset"] == INFO
    assert (info["total_steps"], info["batch_size"], info["start_step"]) == (3, 16, 0)
    assert (info["world_size"], info["backend"], info["device"]) == (1, None, "cpu")
    while not run.done:
        run.advance()
    run.close()
    info = run_info(run)
    assert info["status"] == "finished" and info["step"] == 3 and info["ended"] and info["message"] is None

    stopped = make_run(tmp_path / "b", tiny_config, shapes32, total=10)
    stopped.advance()
    stopped.close()
    assert run_info(stopped)["status"] == "stopped" and run_info(stopped)["step"] == 1

    failed = make_run(tmp_path / "c", tiny_config, shapes32, total=10)
    failed.close(failure="RuntimeError: out of memory")
    assert run_info(failed)["status"] == "failed" and run_info(failed)["message"] == "RuntimeError: out of memory"
    assert not failed.checkpoint_path.exists()

    diverged = make_run(tmp_path / "d", tiny_config, shapes32, total=10, at=2)
    with pytest.raises(NonFiniteLoss):
        while True:
            diverged.advance()
    diverged.close()
    info = run_info(diverged)
    assert info["status"] == "diverged" and "loss_G=nan at step 2" in info["message"]
    assert not list(tmp_path.glob("*/.run.json.tmp"))  # written atomically


def test_only_the_main_process_writes(tmp_path, tiny_config, shapes32):
    from studio.ml.distributed import ProcessGroup

    trainer = DCGANTrainer(tiny_config, shapes32, "cpu", seed=0)
    run = TrainingRun(trainer, RunSettings(tmp_path / "run", 4, sample_every=1, checkpoint_every=1), INFO,
                      ProcessGroup(rank=1, world_size=2))
    assert run.initial_samples() is None
    reports = [run.advance() for _ in range(4)]
    assert [r.step for r in reports] == [1, 2, 3, 4] and all(r.samples is None and r.checkpoint is None
                                                             for r in reports)
    assert run.close() is None
    assert not (tmp_path / "run").exists()

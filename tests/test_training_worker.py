"""The background TrainingWorker inside a real (offscreen) studio."""

import time

import numpy as np
import pytest
import torch
from PySide6.QtCore import QTimer

from studio import hookimpl
from studio.catalog import RunSetup
from studio.contributions import DatasetSpec, ModelKind
from studio.runtime.training_worker import RunRequest, RunState
from studio.testing.signals import SignalRecorder
from studio.testing.trainers import DivergingTrainer

TINY = {"nz": 16, "ngf": 8, "ndf": 8, "batch_size": 16, "lr": 2e-3}


def one_image_dataset(size, channels, path, seed):
    """One bright square on black, repeated: a target the generator can visibly reach."""
    from studio.ml.data.base import ImageDataset

    image = torch.zeros(1, channels or 1, size, size, dtype=torch.uint8)
    image[..., size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 255
    return ImageDataset("one-square", image.repeat(64, 1, 1, 1))


class TestPlugin:
    @hookimpl
    def register_datasets(self):
        return [DatasetSpec("one_square", "One square", one_image_dataset)]

    @hookimpl
    def register_model_kinds(self):
        from studio.ml.training.dcgan_params import DCGAN_PARAMS

        def build(config, dataset, device, seed):
            from studio.ml.training.dcgan import DCGANTrainer

            return DivergingTrainer(DCGANTrainer(config, dataset, device, seed), at=7, loss="loss_D")

        return [ModelKind("nan_dcgan", "DCGAN that diverges", DCGAN_PARAMS, build)]


@pytest.fixture
def studio(make_studio):
    return make_studio(TestPlugin())


def request(tmp_path, steps, kind="dcgan", **kw):
    setup = RunSetup(kind, "one_square", image_size=32, channels=1, seed=1, config=TINY)
    return RunRequest(total_steps=steps, out_dir=tmp_path / "run", setup=setup, **kw)


def metric_records(recorder):
    return [record for (records,) in recorder.args("metrics") for record in records]


def test_worker_trains_the_generator_toward_the_data(studio, qtbot, tmp_path):
    from studio.ml.grid import make_grid

    worker = studio.training
    seen = SignalRecorder(worker)
    worker.start(request(tmp_path, steps=200, sample_every=200, checkpoint_every=1000))
    seen.wait(qtbot, "finished", timeout=120_000)
    assert [r["step"] for r in metric_records(seen)] == list(range(1, 201))
    target = make_grid(one_image_dataset(32, 1, None, 0).images[:64].repeat(1, 1, 1, 1)).astype(float)
    (first_step, first), (last_step, last) = seen.args("samples")[0], seen.args("samples")[-1]
    assert (first_step, last_step) == (0, 200)
    before, after = np.mean((first - target) ** 2), np.mean((last - target) ** 2)
    assert after < 0.5 * before, (before, after)
    # the final checkpoint was written on finishing, and the live generator was published
    assert seen.args("checkpoint_saved")[-1] == (str(tmp_path / "run" / "last.safetensors"), 200)
    assert studio.models.get("dcgan (training)").meta["step"] == 200


def test_pause_resume_stop_while_the_ui_keeps_running(studio, qtbot, tmp_path):
    worker = studio.training
    seen = SignalRecorder(worker)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)

    worker.start(request(tmp_path, steps=100_000, checkpoint_every=100_000))
    qtbot.waitUntil(lambda: len(metric_records(seen)) >= 20 or bool(seen.args("failed")), timeout=60_000)
    assert not seen.args("failed"), seen.args("failed")
    worker.pause()
    seen.wait(qtbot, "state_changed", where=lambda state: state == "paused", timeout=5000)
    paused_at = len(metric_records(seen))
    ticks.clear()
    qtbot.wait(300)  # nothing may train while paused, and the UI thread keeps ticking
    assert len(metric_records(seen)) == paused_at
    assert len(ticks) >= 10

    ticks.clear()
    worker.resume()
    seen.wait(qtbot, "state_changed", where=lambda state: state == "running", count=2, timeout=5000)
    qtbot.waitUntil(lambda: len(metric_records(seen)) >= paused_at + 20, timeout=60_000)
    gaps = np.diff(ticks)
    assert len(ticks) >= 5 and gaps.max() < 0.25, "the UI thread stalled while training"

    worker.stop()
    seen.wait(qtbot, "finished", timeout=30_000)
    timer.stop()
    assert worker.state is RunState.FINISHED
    steps = [r["step"] for r in metric_records(seen)]
    assert steps == list(range(1, len(steps) + 1))  # every step reported once, in order
    path, step = seen.args("checkpoint_saved")[-1]
    assert step == steps[-1] < 100_000  # stopped early, checkpoint written on stop
    from studio.ml.checkpoints import read_checkpoint_meta

    assert read_checkpoint_meta(path)["step"] == step
    # at most ~20 metric emissions per second
    emits = np.array(seen.times("metrics"))
    assert len(emits) < 2 or np.diff(emits).min() >= 0.045  # at most ~20 per second


def test_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(studio, qtbot, tmp_path):
    from studio.ml.checkpoints import read_checkpoint_meta

    worker = studio.training
    seen = SignalRecorder(worker)
    worker.start(request(tmp_path, steps=50, kind="nan_dcgan", checkpoint_every=5))
    (message,) = seen.wait(qtbot, "failed", timeout=60_000)
    assert "loss_D" in message and "7" in message and "last.safetensors" in message
    qtbot.waitUntil(lambda: worker.state is RunState.FAILED, timeout=5000)
    assert read_checkpoint_meta(tmp_path / "run" / "last.safetensors")["step"] == 5
    panel = studio.panels["trainer_monitor"]
    qtbot.waitUntil(lambda: panel.alert.isVisibleTo(panel), timeout=5000)
    assert "loss_D" in panel.alert.text()


def test_resume_continues_from_the_checkpoint(studio, qtbot, tmp_path):
    worker = studio.training
    seen = SignalRecorder(worker)
    worker.start(request(tmp_path, steps=10))
    seen.wait(qtbot, "finished", timeout=60_000)
    first_run = len(metric_records(seen))
    resume = RunRequest(total_steps=15, out_dir=tmp_path / "run", resume_from=tmp_path / "run" / "last.safetensors")
    worker.start(resume)
    seen.wait(qtbot, "finished", count=2, timeout=60_000)
    assert seen.args("run_started")[1][0]["step"] == 10
    assert [r["step"] for r in metric_records(seen)[first_run:]] == list(range(11, 16))


def test_a_bad_request_fails_with_a_message(studio, qtbot, tmp_path):
    worker = studio.training
    bad = RunRequest(total_steps=5, out_dir=tmp_path / "r", setup=RunSetup("dcgan", "folder", dataset_path=str(tmp_path / "nope")))
    seen = SignalRecorder(worker)
    worker.start(bad)
    (message,) = seen.wait(qtbot, "failed", timeout=30_000)
    assert "nope" in message
    assert worker.state is RunState.FAILED


"""The trainer monitor attached to a run folder that another process writes (docs/run-folder.md):
the test plays that process, writing run.json, metrics.jsonl, grids and checkpoints by hand."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QApplication

import studio_plugins.builtins as builtins
import studio_plugins.trainer_monitor as monitor_plugin
from studio import hookimpl
from studio.catalog import RunSetup
from studio.contributions import DatasetSpec
from studio.ml.data.shapes import make_shapes
from studio.runtime.model_manager import model_name_for
from studio.runtime.training_worker import RunRequest, RunState
from studio.testing.signals import SignalRecorder
from studio_plugins.trainer_monitor.attach import STALLED_SECONDS, describe_run, status_alert

TINY = {"nz": 8, "ngf": 4, "ndf": 4, "batch_size": 4}
DATA = {"name": "tiny_shapes", "path": None, "seed": 0, "size": 32, "channels": 3, "images": 16}
RUN = {"format": "latent-studio-run/1", "kind": "dcgan",
       "config": {**TINY, "image_size": 32, "channels": 3}, "dataset": DATA,
       "total_steps": 100, "sample_every": 10, "checkpoint_every": 50, "batch_size": 8, "start_step": 0,
       "world_size": 4, "backend": "gloo", "device": "cpu", "host": "node7", "pid": 4242,
       "command": "torchrun … latent-studio train dcgan", "started": "2025-01-01T00:00:00+00:00",
       "status": "running", "step": None, "ended": None, "message": None}

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py


def _tiny_shapes(size, channels, path, seed):
    return make_shapes(16, size, channels or 3, seed)


class TinyShapes:
    @hookimpl
    def register_datasets(self):
        return [DatasetSpec("tiny_shapes", "Tiny shapes", _tiny_shapes)]


@pytest.fixture
def studio(make_studio):
    studio = make_studio(builtins, monitor_plugin, TinyShapes(), discover=False)
    studio.window.show()
    studio.runs.interval_ms = 50
    return studio


# -- the writer's side, by hand -----------------------------------------------------------------------
def write_run_json(folder: Path, **changes) -> None:
    tmp = folder / ".run.json.tmp"
    tmp.write_text(json.dumps({**RUN, **changes}))
    os.replace(tmp, folder / "run.json")  # atomically, as the writer does


def log_line(step: int) -> bytes:
    return (json.dumps({"step": step, "time": 1000.0 + step / 2, "loss_D": 1.0 + step, "loss_G": 2.0}) + "\n").encode()


def append(folder: Path, data: bytes) -> None:
    with open(folder / "metrics.jsonl", "ab") as f:
        f.write(data)


def save_grid(folder: Path, step: int) -> Path:
    path = folder / "samples" / f"step_{step:06d}.png"
    path.parent.mkdir(exist_ok=True)
    Image.fromarray(np.full((10, 10, 3), step % 256, np.uint8)).save(path)
    return path


def steps(panel) -> list[int]:
    series = panel.loss_plot.series.get("loss_D")
    return series.steps.astype(int).tolist() if series is not None else []


def polled_twice(qtbot, studio) -> None:
    """Wait until the follower has looked at the folder twice more, and its reports are in."""
    start = studio.runs.polls
    qtbot.waitUntil(lambda: studio.runs.polls >= start + 2, timeout=5000)
    QApplication.processEvents()


# -- tests ------------------------------------------------------------------------------------------
def test_a_dropped_run_folder_is_followed_as_it_grows(studio, qtbot, tmp_path):
    folder = tmp_path / "run1"
    folder.mkdir()
    write_run_json(folder)
    append(folder, b"".join(log_line(step) for step in (1, 2, 3)))
    save_grid(folder, 0)
    panel = studio.panels["trainer_monitor"]
    studio.window.route_files([folder])  # dropped on the window: a run folder, not training images
    assert studio.runs.folder == folder and panel.followed.attached
    qtbot.waitUntil(lambda: steps(panel) == [1, 2, 3] and panel.samples.steps == [0], timeout=5000)
    assert panel.form.dataset.currentData() == "tiny_shapes" and panel.form.param_forms["dcgan"].values()["ngf"] == 4
    assert panel.form.steps.value() == 100
    assert not any(b.isEnabled() for b in (panel.train_button, panel.pause_button, panel.stop_button,
                                           panel.load_button))
    label = panel.run_label.text()
    assert str(folder) in label and "dcgan on tiny_shapes (16 images, 32 px, 3 ch)" in label
    assert "4 processes (gloo) on node7" in label and "status: running" in label

    # new lines as they arrive, the last one torn: it waits for its end and is not lost
    append(folder, log_line(4) + log_line(5) + log_line(6)[:20])
    save_grid(folder, 10)
    qtbot.waitUntil(lambda: steps(panel) == [1, 2, 3, 4, 5] and panel.samples.steps == [0, 10], timeout=5000)
    polled_twice(qtbot, studio)
    assert steps(panel) == [1, 2, 3, 4, 5] and not panel.alert.isVisible()
    append(folder, log_line(6)[20:])
    qtbot.waitUntil(lambda: steps(panel) == [1, 2, 3, 4, 5, 6], timeout=5000)
    # progress from the records' own clock: 2 steps/s, 8 images a step
    assert panel.progress.bar.value() == 6 and panel.progress.bar.maximum() == 100
    assert panel.progress.rates.text() == "2.0 steps/s · 16 images/s · ETA 0:47"

    write_run_json(folder, status="finished", step=6, ended="2025-01-01T00:01:00+00:00")
    qtbot.waitUntil(lambda: "status: finished at step 6, ended 20" in panel.run_label.text(), timeout=5000)
    assert not panel.alert.isVisible()


def test_a_resumed_run_rewrites_its_log_and_the_plot_starts_again(studio, qtbot, tmp_path):
    write_run_json(tmp_path)
    append(tmp_path, b"".join(log_line(step) for step in range(1, 9)))
    panel = studio.panels["trainer_monitor"]
    panel.attach_run(tmp_path)
    qtbot.waitUntil(lambda: steps(panel) == list(range(1, 9)), timeout=5000)
    tmp = tmp_path / ".metrics.jsonl.tmp"
    tmp.write_bytes(b"".join(log_line(step) for step in range(1, 5)))
    os.replace(tmp, tmp_path / "metrics.jsonl")
    qtbot.waitUntil(lambda: steps(panel) == [1, 2, 3, 4], timeout=5000)


def test_missing_and_broken_files_are_named_and_following_goes_on(studio, qtbot, tmp_path):
    write_run_json(tmp_path)
    append(tmp_path, log_line(1))  # no samples/ at all yet
    panel = studio.panels["trainer_monitor"]
    panel.followed.box.auto_load.setChecked(True)
    assert panel.attach_run(tmp_path)
    qtbot.waitUntil(lambda: steps(panel) == [1], timeout=5000)
    save_grid(tmp_path, 10)
    broken = save_grid(tmp_path, 20)
    broken.write_bytes(broken.read_bytes()[:30])  # cut short
    gone = save_grid(tmp_path, 25)
    gone.unlink()  # listed by nobody: deleted before the follower saw it
    save_grid(tmp_path, 30)
    append(tmp_path, b"not json at all\n" + log_line(2))
    qtbot.waitUntil(lambda: panel.samples.steps == [10, 30] and steps(panel) == [1, 2], timeout=5000)
    qtbot.waitUntil(lambda: "step_000020.png" in panel.alert.text(), timeout=5000)
    assert panel.alert.isVisible()

    # a checkpoint whose data are not on this machine: named, and following goes on
    from studio.ml.checkpoints import save_checkpoint
    import torch

    checkpoint = tmp_path / "last.safetensors"
    meta = {"kind": "dcgan", "config": RUN["config"], "step": 2,
            "dataset": {**DATA, "name": "folder", "path": str(tmp_path / "not-here")}}
    save_checkpoint(checkpoint, {"w": torch.zeros(1)}, meta)
    qtbot.waitUntil(lambda: "could not load" in panel.alert.text(), timeout=10_000)
    assert str(checkpoint) in panel.alert.text()
    append(tmp_path, log_line(3))
    qtbot.waitUntil(lambda: steps(panel) == [1, 2, 3], timeout=5000)

    write_run_json(tmp_path, status="diverged", step=3, message="training diverged: loss_D=nan at step 4")
    qtbot.waitUntil(lambda: "loss_D=nan at step 4" in panel.alert.text(), timeout=5000)
    assert panel.alert.isVisible() and "status: diverged at step 3" in panel.run_label.text()


def test_a_corrupt_run_json_is_named(studio, qtbot, tmp_path):
    (tmp_path / "run.json").write_text('{"format": "latent-studio-run/1", "kind": ')
    append(tmp_path, log_line(1))
    panel = studio.panels["trainer_monitor"]
    panel.attach_run(tmp_path)
    qtbot.waitUntil(lambda: str(tmp_path / "run.json") in panel.alert.text(), timeout=5000)
    assert steps(panel) == [1]


def test_a_new_checkpoint_is_loaded_into_the_panels(studio, qtbot, tmp_path):
    from studio.ml.training.run import RunSettings, TrainingRun

    folder = tmp_path / "cluster-run"
    folder.mkdir()
    write_run_json(folder)
    panel = studio.panels["trainer_monitor"]
    panel.attach_run(folder)
    assert not panel.followed.box.load_button.isEnabled()  # nothing to load yet
    setup = RunSetup("dcgan", "tiny_shapes", image_size=32, channels=3, config=TINY)
    trainer, data = studio.catalog.build_trainer(setup, "cpu")
    run = TrainingRun(trainer, RunSettings(folder, 2, sample_every=100, checkpoint_every=100),
                      setup.dataset_info(data))
    while not run.done:
        run.advance()
    checkpoint = run.close(save=True)
    name = model_name_for(checkpoint, "dcgan")
    qtbot.waitUntil(lambda: studio.models.get(name) is not None, timeout=20_000)
    assert studio.models.get(name).meta["step"] == 2 and steps(panel) == [1, 2]
    assert panel.followed.box.load_button.isEnabled()

    # the session remembers the folder and follows it again
    state = panel.session_state()
    assert state["attached"] == str(folder) and json.dumps(state)
    panel.detach_run()
    assert not panel.followed.attached and panel.train_button.isEnabled()
    panel.restore_session(state)
    assert studio.runs.folder == folder
    qtbot.waitUntil(lambda: steps(panel) == [1, 2], timeout=5000)


def test_detach_stops_following(studio, qtbot, tmp_path):
    write_run_json(tmp_path)
    append(tmp_path, log_line(1))
    panel = studio.panels["trainer_monitor"]
    panel.attach_run(tmp_path)
    qtbot.waitUntil(lambda: steps(panel) == [1], timeout=5000)
    panel.followed.box.detach_button.click()
    assert studio.runs.folder is None and panel.train_button.isEnabled() and panel.load_button.isEnabled()
    polls = studio.runs.polls
    append(tmp_path, log_line(2))
    # nothing may arrive: this waits for something that must not happen, for 10 poll intervals
    with qtbot.assertNotEmitted(studio.runs.records, wait=500):
        pass
    assert studio.runs.polls <= polls + 1 and steps(panel) == [1]  # + 1: a poll already under way


def test_attaching_is_refused_while_a_local_run_trains(studio, qtbot, tmp_path):
    write_run_json(tmp_path)
    panel = studio.panels["trainer_monitor"]
    seen = SignalRecorder(studio.training, "state_changed", "finished")
    setup = RunSetup("dcgan", "tiny_shapes", image_size=32, channels=3, config=TINY)
    studio.training.start(RunRequest(100_000, tmp_path / "local", setup, sample_every=10_000))
    seen.wait(qtbot, "state_changed", where=lambda state: state == RunState.RUNNING.value, timeout=30_000)
    assert not panel.attach_run(tmp_path)
    assert "stop it before attaching" in panel.alert.text() and studio.runs.folder is None
    assert not panel.followed.box.attach_button.isEnabled()
    studio.training.stop()
    seen.wait(qtbot, "finished", timeout=30_000)
    assert panel.attach_run(tmp_path) and not panel.train_button.isEnabled()


def test_the_label_says_when_a_running_run_looks_stalled(tmp_path):
    text, stalled = describe_run(tmp_path, RUN, grew_at=1000.0, now=1000.0 + 5)
    assert "log last grew 0:05 ago" in text and not stalled
    text, stalled = describe_run(tmp_path, RUN, grew_at=1000.0, now=1000.0 + STALLED_SECONDS + 63)
    assert stalled and "no new steps for 2:03" in text and "stalled" in text
    text, stalled = describe_run(tmp_path, {**RUN, "status": "finished", "step": 100}, 1000.0, 5000.0)
    assert not stalled and "status: finished at step 100" in text
    message = "training diverged: loss_G=nan at step 7"
    assert status_alert("diverged", message) == message
    assert status_alert("failed", "CUDA out of memory") == "the run failed: CUDA out of memory"

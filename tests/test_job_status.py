"""The status bar's job line: any job's name and progress, and Cancel; panels' long jobs report
progress and stop when cancelled."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from studio.ml.audio.codec import CQConfig
from studio.ml.data.audio import make_sine_tones
from studio.ml.models.dcgan import Generator
from studio.testing.signals import SignalRecorder
from studio_plugins.loop_player.work import MAP_BATCH, compare_with_training

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py


def waiting_job(steps: int, gate: threading.Event):
    """Reports step 1 of ``steps``, then waits (for the gate, or a cancel)."""

    def job(context):
        context.progress(1, steps)
        while not context.cancelled() and not gate.wait(0.01):
            pass
        return "cancelled" if context.cancelled() else "done"

    return job


def test_a_running_job_shows_its_progress_and_cancel_stops_it(make_studio, qtbot):
    studio = make_studio(discover=False)
    status = studio.window.job_status
    assert status.isHidden()
    seen = SignalRecorder(studio.jobs, "finished")
    first_gate, second_gate = threading.Event(), threading.Event()
    first = studio.jobs.submit("inverting cat.png", waiting_job(4, first_gate))
    second = studio.jobs.submit("loading last.safetensors", waiting_job(2, second_gate))
    qtbot.waitUntil(lambda: not status.isHidden() and status.bar.maximum() == 4, timeout=5000)
    assert status.bar.value() == 1 and status.running == first.id
    assert status.label.text() == "inverting cat.png… (+1 queued)"

    status.cancel_button.click()
    assert first.cancel_requested and not second.cancel_requested  # only the job on show
    assert status.label.text().startswith("cancelling inverting cat.png") and not status.cancel_button.isEnabled()
    assert seen.wait(qtbot, "finished", timeout=5000) == (first.id, "cancelled")

    qtbot.waitUntil(lambda: status.running == second.id and status.bar.maximum() == 2, timeout=5000)
    assert status.label.text() == "loading last.safetensors…" and status.cancel_button.isEnabled()
    second_gate.set()
    assert seen.wait(qtbot, "finished", count=2, timeout=5000) == (second.id, "done")
    qtbot.waitUntil(status.isHidden, timeout=5000)


def test_a_quick_job_never_shows(make_studio, qtbot):
    studio = make_studio(discover=False)
    status = studio.window.job_status
    shown = []
    status.bar.valueChanged.connect(lambda _value: shown.append(not status.isHidden()))
    seen = SignalRecorder(studio.jobs, "finished")
    studio.jobs.submit("quick", lambda context: context.progress(1, 1))
    seen.wait(qtbot, "finished", timeout=5000)
    qtbot.wait(400)  # past the delay before a job is shown
    assert status.isHidden() and not any(shown)


def test_a_failed_job_leaves_the_status_bar(make_studio, qtbot):
    studio = make_studio(discover=False)
    status = studio.window.job_status
    gate = threading.Event()

    def fails(context):
        context.progress(0, 3)
        gate.wait(5)
        raise ValueError("no such file")

    seen = SignalRecorder(studio.jobs, "failed")
    studio.jobs.submit("reading a.wav", fails)
    qtbot.waitUntil(lambda: not status.isHidden(), timeout=5000)
    gate.set()
    seen.wait(qtbot, "failed", timeout=5000)
    qtbot.waitUntil(status.isHidden, timeout=5000)


class Recorder:
    def __init__(self, cancel_after: int | None = None):
        self.reports: list[tuple[int, int]] = []
        self.cancel_after = cancel_after

    def progress(self, done: int, total: int) -> None:
        self.reports.append((done, total))

    def cancelled(self) -> bool:
        return self.cancel_after is not None and len(self.reports) >= self.cancel_after


@pytest.fixture(scope="module")
def audio_model():
    torch.manual_seed(0)
    generator = Generator(8, 8, 1, 64, image_width=256).eval().requires_grad_(False)
    return generator, {"nz": 8, **CQConfig().to_dict()}, make_sine_tones(6)


def test_the_loop_map_reports_progress_and_stops_when_cancelled(audio_model):
    """The loop player's map job (100 loops, seconds of phase retrieval) went silent and could not
    be stopped: it now reports every MAP_BATCH loops and checks for a cancel in between."""
    module, config, clips = audio_model
    done = Recorder()
    result = compare_with_training(module, config, "spectrogram", clips, "m", count=25,
                                   progress=done.progress, cancelled=done.cancelled)
    assert result is not None and result.generated.audio.shape == (25, 3840)
    assert done.reports == [(MAP_BATCH, 26), (2 * MAP_BATCH, 26), (25, 26), (26, 26)]
    whole = compare_with_training(module, config, "spectrogram", clips, "m", count=25)
    assert np.allclose(whole.generated.images, result.generated.images, atol=1e-5)

    stopped = Recorder(cancel_after=1)
    assert compare_with_training(module, config, "spectrogram", clips, "m", count=25,
                                 progress=stopped.progress, cancelled=stopped.cancelled) is None
    assert stopped.reports == [(MAP_BATCH, 26)]  # one batch made, then it stopped

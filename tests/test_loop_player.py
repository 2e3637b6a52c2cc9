"""The Loop player panel as a user drives it: a loop from z, morphing, export, dropped files, the
map against the training loops, and the studio without an audio device."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
import torch

import studio_plugins.builtins as builtins
import studio_plugins.loop_player as plugin
from studio.catalog import RunSetup
from studio.ml.audio.codec import CQConfig
from studio.ml.models.dcgan import Generator
from studio.runtime.audio_engine import AudioEngine
from studio.testing.signals import SignalRecorder

NZ = 8
CONFIG = {"nz": NZ, **CQConfig().to_dict()}  # 1 s at 3840 Hz: 64 x 256 spectrograms

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py


def publish_spectrogram_gan(studio, name="tiny cq"):
    torch.manual_seed(0)
    generator = Generator(NZ, 8, 1, 64, image_width=256).eval().requires_grad_(False)
    setup = RunSetup("cq_dcgan", "sine_tones", sample_rate=3840, duration=1.0).to_dict()
    studio.models.publish(name, generator, {"kind": "cq_dcgan", "config": CONFIG, "step": 0, "setup": setup})


@pytest.fixture
def panel(make_studio, qtbot):
    studio = make_studio(builtins, plugin, discover=False)
    panel = studio.panels["loop_player"]
    results = SignalRecorder(studio.models, "result_ready")
    publish_spectrogram_gan(studio)
    results.wait(qtbot, "result_ready", timeout=20_000)
    qtbot.waitUntil(lambda: panel.shown is not None, timeout=5000)
    return panel


def sine_file(path, frequency=220.0, rate=44100, seconds=2.0, channels=2):
    t = np.arange(int(rate * seconds)) / rate
    wave = 0.5 * np.sin(2 * np.pi * frequency * t)
    soundfile.write(path, np.repeat(wave[:, None], channels, axis=1), rate)
    return path


def test_a_model_gives_a_loop_with_its_spectrogram(panel):
    loops = panel.shown.loops
    assert loops.audio.shape == (1, 3840) and loops.sample_rate == 3840
    assert np.isfinite(loops.audio).all() and np.abs(loops.audio).max() <= 1
    assert loops.images.shape == (1, 64, 256)
    assert np.array_equal(panel.spectrogram.image.image, loops.images[0][::-1])
    assert "seed 0" in panel.spectrogram.caption.text() and "3840 Hz" in panel.spectrogram.caption.text()


def test_morphing_toward_b_generates_the_loop_in_between(panel, qtbot):
    first = panel.shown.loops.images[0]
    results = SignalRecorder(panel.studio.models, "result_ready")
    panel.latent.morph.setValue(50)
    results.wait(qtbot, "result_ready", timeout=20_000)
    qtbot.waitUntil(lambda: panel.shown.request.morph == 0.5, timeout=5000)
    assert not np.array_equal(panel.shown.loops.images[0], first)
    assert "at 50%" in panel.spectrogram.caption.text()


def test_export_writes_the_loop_on_show(panel, tmp_path):
    written = panel.export(tmp_path / "loop.flac")
    audio, rate = soundfile.read(written, dtype="float32")
    assert rate == 3840
    assert np.abs(audio - panel.shown.loops.audio[0]).max() < 2 / 2**15  # 16-bit FLAC


def test_a_dropped_sound_file_is_shown_at_the_models_rate(panel, qtbot, tmp_path):
    jobs = SignalRecorder(panel.studio.jobs, "finished", "failed")
    panel.files_dropped([sine_file(tmp_path / "a220.wav")])
    jobs.wait(qtbot, "finished", timeout=20_000)
    path, audio, rate = panel.dropped
    assert path.name == "a220.wav" and rate == 3840 and audio.shape == (3840,)
    assert "a220.wav" in panel.spectrogram.caption.text()
    shown = panel.spectrogram.image.image  # low bands first
    codec = panel._codec(rate, len(audio))
    assert codec.frequencies[shown.mean(axis=1).argmax()] == pytest.approx(220, rel=0.06)


def test_a_corrupt_dropped_file_is_named_and_nothing_else_changes(panel, qtbot, tmp_path):
    shown = panel.shown
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF not really a wave file")
    jobs = SignalRecorder(panel.studio.jobs, "failed")
    panel.files_dropped([bad])
    jobs.wait(qtbot, "failed", timeout=20_000)
    assert "broken.wav" in panel.alert.text() and panel.alert.isVisibleTo(panel)
    assert panel.shown is shown and panel.dropped is None


def test_the_map_places_generated_loops_among_the_training_loops(panel, qtbot, tmp_path):
    jobs = SignalRecorder(panel.studio.jobs, "finished", "failed")
    panel.build_map()
    jobs.wait(qtbot, "finished", timeout=120_000)
    assert not jobs.args("failed")
    comparison = panel.comparison
    assert comparison.map.generated_xy.shape == (100, 2)
    assert comparison.map.training_xy.shape == (1024, 2)  # the model's sine tones
    assert len(panel.map.generated.data) == 100
    assert "100 generated loops" in panel.map.caption.text()
    results = SignalRecorder(panel.studio.models, "result_ready")
    panel.map.generated_clicked.emit(int(comparison.generated_seeds[7]))
    results.wait(qtbot, "result_ready", timeout=20_000)
    qtbot.waitUntil(lambda: panel.shown.request.seed_a == 7, timeout=5000)
    assert np.allclose(panel.shown.loops.images[0], comparison.generated.images[7], atol=1e-5)
    panel.files_dropped([sine_file(tmp_path / "a440.wav", 440.0)])
    jobs.wait(qtbot, "finished", count=2, timeout=20_000)
    assert "a440.wav: nearest training loop 'tone" in panel.map.caption.text()
    assert "nearest generated loop seed" in panel.map.caption.text()


def test_without_an_audio_device_the_panel_says_so_and_export_still_works(make_studio, monkeypatch, tmp_path,
                                                                          qtbot):
    message = "No audio output device found (PortAudio lists none); playback is off, export still works."
    monkeypatch.setattr(AudioEngine, "available", staticmethod(lambda: (False, message)))
    studio = make_studio(builtins, plugin, discover=False)
    panel = studio.panels["loop_player"]
    assert not panel.transport.play.isEnabled()
    assert panel.transport.status.text() == message
    results = SignalRecorder(studio.models, "result_ready")
    publish_spectrogram_gan(studio)
    results.wait(qtbot, "result_ready", timeout=20_000)
    qtbot.waitUntil(lambda: panel.shown is not None, timeout=5000)
    assert panel.export(tmp_path / "loop.wav").exists()


def test_playing_switches_to_the_next_loop_at_the_seam(pulse_null_sink, panel, qtbot):
    audio = panel.studio.audio
    assert panel.transport.play.isEnabled()
    panel.play()
    mixer = audio.mixer
    qtbot.waitUntil(lambda: mixer.playing and mixer.current is not None, timeout=5000)
    first = mixer.current
    qtbot.waitUntil(lambda: audio.frames_played > 0.25 * audio.sample_rate, timeout=10_000)  # it runs
    seams = mixer.seams_passed
    results = SignalRecorder(panel.studio.models, "result_ready")
    panel.latent.seed_a.setValue(5)
    results.wait(qtbot, "result_ready", timeout=20_000)
    qtbot.waitUntil(lambda: mixer.current is not first, timeout=15_000)  # within a loop (1 s) of running
    assert mixer.seams_passed > seams
    expected = mixer.prepare(panel.shown.loops.audio[0], 3840).samples
    assert np.allclose(mixer.current.samples, expected, atol=1e-6)
    assert audio.underruns == 0
    panel.transport.stop_clicked.emit()
    qtbot.waitUntil(lambda: not mixer.playing, timeout=5000)

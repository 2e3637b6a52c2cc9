"""AudioEngine on a real-time output (a PulseAudio null sink), and without any output device.

The stream test is first in the file: the session's null sink is then set up before anything
imports sounddevice, so PortAudio's first device scan already finds it.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
import time

import numpy as np
import pytest

from studio.runtime.audio_engine import NO_OUTPUT_MESSAGE, AudioEngine

LOOP_RATE = 22_050  # the GAN's rate; the stream's differs, so play() resamples
STEADY_WINDOW = 1.0  # seconds of callbacks at about real-time rate before we measure
MEASURE_SECONDS = 2.0


def sine_loop(frequency: float, phase: float = 0.0, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(round(seconds * LOOP_RATE)) / LOOP_RATE
    return 0.3 * np.sin(2 * np.pi * frequency * t + phase)


@pytest.fixture
def engine(qtbot):
    engine = AudioEngine()
    yield engine
    engine.close()


class FrameClock:
    """(wall time, frames played) samples taken while polling, to tell a steady stream."""

    def __init__(self, engine: AudioEngine):
        self.engine = engine
        self.samples: list[tuple[float, int]] = []

    def sample(self) -> tuple[float, int]:
        point = (time.monotonic(), self.engine.frames_played)
        self.samples.append(point)
        return point

    def rate_over(self, seconds: float) -> tuple[float, float] | None:
        """(frames per second over the last ``seconds``, when that window began), once sampled."""
        now, frames = self.samples[-1]
        window = [point for point in self.samples if point[0] >= now - seconds]
        if now - window[0][0] < 0.9 * seconds:
            return None
        return (frames - window[0][1]) / (now - window[0][0]), window[0][0]


def test_plays_in_real_time_and_switches_at_the_seam(pulse_null_sink, qtbot, engine):
    ok, message = AudioEngine.available()
    assert ok, message
    statuses, positions, emitting_threads = [], [], set()
    engine.status_changed.connect(statuses.append)

    def on_position(seconds: float) -> None:
        positions.append(seconds)
        emitting_threads.add(threading.get_ident())

    engine.position_changed.connect(on_position)

    launched = time.monotonic()
    first = engine.play(sine_loop(220.0), LOOP_RATE)
    assert first is not None, engine.status
    rate = engine.sample_rate
    assert engine.active and engine.mixer.playing

    # Wait for steady callbacks: PulseAudio's null sink takes up to ~2 s before it consumes audio
    # at the real rate. Steady = the last second of polling saw the rate within 20 %.
    clock = FrameClock(engine)
    steady_since = None

    def steady() -> bool:
        nonlocal steady_since
        clock.sample()
        measured = clock.rate_over(STEADY_WINDOW)
        if measured is None or abs(measured[0] / rate - 1) > 0.2:
            return False
        steady_since = measured[1]
        return True

    qtbot.waitUntil(steady, timeout=15_000)
    startup_gap = steady_since - launched
    underruns_before = engine.underruns

    # Measure: frames consumed over ~2 s of wall time must match the stream's rate (an ALSA null
    # device, which runs the callback flat out, would be many times faster).
    start_time, start_frames = clock.sample()
    qtbot.waitUntil(lambda: clock.sample()[0] - start_time >= MEASURE_SECONDS, timeout=10_000)
    end_time, end_frames = clock.samples[-1]
    measured_rate = (end_frames - start_frames) / (end_time - start_time)
    print(
        f"\nstream {rate} Hz, {engine.mixer.channels} ch: measured {measured_rate:.0f} frames/s "
        f"({measured_rate / rate - 1:+.2%}) over {end_time - start_time:.2f} s; start-up gap "
        f"{startup_gap:.2f} s; {engine.callbacks} callbacks; underruns {engine.underruns} "
        f"({underruns_before} before steady); daemon answered in {pulse_null_sink.start_seconds:.2f} s"
    )
    assert abs(measured_rate / rate - 1) < 0.10

    # Queue a second loop: it takes over at the first loop's next seam.
    mixer = engine.mixer
    seams, starts = mixer.seams_passed, mixer.loops_started
    second = engine.play(sine_loop(330.0, phase=1.0), LOOP_RATE)
    qtbot.waitUntil(lambda: mixer.current is second, timeout=3_000 + 1000 * first.duration)
    assert mixer.seams_passed > seams and mixer.loops_started == starts + 1
    assert mixer.loop_position < second.frames

    assert engine.underruns == 0, f"{engine.underruns} underruns on an idle stream"
    assert positions and all(0 <= p < max(first.duration, second.duration) for p in positions)
    assert emitting_threads == {threading.get_ident()}  # the UI thread, never the audio one
    assert statuses and "Hz" in statuses[0]

    engine.stop()
    qtbot.waitUntil(lambda: mixer.current is None, timeout=2_000)
    assert not mixer.playing and engine.active  # silent, stream still open for the next play()


def test_no_output_device_turns_playback_off_quietly(monkeypatch, qtbot, engine):
    sd = _sounddevice_or_skip()
    monkeypatch.setattr(sd, "query_devices", lambda *args, **kwargs: [])
    assert AudioEngine.available() == (False, NO_OUTPUT_MESSAGE)

    statuses = []
    engine.status_changed.connect(statuses.append)
    assert engine.start() == (False, NO_OUTPUT_MESSAGE)
    assert engine.play(sine_loop(220.0), LOOP_RATE) is None
    engine.set_volume(0.5)
    engine.stop()
    engine.close()
    assert statuses[0] == NO_OUTPUT_MESSAGE and not engine.active


def test_portaudio_errors_become_messages(monkeypatch, qtbot, engine):
    sd = _sounddevice_or_skip()

    def no_listing(*args, **kwargs):
        raise sd.PortAudioError("Error querying device -1")

    monkeypatch.setattr(sd, "query_devices", no_listing)
    ok, message = AudioEngine.available()
    assert not ok and "Error querying device -1" in message and "export still works" in message

    # A device that is listed but cannot be opened.
    device = {"name": "Phantom", "index": 0, "max_output_channels": 2, "default_samplerate": 48_000.0}
    monkeypatch.setattr(sd, "query_devices", lambda *args, **kwargs: [device] if not kwargs else device)

    def refuse(*args, **kwargs):
        raise sd.PortAudioError("Device unavailable")

    monkeypatch.setattr(sd, "OutputStream", refuse)
    ok, message = engine.start()
    assert not ok and "Phantom" in message and "Device unavailable" in message
    assert engine.status == message and engine.play(sine_loop(220.0), LOOP_RATE) is None


def test_missing_portaudio_library_is_a_message(monkeypatch):
    class NoPortAudio(importlib.abc.MetaPathFinder):
        """What importing sounddevice does where libportaudio2 is not installed."""

        def find_spec(self, name, path, target=None):
            if name == "sounddevice":
                raise OSError("PortAudio library not found")
            return None

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoPortAudio(), *sys.meta_path])
    ok, message = AudioEngine.available()
    assert not ok and "PortAudio library not found" in message and "playback is off" in message


def _sounddevice_or_skip():
    try:
        import sounddevice
    except OSError as exc:
        pytest.skip(f"PortAudio not installed: {exc}")
    return sounddevice

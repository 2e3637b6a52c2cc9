"""The studio's audio output: one sounddevice stream that plays a :class:`LoopMixer`.

The stream's callback runs on PortAudio's thread and does three things: count the call, count an
underrun, ``mixer.fill(outdata)``. It emits no Qt signal (a queued emission allocates and takes
Qt's locks); a QTimer on the UI thread reads the counters instead and emits ``position_changed``
and ``status_changed`` ten times a second.

No sound card (a CI runner, a remote session) is a normal case, not an error: ``available()``
and ``start()`` return ``(False, message)`` and the studio keeps working without playback --
loops can still be rendered offline with the mixer and exported.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from studio.runtime.loop_mixer import LoopMixer, PreparedLoop

log = logging.getLogger(__name__)

FALLBACK_RATE = 48_000  # when the device names no default rate
POLL_INTERVAL_MS = 100  # playhead and status updates: 10 a second are plenty for a 1-2 s loop
NO_PLAYBACK = "playback is off, export still works."
NO_OUTPUT_MESSAGE = f"No audio output device found (PortAudio lists none); {NO_PLAYBACK}"

# Stream settings. Why a deep buffer (100 ms) with a host-chosen block size rather than, say,
# 512-frame blocks at low latency: playback is of prepared loops that change only at a seam 1-2 s
# away, so latency costs nothing but a slightly later start, stop or volume change; while the
# callback needs the GIL, which a training or inference thread on a busy 2-core machine can hold
# for several milliseconds at a time -- a deep buffer rides that out instead of underrunning.
# ('high' would do the same on real hardware, but through the ALSA pulse plugin it means only
# 35 ms.) Blocksize 0 lets PortAudio use the host's own period (25 ms through PulseAudio) instead
# of adding a buffering layer to force ours; the mixer takes any block size.
STREAM_LATENCY = 0.1  # seconds
STREAM_BLOCKSIZE = 0


def _import_sounddevice() -> tuple[Any, str]:
    """sounddevice, or None and why: importing it loads libportaudio, which may be missing."""
    try:
        import sounddevice
    except (OSError, ImportError) as exc:  # OSError: "PortAudio library not found"
        return None, f"PortAudio is not available ({exc}); {NO_PLAYBACK}"
    return sounddevice, ""


def _output_device(sd: Any) -> tuple[dict | None, str]:
    """The default output device (or the first output if there is no default), else a message."""
    try:
        devices = list(sd.query_devices())
    except Exception as exc:  # PortAudioError, or a host API that fails while listing
        return None, f"Could not list audio devices ({exc}); {NO_PLAYBACK}"
    outputs = [device for device in devices if device.get("max_output_channels", 0) > 0]
    if not outputs:
        return None, NO_OUTPUT_MESSAGE
    try:
        default = sd.query_devices(kind="output")
    except Exception:  # outputs exist, but none is the default: take the first
        default = None
    if not isinstance(default, dict) or default.get("max_output_channels", 0) <= 0:
        default = outputs[0]
    return default, f"Audio output: {default.get('name', 'unnamed device')}"


class AudioEngine(QObject):
    """Plays generated loops on the default output device; shared by all panels.

    Use from the UI thread. ``play(loop, rate)`` starts the stream if needed, prepares the loop
    (resampling, in the caller's thread) and queues it: it starts at once, or at the current loop's
    next seam. ``stop()`` fades out, the stream keeps running silent; ``close()`` ends the stream.
    """

    position_changed = Signal(float)  # seconds into the current loop
    status_changed = Signal(str)  # a line for the status bar

    def __init__(self, parent: QObject | None = None, fade_seconds: float = 0.01):
        super().__init__(parent)
        self.fade_seconds = fade_seconds
        self._volume = 1.0
        self._stream: Any = None
        self._mixer: LoopMixer | None = None
        self._status = ""
        self._callback_error: str | None = None
        # Written by the audio callback only; plain ints, read by the UI thread.
        self.callbacks = 0
        self.underruns = 0
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_INTERVAL_MS)
        self._timer.timeout.connect(self._poll)

    # ---------------------------------------------------------------- queries

    @staticmethod
    def available() -> tuple[bool, str]:
        """Whether there is an output device to play on, and a line saying which (or why not)."""
        sd, message = _import_sounddevice()
        if sd is None:
            return False, message
        device, message = _output_device(sd)
        return device is not None, message

    @property
    def mixer(self) -> LoopMixer | None:
        """The mixer the stream plays (made by start(), at the stream's rate), or None."""
        return self._mixer

    @property
    def active(self) -> bool:
        """Whether the stream is open and running."""
        stream = self._stream
        return stream is not None and bool(stream.active)

    @property
    def sample_rate(self) -> int | None:
        return None if self._mixer is None else self._mixer.sample_rate

    @property
    def frames_played(self) -> int:
        """Frames the stream has consumed (silence included): the output's clock."""
        return 0 if self._mixer is None else self._mixer.frames_played

    @property
    def status(self) -> str:
        """The last status line (also sent by ``status_changed``)."""
        return self._status

    # ---------------------------------------------------------------- control

    def start(self) -> tuple[bool, str]:
        """Open and start the output stream (if it is not running). Never raises for a device
        problem: returns ``(False, message)`` and emits the message."""
        if self.active:
            return True, self._status
        sd, message = _import_sounddevice()
        device = None
        if sd is not None:
            device, message = _output_device(sd)
        if device is None:
            self._set_status(message)
            return False, message
        self._close_stream()
        try:
            stream = sd.OutputStream(
                device=device.get("index"),
                samplerate=float(device.get("default_samplerate") or FALLBACK_RATE),
                channels=min(2, int(device["max_output_channels"])),
                dtype="float32",
                blocksize=STREAM_BLOCKSIZE,
                latency=STREAM_LATENCY,
                callback=self._callback,
            )
        except Exception as exc:  # PortAudioError, or a device that vanished since the listing
            message = f"Could not open {device.get('name', 'the audio output')} ({exc}); {NO_PLAYBACK}"
            log.warning(message)
            self._set_status(message)
            return False, message
        rate = int(round(stream.samplerate))
        mixer = self._mixer
        if mixer is None or mixer.sample_rate != rate or mixer.channels != stream.channels:
            mixer = LoopMixer(rate, stream.channels, self.fade_seconds)
            mixer.set_volume(self._volume)
        self._mixer = mixer  # before start(): the callback reads it
        self._callback_error = None
        try:
            stream.start()
        except Exception as exc:
            stream.close(ignore_errors=True)
            message = f"Could not start {device.get('name', 'the audio output')} ({exc}); {NO_PLAYBACK}"
            log.warning(message)
            self._set_status(message)
            return False, message
        self._stream = stream
        self._timer.start()
        message = f"{message} at {rate} Hz, {stream.channels} channel(s), {stream.latency * 1000:.0f} ms latency"
        self._set_status(message)
        return True, message

    def play(self, loop: np.ndarray, loop_rate: int) -> PreparedLoop | None:
        """Play ``loop`` (mono, one period, at ``loop_rate``) next; None if there is no output
        (``status`` says why). Resamples in this thread -- never in the audio one."""
        ok, _ = self.start()
        if not ok:
            return None
        prepared = self._mixer.prepare(loop, loop_rate)
        self._mixer.queue(prepared)
        return prepared

    def set_volume(self, volume: float) -> None:
        """0..1, ramped by the mixer. Kept for the next stream if none is open yet."""
        self._volume = volume
        if self._mixer is not None:
            self._mixer.set_volume(volume)

    def stop(self) -> None:
        """Fade the loop out; the stream stays open (silent), so the next play() starts at once."""
        if self._mixer is not None:
            self._mixer.stop()

    def close(self) -> None:
        """Stop and close the stream (at shutdown). The mixer, and what it would play, are kept."""
        self._timer.stop()
        self._close_stream()
        if self._status:
            self._set_status("Audio output closed")

    # ---------------------------------------------------------------- the audio thread

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's thread: counters and mixer.fill only (see the module docstring)."""
        self.callbacks += 1
        if status.output_underflow:
            self.underruns += 1
        try:
            self._mixer.fill(outdata)
        except Exception as exc:  # a bug must not silence the stream for good: play silence, report
            outdata.fill(0)
            if self._callback_error is None:
                self._callback_error = f"{type(exc).__name__}: {exc}"

    # ---------------------------------------------------------------- the UI thread

    def _poll(self) -> None:
        """QTimer, UI thread: turn the callback's counters into signals."""
        mixer, stream = self._mixer, self._stream
        if mixer is None or stream is None:
            return
        self.position_changed.emit(mixer.loop_position / mixer.sample_rate)
        if self._callback_error is not None:
            self._set_status(f"Audio playback error: {self._callback_error}")
        elif not stream.active:
            self._set_status("Audio output stopped (device lost?); press play to reopen it")
        elif self.underruns:
            self._set_status(f"Audio output: {self.underruns} underrun(s) so far")

    def _set_status(self, message: str) -> None:
        if message != self._status:
            self._status = message
            self.status_changed.emit(message)

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort(ignore_errors=True)
                stream.close(ignore_errors=True)
            except Exception as exc:  # closing a lost device can fail; it is gone either way
                log.warning("closing the audio stream failed: %s", exc)

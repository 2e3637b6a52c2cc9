"""Seamless playback of generated audio loops: the body of the audio callback, in pure numpy.

Two sides, two kinds of thread:

- the control side (any thread but the audio one): :meth:`LoopMixer.prepare` resamples a loop and
  precomputes its crossfade pieces; :meth:`~LoopMixer.queue`, :meth:`~LoopMixer.stop` and
  :meth:`~LoopMixer.set_volume` only publish a request by rebinding one attribute;
- the audio side: :meth:`LoopMixer.fill` copies from the prepared arrays into the output buffer.
  It never allocates an array, never waits on a lock and never calls torch, so a training step
  or a garbage collection elsewhere cannot make it late (the thread model of docs/architecture.md).

Every attribute has one writer. The control side writes the requests (``_pending``,
``_cancelled_serial``, ``_stop_requests``, ``_target_gain``); ``fill`` writes the playback state
(``_current``, ``_position``, the counters ...). Rebinding an attribute is atomic under the GIL,
so each side sees either the old or the new object, never half of one, and no lock is needed on
the audio path. A request that arrives mid-block is simply acted on at the next block.

Nothing here imports Qt or sounddevice: the mixer renders offline for tests and export.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

# Frames per fill() call that the scratch buffers are sized for at first (the AudioEngine's stream
# brings ~1100-frame blocks; hosts rarely exceed a few thousand); fill() grows them once if needed.
DEFAULT_MAX_BLOCK = 4096


def crossfade_curves(frames: int) -> tuple[np.ndarray, np.ndarray]:
    """The fade weights (w, 1 - w), w rising from just above 0 to just below 1 over ``frames``.

    Why a raised cosine with w + (1 - w) = 1 (constant amplitude) rather than equal power: the
    fade is 10 ms, shorter than one period of the bass in a loop, so over the fade the old and
    the new loop are strongly correlated -- the very case where equal-power gains (sum up to
    1.41) would add a +3 dB bump at every seam, while constant-amplitude gains keep the level.
    The cosine shape, unlike a linear ramp, starts and ends with zero slope, so the fade adds no
    kink at its ends. Neither end is exactly 0 or 1: the sample before the fade has weight 0 and
    the one after it weight 1, which keeps the steps even.
    """
    k = np.arange(1, frames + 1, dtype=np.float64)
    w = 0.5 - 0.5 * np.cos(np.pi * k / (frames + 1))
    return w.astype(np.float32), (1.0 - w).astype(np.float32)


@dataclass(frozen=True, eq=False)  # eq=False: loops compare by identity, as the mixer does
class PreparedLoop:
    """A loop at the mixer's rate, with its crossfade pieces; read-only, safe to share.

    ``fade_in_head`` is the loop's start faded in (w * samples[:F]) and ``fade_out_head`` its start
    faded out ((1 - w) * samples[:F]). Since a loop is periodic, the start is also what follows
    its end: a switch at the seam from loop A to loop B outputs
    ``B.fade_in_head + A.fade_out_head`` for F frames, then B; a start from silence outputs
    ``B.fade_in_head``. So the audio thread only adds two prepared arrays.
    """

    samples: np.ndarray  # (frames,) float32, contiguous, mono
    sample_rate: int  # the mixer's rate
    source_rate: int  # the rate the loop was generated at
    fade_in_head: np.ndarray
    fade_out_head: np.ndarray

    @property
    def frames(self) -> int:
        return len(self.samples)

    @property
    def duration(self) -> float:
        """Seconds per repetition."""
        return self.frames / self.sample_rate


def resample_periodic(loop: np.ndarray, loop_rate: int, rate: int) -> np.ndarray:
    """Resample a periodic mono signal to ``rate``: float32, contiguous, round(len*rate/loop_rate) frames.

    FFT resampling treats the signal as one period of an infinitely repeated one, which is exactly
    what a loop is: there is no edge effect at the seam, unlike a polyphase filter that pads the ends.
    (Rounding the length changes the loop's duration, hence its pitch, by at most half a frame.)
    """
    loop = np.asarray(loop, dtype=np.float64)
    if loop.ndim == 2 and loop.shape[1] == 1:
        loop = loop[:, 0]
    if loop.ndim != 1 or len(loop) == 0:
        raise ValueError(f"a loop is a non-empty mono array, got shape {loop.shape}")
    if loop_rate <= 0:
        raise ValueError(f"loop_rate must be positive, got {loop_rate}")
    frames = round(len(loop) * rate / loop_rate)
    if frames != len(loop):
        from scipy.signal import resample  # here, not at the top: scipy.signal adds ~1 s to the studio's start

        loop = resample(loop, frames)
    return np.ascontiguousarray(loop, dtype=np.float32)


class LoopMixer:
    """Plays one loop at a time, endlessly; a queued loop takes over at the next seam, crossfaded.

    ``sample_rate`` and ``channels`` (1 or 2; mono loops go to both channels) are the output's.
    Counters, readable from any thread: ``frames_played`` (every frame ``fill`` wrote, silence
    included: the output clock), ``seams_passed`` (times a loop reached its end), ``loops_started``
    (starts from silence plus switches), ``loop_position`` (frame within the current loop).
    """

    def __init__(
        self,
        sample_rate: int,
        channels: int = 1,
        fade_seconds: float = 0.01,
        max_block: int = DEFAULT_MAX_BLOCK,
    ):
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {channels}")
        if sample_rate <= 0 or fade_seconds < 0:
            raise ValueError("sample_rate must be positive and fade_seconds not negative")
        self.sample_rate = int(sample_rate)
        self.channels = channels
        self.fade_frames = max(1, round(fade_seconds * self.sample_rate))
        self._fade_in, self._fade_out = crossfade_curves(self.fade_frames)  # the latter also for stop()
        # Scratch for fill(): the block in mono, and the gain ramp (1..n times the step).
        self._mono = np.empty(max_block, dtype=np.float32)
        self._gain_ramp = np.empty(max_block, dtype=np.float32)
        self._ramp_index = np.arange(1, max_block + 1, dtype=np.float32)

        # Control side (serialised among control threads by a lock the audio thread never takes).
        self._control = threading.Lock()
        self._serial = 0
        self._pending: tuple[int, PreparedLoop] | None = None  # (serial, loop): last queued wins
        self._cancelled_serial = 0  # stop() drops every loop queued up to here
        self._stop_requests = 0
        self._target_gain = 1.0

        # Audio side: written by fill() only.
        self._current: PreparedLoop | None = None
        self._fading_from: PreparedLoop | None = None  # the loop whose fade_out_head the head adds
        self._in_head = False  # first pass after a start or switch: output the fade head
        self._consumed_serial = 0
        self._stops_seen = 0
        self._stop_fade_left = 0  # frames of the stop fade still to go
        self._gain = 1.0
        self.frames_played = 0
        self.seams_passed = 0
        self.loops_started = 0
        self.loop_position = 0

    # ---------------------------------------------------------------- control side (any thread)

    def prepare(self, loop: np.ndarray, loop_rate: int) -> PreparedLoop:
        """Resample ``loop`` (mono float, one period) to the mixer's rate and precompute its fades.

        Does all the allocation playback needs; call it anywhere but in the audio callback.
        """
        samples = resample_periodic(loop, loop_rate, self.sample_rate)
        if len(samples) < self.fade_frames:
            raise ValueError(
                f"a loop of {len(samples)} frames is shorter than the {self.fade_frames}-frame crossfade"
            )
        head = samples[: self.fade_frames]
        fade_in_head = head * self._fade_in
        fade_out_head = head * self._fade_out
        for array in (samples, fade_in_head, fade_out_head):
            array.flags.writeable = False
        return PreparedLoop(samples, self.sample_rate, int(loop_rate), fade_in_head, fade_out_head)

    def queue(self, prepared: PreparedLoop) -> None:
        """Play ``prepared`` next: at once (faded in) if nothing plays, else from the next seam.

        Of several loops queued before a seam the last one wins.
        """
        if prepared.sample_rate != self.sample_rate:
            raise ValueError(
                f"loop prepared for {prepared.sample_rate} Hz, the mixer runs at {self.sample_rate} Hz"
            )
        with self._control:
            self._serial += 1
            self._pending = (self._serial, prepared)

    def stop(self) -> None:
        """Fade out over ``fade_seconds`` from wherever the loop is, then output silence.

        Loops queued before the call are dropped; one queued after it starts once the fade ends.
        """
        with self._control:
            self._cancelled_serial = self._serial
            self._stop_requests += 1

    def set_volume(self, volume: float) -> None:
        """Output gain in [0, 1] (clamped). fill() ramps to it: a full-scale change takes
        ``fade_seconds``, so a dragged slider does not make zipper noise."""
        volume = float(volume)
        if math.isnan(volume):
            raise ValueError("volume is NaN")
        self._target_gain = min(1.0, max(0.0, volume))

    @property
    def volume(self) -> float:
        return self._target_gain

    @property
    def current(self) -> PreparedLoop | None:
        """The loop being played (also while it fades out), or None."""
        return self._current

    @property
    def playing(self) -> bool:
        """True while a loop plays or is queued to start; False once stop() was called (and
        during its fade) unless a loop was queued after it."""
        if self._pending_serial() is not None:
            return True
        stopping = self._stop_requests != self._stops_seen or self._stop_fade_left > 0
        return self._current is not None and not stopping

    def render(self, frames: int, block: int = 256) -> np.ndarray:
        """``frames`` of output, made by fill() in blocks as a stream would (tests, export)."""
        out = np.zeros((frames, self.channels), dtype=np.float32)
        for start in range(0, frames, block):
            self.fill(out[start : start + block])
        return out

    # ---------------------------------------------------------------- audio side (the callback)

    def fill(self, out: np.ndarray) -> None:
        """Write the next ``len(out)`` frames into ``out`` ((frames, channels) float32).

        The audio callback's whole body: copies and in-place arithmetic on preallocated arrays.
        The block is built in a mono scratch buffer and copied to every channel at the end: all
        arithmetic then runs on contiguous 1-D slices, which numpy does without temporary buffers
        (a ufunc with a broadcast (n, 1) operand allocated a 4 KiB buffer on every call).
        """
        frames = out.shape[0]
        if frames == 0:
            return
        if frames > len(self._mono):
            # A larger block than planned for (a device that changed its mind): allocate once, in
            # the callback, rather than fail; from then on this size is free again.
            self._mono = np.empty(frames, dtype=np.float32)
            self._gain_ramp = np.empty(frames, dtype=np.float32)
            self._ramp_index = np.arange(1, frames + 1, dtype=np.float32)
        if self._stop_requests != self._stops_seen:
            self._stops_seen = self._stop_requests
            if self._current is not None and self._stop_fade_left == 0:
                self._stop_fade_left = self.fade_frames

        mono = self._mono
        done = 0
        while done < frames:
            loop = self._current
            if loop is None:
                loop = self._start_pending()
                if loop is None:
                    mono[done:frames] = 0.0
                    break
            n = min(frames - done, loop.frames - self._position)
            if self._stop_fade_left:
                n = min(n, self._stop_fade_left)
            self._copy_loop(mono[done : done + n], loop, self._position)
            self._position += n
            if self._stop_fade_left:
                first = self.fade_frames - self._stop_fade_left
                np.multiply(mono[done : done + n], self._fade_out[first : first + n], out=mono[done : done + n])
                self._stop_fade_left -= n
                if self._stop_fade_left == 0:  # faded out: silence (or a loop queued since)
                    self._current = self._fading_from = None
                    self._in_head = False
                    self._position = 0
            done += n
            if self._current is not None and self._position == loop.frames:
                self._pass_seam(loop)
            self.loop_position = self._position

        self._apply_gain(mono[:frames])
        out[:] = mono[:frames, None]  # a broadcasting copy to the channels allocates nothing
        self.frames_played += frames

    def _copy_loop(self, dst: np.ndarray, loop: PreparedLoop, position: int) -> None:
        """loop[position:position+len(dst)] into dst, faded in on the first pass after a (re)start."""
        n = len(dst)
        if self._in_head and position < self.fade_frames:
            k = min(n, self.fade_frames - position)
            dst[:k] = loop.fade_in_head[position : position + k]
            old = self._fading_from
            if old is not None:  # the old loop's own start: its continuation past the seam
                np.add(dst[:k], old.fade_out_head[position : position + k], out=dst[:k])
            if k < n:
                dst[k:] = loop.samples[position + k : position + n]
        else:
            dst[:] = loop.samples[position : position + n]

    def _pending_serial(self) -> int | None:
        """The serial of a queued loop that has neither started nor been cancelled, else None."""
        pending = self._pending
        if pending is None:
            return None
        serial = pending[0]
        if serial <= self._consumed_serial or serial <= self._cancelled_serial:
            return None
        return serial

    def _start_pending(self) -> PreparedLoop | None:
        """From silence: start the queued loop, if any, with its fade-in."""
        pending = self._pending  # read once: the control side may rebind it meanwhile
        if pending is None or pending[0] <= self._consumed_serial or pending[0] <= self._cancelled_serial:
            return None
        self._consumed_serial, loop = pending
        self._current, self._fading_from = loop, None
        self._in_head, self._position = True, 0
        self.loops_started += 1
        return loop

    def _pass_seam(self, loop: PreparedLoop) -> None:
        """At the end of ``loop``: wrap around, or switch to the queued loop (never while stopping)."""
        self._position = 0
        self.seams_passed += 1
        self._in_head, self._fading_from = False, None
        pending = self._pending
        stopping = self._stop_fade_left > 0 or self._stop_requests != self._stops_seen
        if pending is None or stopping:
            return
        if pending[0] <= self._consumed_serial or pending[0] <= self._cancelled_serial:
            return
        self._consumed_serial, new = pending
        self._current, self._fading_from = new, loop
        self._in_head = True
        self.loops_started += 1

    def _apply_gain(self, mono: np.ndarray) -> None:
        """Multiply by the gain, ramping linearly toward the target at most 1/fade_frames a frame."""
        gain, target = self._gain, self._target_gain
        if gain == target:
            if gain != 1.0:
                np.multiply(mono, gain, out=mono)
            return
        frames = len(mono)
        limit = frames / self.fade_frames  # the most the gain may move within this block
        end = target if abs(target - gain) <= limit else gain + math.copysign(limit, target - gain)
        ramp = self._gain_ramp[:frames]
        np.multiply(self._ramp_index[:frames], (end - gain) / frames, out=ramp)  # step*1 .. step*n
        np.add(ramp, gain, out=ramp)
        np.multiply(mono, ramp, out=mono)
        self._gain = end

"""LoopMixer: periodic resampling, seamless loop switches, volume ramps, stop, no allocation."""

from __future__ import annotations

import sys
import threading
import tracemalloc

import numpy as np
import pytest

from studio.runtime.loop_mixer import LoopMixer, resample_periodic

RATE = 48_000
LOOP_RATE = 16_000  # loops are generated at another rate, so prepare() has to resample
LOOP_SECONDS = 1.0
TONE = 220.0  # Hz: a whole number of periods per loop, so the loop is exactly periodic


def tone(phase: float = 0.0, amplitude: float = 0.5, frequency: float = TONE, rate: int = LOOP_RATE) -> np.ndarray:
    t = np.arange(round(LOOP_SECONDS * rate)) / rate
    return amplitude * np.sin(2 * np.pi * frequency * t + phase)


def steepest_step(signal: np.ndarray) -> float:
    """The largest sample-to-sample step of a periodic signal, its wrap-around included."""
    return float(np.abs(np.diff(np.concatenate([signal, signal[:1]]))).max())


def test_periodic_resampling_keeps_the_pitch_and_the_seam():
    loop = tone()
    resampled = resample_periodic(loop, LOOP_RATE, RATE)
    assert resampled.dtype == np.float32 and resampled.flags.c_contiguous
    assert len(resampled) == round(len(loop) * RATE / LOOP_RATE)
    # Same pitch: the strongest FFT bin is still TONE Hz (1 Hz bins for a 1 s loop).
    spectrum = np.abs(np.fft.rfft(resampled))
    assert np.argmax(spectrum) * RATE / len(resampled) == pytest.approx(TONE)
    # The seam: the wrap-around step is no steeper than the steps inside the loop, and the
    # samples equal the ideal sine at the new rate (FFT resampling of a band-limited periodic signal).
    inside = np.abs(np.diff(resampled)).max()
    assert abs(resampled[0] - resampled[-1]) <= inside * 1.001
    np.testing.assert_allclose(resampled, tone(rate=RATE), atol=1e-5)


def test_one_loop_repeated_is_exactly_periodic():
    mixer = LoopMixer(RATE, channels=2)
    loop = mixer.prepare(tone(), LOOP_RATE)
    mixer.queue(loop)
    out = mixer.render(4 * loop.frames + 123)
    assert np.array_equal(out[:, 0], out[:, 1])  # mono loop on both channels
    first, second, third = (out[k * loop.frames : (k + 1) * loop.frames, 0] for k in (1, 2, 3))
    assert np.array_equal(first, second) and np.array_equal(second, third)
    np.testing.assert_array_equal(first, loop.samples)  # after the fade-in: the loop itself
    assert mixer.seams_passed == 4
    assert mixer.loop_position == 123


def test_switch_happens_at_the_seam_and_is_continuous():
    mixer = LoopMixer(RATE, channels=1)
    a = mixer.prepare(tone(phase=0.0), LOOP_RATE)
    b = mixer.prepare(tone(phase=np.pi / 2), LOOP_RATE)  # a cosine: starts at 0.5 where A is at 0
    mixer.queue(a)
    before = mixer.render(a.frames + a.frames // 3)[:, 0]  # the queue call lands mid-loop
    mixer.queue(b)
    after = mixer.render(2 * a.frames)[:, 0]
    out = np.concatenate([before, after])
    seam = 2 * a.frames  # A plays twice (its first pass, then the pass it was in), then B

    assert mixer.current is b and mixer.seams_passed == 3
    # Exactly at the seam: A untouched up to it, B itself once the fade is over.
    np.testing.assert_array_equal(out[a.frames : seam], a.samples)
    fade = mixer.fade_frames
    np.testing.assert_array_equal(out[seam + fade : seam + b.frames], b.samples[fade:])

    # Continuous across the seam and the fade: no step steeper than the loops' own steepest one
    # (by more than 50 %), whereas a naive hard switch from A to B jumps by ~0.5.
    threshold = 1.5 * max(steepest_step(a.samples), steepest_step(b.samples))
    around = out[seam - fade : seam + 2 * fade + 1]
    assert np.abs(np.diff(around)).max() <= threshold
    naive = np.concatenate([a.samples[-fade:], b.samples[: 2 * fade + 1]])
    assert np.abs(np.diff(naive)).max() > threshold


def test_last_queued_loop_wins_at_the_seam():
    mixer = LoopMixer(RATE)
    a, b, c = (mixer.prepare(tone(phase=p), LOOP_RATE) for p in (0.0, 1.0, 2.0))
    mixer.queue(a)
    mixer.render(1000)
    mixer.queue(b)
    mixer.queue(c)
    mixer.render(a.frames)
    assert mixer.current is c and mixer.loops_started == 2


def test_start_from_silence_fades_in_at_once():
    mixer = LoopMixer(RATE)
    silent = mixer.render(100)
    assert not silent.any() and not mixer.playing
    loop = mixer.prepare(tone(phase=np.pi / 2), LOOP_RATE)  # starts at its peak: a click if not faded
    mixer.queue(loop)
    assert mixer.playing
    out = mixer.render(loop.frames)[:, 0]
    assert np.abs(np.diff(np.concatenate([[0.0], out]))).max() <= 1.5 * steepest_step(loop.samples)
    np.testing.assert_array_equal(out[mixer.fade_frames :], loop.samples[mixer.fade_frames :])


def test_volume_changes_ramp_without_jumps():
    mixer = LoopMixer(RATE)
    dc = mixer.prepare(np.ones(LOOP_RATE), LOOP_RATE)  # a constant loop shows the gain itself
    mixer.queue(dc)
    mixer.render(1000)  # past the fade-in
    mixer.set_volume(0.2)
    out = mixer.render(2000)[:, 0]
    ramp_step = 1.0 / mixer.fade_frames  # full scale per fade_seconds
    assert np.abs(np.diff(out)).max() <= ramp_step * 1.001
    assert out[0] < 1.0 and out[-1] == pytest.approx(0.2)
    mixer.set_volume(1.7)  # clamped
    assert mixer.volume == 1.0
    out = mixer.render(2000)[:, 0]
    assert np.abs(np.diff(out)).max() <= ramp_step * 1.001 and out[-1] == pytest.approx(1.0)


def test_stop_fades_to_exact_zeros_and_a_later_queue_plays_again():
    mixer = LoopMixer(RATE, channels=2)
    loop = mixer.prepare(tone(), LOOP_RATE)
    mixer.queue(loop)
    mixer.render(5000)
    mixer.stop()
    assert not mixer.playing
    out = mixer.render(4000)
    fade = mixer.fade_frames
    assert np.abs(out[:fade]).max() > 0.1  # it fades, it does not cut
    assert np.abs(np.diff(out[: fade + 1, 0])).max() <= 1.5 * steepest_step(loop.samples)
    assert not out[fade:].any() and mixer.current is None
    mixer.queue(loop)
    assert mixer.playing and mixer.render(2000).any()


def test_stop_drops_loops_queued_before_it():
    mixer = LoopMixer(RATE)
    a, b = (mixer.prepare(tone(phase=p), LOOP_RATE) for p in (0.0, 1.0))
    mixer.queue(a)
    mixer.render(1000)
    mixer.queue(b)
    mixer.stop()
    assert not mixer.render(2 * a.frames)[mixer.fade_frames :].any()


def test_prepare_rejects_what_cannot_loop():
    mixer = LoopMixer(RATE)
    with pytest.raises(ValueError):
        mixer.prepare(np.zeros((10, 2)), LOOP_RATE)
    with pytest.raises(ValueError):
        mixer.prepare(np.zeros(10), LOOP_RATE)  # shorter than the crossfade
    with pytest.raises(ValueError):
        mixer.queue(LoopMixer(44_100).prepare(tone(), LOOP_RATE))  # another mixer's rate


def test_fill_does_not_allocate():
    mixer = LoopMixer(RATE, channels=2)
    a, b = (mixer.prepare(tone(phase=p), LOOP_RATE) for p in (0.0, 1.0))
    mixer.queue(a)
    block = np.zeros((512, 2), dtype=np.float32)
    for _ in range(10):
        mixer.fill(block)
    mixer.queue(b)  # a switch and a volume ramp fall inside the traced calls
    mixer.set_volume(0.5)
    tracemalloc.start()
    try:
        mixer.fill(block)
        baseline, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(500):  # > 5 s of audio: several seams
            mixer.fill(block)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert mixer.current is b and mixer.seams_passed >= 5
    # Only transient views and ints come and go: no array data (a block alone is 4 KiB).
    assert peak - baseline < 1024, f"fill() allocated: peak {peak - baseline} bytes above baseline"
    assert current - baseline < 256


def test_a_larger_block_than_planned_is_played_alike():
    mixer, reference = LoopMixer(RATE, max_block=256), LoopMixer(RATE)
    for m in (mixer, reference):
        m.queue(m.prepare(tone(), LOOP_RATE))
    big = np.zeros((10_000, 1), dtype=np.float32)
    mixer.fill(big)  # grows its scratch once
    np.testing.assert_array_equal(big, reference.render(10_000))


def test_queueing_from_another_thread_never_breaks_the_signal():
    """The control side publishes while fill() runs: every switch still lands on a seam, crossfaded."""
    mixer = LoopMixer(RATE)
    loops = [mixer.prepare(tone(phase=p), LOOP_RATE) for p in (0.0, 2.0, 4.0)]
    mixer.queue(loops[0])
    done = threading.Event()

    def keep_queueing():
        k = 0
        while not done.is_set():
            mixer.queue(loops[k % 3])
            k += 1

    worker = threading.Thread(target=keep_queueing)
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # hand the GIL back and forth often: interleave the two sides finely
    worker.start()
    chunks = []
    try:  # until a few switches happened while the worker was queueing (how soon: up to the OS)
        while mixer.loops_started < 4 and len(chunks) < 200:
            chunks.append(mixer.render(loops[0].frames)[:, 0])
    finally:
        done.set()
        worker.join()
        sys.setswitchinterval(switch_interval)
    assert mixer.loops_started >= 4
    out = np.concatenate(chunks)
    threshold = 1.5 * max(steepest_step(loop.samples) for loop in loops)
    assert np.abs(np.diff(out)).max() <= threshold

"""The polyphony / pitch-change measure tells single tones from chords and glides."""

from __future__ import annotations

import numpy as np
import pytest

from studio.ml.audio.codec import ConstantQCodec, CQConfig
from studio.ml.audio.partials import codec_partial_stats, summarise
from studio.ml.data.audio import make_sine_tones

CONFIG = CQConfig()


@pytest.fixture(scope="module")
def codec() -> ConstantQCodec:
    return ConstantQCodec(CONFIG)


def stats_of(codec, audio):
    return codec_partial_stats(codec, codec.encode(np.asarray(audio)[None]))[0]


def sine(frequency, amplitude=0.5):
    t = np.arange(CONFIG.samples) / CONFIG.sample_rate
    return amplitude * np.sin(2 * np.pi * frequency * t)


def test_single_sine_tones_are_one_partial_at_one_pitch(codec):
    tones = make_sine_tones(count=256, sample_rate=CONFIG.sample_rate, duration=1.0, seed=3)
    stats = codec_partial_stats(codec, codec.encode(tones.waveforms.numpy()))
    assert summarise(stats)["either"] == 0
    assert all(s.max_partials == 1 for s in stats)


def test_a_chord_is_polyphonic_and_holds_its_pitch(codec):
    chord = stats_of(codec, sine(220) + sine(277.2) + sine(329.6))
    assert chord.polyphonic and chord.max_partials == 3
    assert not chord.pitch_change


def test_a_glide_changes_pitch_with_one_partial(codec):
    t = np.arange(CONFIG.samples) / CONFIG.sample_rate
    glide = 0.5 * np.sin(2 * np.pi * np.cumsum(np.geomspace(200, 400, CONFIG.samples)) / CONFIG.sample_rate)
    stats = stats_of(codec, glide * np.hanning(len(t)) ** 0.1)
    assert stats.pitch_change and stats.pitch_range_semitones == pytest.approx(12, abs=2)
    assert not stats.polyphonic


def test_silence_is_neither(codec):
    stats = stats_of(codec, np.zeros(CONFIG.samples))
    assert stats.sounding_frames == 0 and not stats.polyphonic and not stats.pitch_change

import logging
import re

import numpy as np
import pytest
import soundfile
import torch
from scipy.signal import find_peaks, get_window

from studio.ml.data.audio import (
    AudioClips,
    AudioFileError,
    load_audio_file,
    load_audio_folder,
    make_bass_loops,
    make_sine_tones,
)
from studio.ml.data.base import DatasetError

RATE = 4096


def spectrum(wave: np.ndarray, sample_rate: int = RATE) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies and magnitudes under a Blackman-Harris window: its sidelobes (-92 dB) cannot
    pass for a second tone."""
    magnitude = np.abs(np.fft.rfft(wave * get_window("blackmanharris", len(wave))))
    return np.fft.rfftfreq(len(wave), 1 / sample_rate), magnitude


def tone(frequency, seconds, sample_rate, amplitude=0.5):
    return amplitude * np.sin(2 * np.pi * frequency * np.arange(round(seconds * sample_rate)) / sample_rate)


@pytest.fixture(scope="module")
def tones() -> AudioClips:
    return make_sine_tones(1024, RATE, 1.0, seed=0)


# --- sine tones ---------------------------------------------------------------------------------


def test_tones_are_float_mono_clips_in_range(tones):
    assert tones.waveforms.shape == (1024, RATE) and tones.waveforms.dtype == torch.float32
    assert len(tones) == 1024 and tones.samples == RATE and tones.duration == 1.0
    assert len(tones.labels) == 1024 and tones.labels[0] == f"tone {tones.factors['pitch_hz'][0]:.1f} Hz"
    peak = tones.waveforms.abs().amax(dim=1).numpy()
    assert np.all(peak <= tones.factors["amplitude"] + 1e-6) and np.all(peak > 0.99 * tones.factors["amplitude"])
    assert tones.waveforms[:, [0, -1]].abs().max() < 1e-6  # faded in and out: no click at either end


def test_tone_pitches_are_log_uniform_and_continuous(tones):
    pitch = tones.factors["pitch_hz"]
    assert pitch.min() >= 110 and pitch.max() <= 880
    assert len(np.unique(np.round(pitch, 2))) > 1000  # not quantised to a scale
    for low in (110, 220, 440):  # each octave holds about a third of the notes
        assert abs(np.mean((pitch >= low) & (pitch < 2 * low)) - 1 / 3) < 0.06


def test_tones_are_deterministic_from_the_seed(tones):
    again = make_sine_tones(1024, RATE, 1.0, seed=0)
    assert torch.equal(again.waveforms, tones.waveforms)
    other = make_sine_tones(1024, RATE, 1.0, seed=1)
    assert not np.allclose(other.factors["pitch_hz"], tones.factors["pitch_hz"])
    assert not torch.allclose(other.waveforms, tones.waveforms)


def test_each_tone_is_one_sine_at_its_labelled_pitch(tones):
    for index in range(0, 1024, 73):
        frequency, magnitude = spectrum(tones.waveforms[index].numpy())
        assert abs(frequency[magnitude.argmax()] - tones.factors["pitch_hz"][index]) <= 1.0  # 1 Hz bins
        peaks, _ = find_peaks(magnitude, height=0.01 * magnitude.max())  # anything above -40 dB
        assert len(peaks) == 1, f"clip {index}: peaks at {frequency[peaks]} Hz"


def test_tones_refuse_a_sample_rate_that_cannot_hold_the_highest_pitch():
    with pytest.raises(ValueError, match="880"):
        make_sine_tones(4, sample_rate=1600)


# --- bass loops ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def loops() -> AudioClips:
    return make_bass_loops(4, RATE, 2.0, seed=0)


def test_bass_loops_are_four_distinct_two_second_clips(loops):
    assert loops.waveforms.shape == (4, 2 * RATE) and loops.waveforms.dtype == torch.float32
    assert loops.duration == 2.0
    assert np.allclose(loops.waveforms.abs().amax(dim=1).numpy(), 0.9)
    waves = loops.waveforms.numpy()
    correlation = np.corrcoef(waves)[np.triu_indices(4, 1)]
    assert np.all(np.abs(correlation) < 0.9), correlation
    for label in loops.labels:
        assert re.fullmatch(r"loop [1-4]: [A-G]#?[12] pentatonic, 120 bpm", label), label
    assert np.all((loops.factors["root_hz"] > 41) & (loops.factors["root_hz"] < 111))


def test_bass_loops_are_deterministic_and_differ_between_seeds(loops):
    assert torch.equal(make_bass_loops(4, RATE, 2.0, seed=0).waveforms, loops.waveforms)
    other = make_bass_loops(4, RATE, 2.0, seed=1).waveforms
    assert all(not torch.allclose(other[i], loops.waveforms[j]) for i in range(4) for j in range(4))


def test_bass_loops_have_no_seam():
    waves = np.concatenate([make_bass_loops(4, RATE, 2.0, seed=seed).waveforms.numpy() for seed in range(6)])
    for index, wave in enumerate(waves):
        seam = abs(wave[0] - wave[-1])
        assert seam <= np.percentile(np.abs(np.diff(wave)), 99.9), f"loop {index}: step {seam} at the seam"
    # Not vacuous: in several loops a note is sounding loudly across the seam (its tail wrapped).
    assert np.sum(np.abs(waves[:, -1]) > 0.1) >= 3


def test_bass_loop_energy_is_low(loops):
    for wave in loops.waveforms.numpy():
        frequency, magnitude = spectrum(wave)
        power = magnitude**2
        assert power[frequency < 250].sum() > 0.8 * power.sum()
        assert power[frequency < 35].sum() < 0.05 * power.sum()  # but no DC or sub-bass rumble


# --- files and folders --------------------------------------------------------------------------


@pytest.fixture
def messy(tmp_path):
    """Three good recordings (different formats, rates and channel counts) among bad files."""
    stereo = np.stack([tone(440, 2.5, 44100, 0.6), tone(660, 2.5, 44100, 0.2)], axis=1)
    soundfile.write(tmp_path / "take2.wav", stereo, 44100)
    soundfile.write(tmp_path / "take10.ogg", tone(500, 2.2, 16000), 16000)
    (tmp_path / "takes").mkdir()
    soundfile.write(tmp_path / "takes" / "low.flac", tone(300, 3.0, 22050, 0.05), 22050)
    soundfile.write(tmp_path / "short.wav", tone(440, 0.8, 8000), 8000)
    soundfile.write(tmp_path / "empty.wav", np.zeros((0, 1)), 8000)
    (tmp_path / "corrupt.wav").write_bytes(np.random.default_rng(0).integers(0, 256, 800, dtype=np.uint8).tobytes())
    soundfile.write(tmp_path / "silent.wav", np.zeros(3 * 8000), 8000)
    (tmp_path / "notes.txt").write_text("not audio: ignored, not skipped")
    return tmp_path


BAD = {"corrupt.wav": "not readable", "empty.wav": "empty", "short.wav": "0.8 s long", "silent.wav": "silent"}


def test_folder_keeps_good_files_in_natural_order_and_skips_bad_ones(messy, caplog):
    with caplog.at_level(logging.WARNING):
        clips = load_audio_folder(messy, sample_rate=RATE, duration=2.0)
    assert clips.labels == ["take2.wav", "take10.ogg", "takes/low.flac"]
    assert clips.waveforms.shape == (3, 2 * RATE) and clips.sample_rate == RATE
    assert np.allclose(clips.waveforms.abs().amax(dim=1).numpy(), 0.9, atol=1e-6)  # quiet FLAC too
    reasons = {path.name: reason for path, reason in clips.skipped}
    assert set(reasons) == set(BAD)
    for name, expected in BAD.items():
        assert expected in reasons[name] and str(messy) not in reasons[name]
        assert name in caplog.text
    assert "shorter than the 2 s clips" in reasons["short.wav"]
    assert "3 clips" in clips.description and "4 skipped" in clips.description


def test_folder_resamples_to_the_target_rate_keeping_pitch(messy):
    clips = load_audio_folder(messy, sample_rate=RATE, duration=2.0)
    for index, pitch in ((1, 500), (2, 300)):  # OGG from 16 kHz, FLAC from 22.05 kHz
        frequency, magnitude = spectrum(clips.waveforms[index].numpy())
        assert abs(frequency[magnitude.argmax()] - pitch) <= 1.0  # bins are 0.5 Hz
        peaks, _ = find_peaks(magnitude, height=0.01 * magnitude.max())
        assert len(peaks) == 1


def test_stereo_is_downmixed_by_averaging(messy):
    wave = load_audio_folder(messy, sample_rate=RATE, duration=2.0).waveforms[0].numpy()
    frequency, magnitude = spectrum(wave)
    left, right = (magnitude[np.argmin(np.abs(frequency - f))] for f in (440, 660))
    assert left / right == pytest.approx(3.0, rel=0.02)  # both channels, at their own levels
    direct = load_audio_file(messy / "take2.wav", 44100)
    assert np.allclose(direct, (tone(440, 2.5, 44100, 0.6) + tone(660, 2.5, 44100, 0.2)) / 2, atol=1e-4)


def test_a_folder_of_bad_files_names_the_folder_and_the_files(messy):
    for name in ("take2.wav", "take10.ogg", "takes/low.flac"):
        (messy / name).unlink()
    stereo = tone(440, 3.0, 8000)  # channels in opposite phase average to silence
    soundfile.write(messy / "cancelled.wav", np.stack([stereo, -stereo], axis=1), 8000)
    with pytest.raises(DatasetError, match=re.escape(str(messy))) as raised:
        load_audio_folder(messy)
    assert "cancelled.wav: silent" in str(raised.value) and "all 5 audio files" in str(raised.value)


def test_missing_folder_and_folder_without_audio_raise(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_audio_folder(tmp_path / "nowhere")
    (tmp_path / "readme.txt").write_text("no audio here")
    with pytest.raises(DatasetError, match=f"no audio files.*{re.escape(str(tmp_path))}"):
        load_audio_folder(tmp_path)


def test_load_audio_file_errors_name_the_file(tmp_path):
    (tmp_path / "junk.flac").write_bytes(b"RIFF not really audio")
    with pytest.raises(AudioFileError, match="junk.flac.*not readable as audio") as raised:
        load_audio_file(tmp_path / "junk.flac", RATE)
    assert isinstance(raised.value, ValueError) and raised.value.path.name == "junk.flac"
    bad = tone(100, 0.5, 8000)
    bad[100] = np.nan
    soundfile.write(tmp_path / "nan.wav", bad, 8000, subtype="FLOAT")
    with pytest.raises(AudioFileError, match="nan.wav.*non-finite"):
        load_audio_file(tmp_path / "nan.wav", RATE)
    with pytest.raises(AudioFileError, match="gone.wav.*does not exist"):
        load_audio_file(tmp_path / "gone.wav", RATE)


def test_load_audio_file_length_and_max_duration(tmp_path):
    soundfile.write(tmp_path / "long.wav", tone(250, 5.0, 44100), 44100)
    whole = load_audio_file(tmp_path / "long.wav", RATE)
    assert whole.shape == (5 * RATE,) and whole.dtype == np.float32
    start = load_audio_file(tmp_path / "long.wav", RATE, max_duration=1.0)
    assert start.shape == (RATE,) and start.dtype == np.float32
    # Reading only the start gives the samples of resampling everything: no filter edge at the cut.
    assert np.allclose(start, whole[:RATE], atol=1e-5)
    assert np.allclose(start[100:], tone(250, 1.0, RATE)[100:], atol=0.01)  # and it is the tone


# --- AudioClips ---------------------------------------------------------------------------------


def test_batch_is_reproducible_and_made_of_clips(tones):
    first = tones.batch(16, torch.Generator().manual_seed(3))
    assert first.shape == (16, 1, RATE) and first.dtype == torch.float32
    assert torch.equal(first, tones.batch(16, torch.Generator().manual_seed(3)))
    assert not torch.equal(first, tones.batch(16, torch.Generator().manual_seed(4)))
    rows = {bytes(row.numpy()) for row in tones.waveforms}
    assert all(bytes(clip[0].numpy()) in rows for clip in first)


def test_setup_values_and_description_give_rate_and_length(loops):
    assert loops.setup_values() == {"sample_rate": RATE, "samples": 2 * RATE}
    assert loops.describe() == {"sample_rate": RATE, "samples": 2 * RATE, "clips": 4}


def test_clips_are_validated():
    with pytest.raises(ValueError, match="float32"):
        AudioClips("x", torch.zeros(2, 8, dtype=torch.float64), RATE, ["a", "b"])
    with pytest.raises(ValueError, match="no clips"):
        AudioClips("x", torch.zeros(0, 8), RATE, [])
    with pytest.raises(ValueError, match="labels"):
        AudioClips("x", torch.zeros(2, 8), RATE, ["a"])
    with pytest.raises(ValueError, match="outside"):
        AudioClips("x", torch.full((1, 8), float("nan")), RATE, ["a"])

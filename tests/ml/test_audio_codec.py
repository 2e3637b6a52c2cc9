"""The constant-Q codec: nsgt's frame, exactly invertible, batched, and its phase retrieval."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from studio.ml.audio import nsgt_compat
from studio.ml.audio.codec import ConstantQCodec, CQConfig, codec_for_model
from studio.ml.audio.phase import retrieve_phase, spectral_convergence

CONFIG = CQConfig()  # 1 s at 3840 Hz, A1..A#6


@pytest.fixture(scope="module")
def codec() -> ConstantQCodec:
    return ConstantQCodec(CONFIG)


def tones(config: CQConfig = CONFIG) -> np.ndarray:
    """A loop with an arpeggio and a glide: onsets, several partials, a pitch change."""
    t = np.arange(config.samples) / config.sample_rate
    audio = np.zeros(config.samples)
    for frequency, onset in ((220.0, 0.1), (330.0, 0.4), (440.0, 0.7)):
        after = np.clip(t - onset, 0, None)
        audio += 0.3 * (t >= onset) * np.exp(-3 * after) * np.sin(2 * np.pi * frequency * after)
    glide = np.cumsum(np.linspace(150.0, 300.0, config.samples)) / config.sample_rate
    return audio + 0.2 * np.sin(2 * np.pi * glide)


def nsgt_frame(config: CQConfig, frames: int):
    """nsgt's own transform with the codec's settings and column count."""
    nsgt = nsgt_compat.load_nsgt()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        frame = nsgt.NSGT(nsgt.OctScale(config.fmin, config.fmax, config.bins_per_octave),
                          config.sample_rate, config.samples, real=True, matrixform=True)
    frame.M[:] = frames
    frame.gd = nsgt.nsdual.nsdual(frame.g, frame.wins, frame.nn, frame.M)
    return frame


def test_nsgt_needs_the_numpy_patch_and_works_with_it(monkeypatch):
    if not nsgt_compat.clip_into_int_fails():
        pytest.skip("this numpy still casts clip's float result into an int array: no patch needed")
    nsgt = nsgt_compat.load_nsgt()
    import nsgt.nsgfwin_sl as window_design

    scale = nsgt.OctScale(55, 1864, 12)
    warnings.simplefilter("ignore", UserWarning)  # nsgt's "Q-factor too high": see codec.py
    with monkeypatch.context() as unpatched:
        unpatched.setattr(window_design, "np", np)
        with pytest.raises(TypeError):
            nsgt.NSGT(scale, 3840, 3840, real=True, matrixform=True)
    frame = nsgt.NSGT(scale, 3840, 3840, real=True, matrixform=True)  # patched again
    signal = np.random.default_rng(0).standard_normal(3840)
    assert np.abs(frame.backward(frame.forward(signal)) - signal).max() < 1e-12


def test_the_batched_transform_is_nsgts(codec):
    frame = nsgt_frame(CONFIG, codec.frames)
    signal = tones()
    ours = codec.analyse(signal)
    theirs = np.asarray(frame.forward(signal))
    assert ours.shape == theirs.shape == (64, 256)
    assert np.abs(ours - theirs).max() < 1e-12
    assert np.abs(codec.synthesise(theirs) - frame.backward(theirs)).max() < 1e-12


def test_round_trip_with_the_true_phase_is_exact_to_float64(codec):
    batch = np.stack([tones(), np.random.default_rng(1).standard_normal(CONFIG.samples)])
    coefficients = codec.analyse(batch)
    assert coefficients.shape == (2, *codec.image_shape)
    # magnitude and phase kept apart, as a model that generated both would hand them over
    rebuilt = codec.synthesise(np.abs(coefficients) * np.exp(1j * np.angle(coefficients)))
    assert np.abs(rebuilt - batch).max() < 1e-12


def test_images_are_64_rows_high_frequencies_on_top_and_invert_to_the_magnitude(codec):
    signal = 0.5 * np.sin(2 * np.pi * 1500.0 * np.arange(CONFIG.samples) / CONFIG.sample_rate)
    image = codec.encode(signal)
    assert image.shape == (64, 256) and image.dtype == np.float32
    assert -1 <= image.min() and image.max() <= 1
    loudest_row = image.mean(axis=1).argmax()
    assert codec.frequencies[::-1][loudest_row] == pytest.approx(1500.0, rel=0.06)  # within a semitone
    magnitude = np.abs(codec.analyse(signal))
    audible = magnitude > codec.reference * 10 ** (-CONFIG.db_range / 20)
    recovered = codec.image_to_magnitude(image)
    assert np.allclose(recovered[audible], magnitude[audible], rtol=1e-5)
    assert (recovered[~audible] == 0).all()  # below the range: silence


def test_the_transform_is_circular_so_a_loop_has_no_edges(codec):
    hop = CONFIG.samples // codec.frames  # samples per column
    signal = tones()
    shifted = np.roll(signal, 5 * hop)
    assert np.allclose(np.abs(codec.analyse(shifted)), np.roll(np.abs(codec.analyse(signal)), 5, axis=-1),
                       atol=1e-9)


def test_phase_retrieval_converges_far_beyond_random_phase(codec):
    magnitude = np.abs(codec.analyse(tones()))
    random_phase = np.exp(2j * np.pi * np.random.default_rng(2).random(magnitude.shape))
    baseline = spectral_convergence(codec, magnitude, codec.synthesise(magnitude * random_phase))
    fast = spectral_convergence(codec, magnitude, retrieve_phase(codec, magnitude, iterations=32))
    plain = spectral_convergence(codec, magnitude, retrieve_phase(codec, magnitude, iterations=32, momentum=0))
    assert baseline > 0.5
    assert fast < 0.06 < baseline / 10  # measured 0.03
    assert fast < plain  # the momentum is what makes 32 iterations enough


def test_settings_that_cannot_work_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="Nyquist"):
        CQConfig(sample_rate=2048, fmax=1864.0)
    with pytest.raises(ValueError, match="widest constant-Q band"):
        ConstantQCodec(CQConfig(frames=64))
    with pytest.raises(ValueError, match="3840 samples"):
        ConstantQCodec(CONFIG).analyse(np.zeros(100))


def test_a_models_codec_comes_from_its_config():
    codec = codec_for_model({"sample_rate": 3840, "samples": 7680, "fmin": 55.0, "fmax": 1864.0,
                             "bins_per_octave": 12})
    assert codec.image_shape == (64, 512)
    assert codec_for_model({"sample_rate": 3840, "samples": 7680}) is codec  # defaults, cached
    short = codec_for_model({"sample_rate": 3840, "samples": 480})
    assert short.frames >= short.rows  # never taller than wide

"""The DCGAN on constant-Q spectrograms: what it trains on, its shapes, and that it learns."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.ml.audio.codec import codec_for_model
from studio.ml.data.audio import make_sine_tones
from studio.ml.data.base import to_signed_float
from studio.ml.training.spectrogram import SpectrogramGANTrainer

TINY = {"nz": 16, "ngf": 4, "ndf": 4, "batch_size": 8, "sample_rate": 3840, "samples": 3840}


@pytest.fixture(scope="module")
def tones():
    return make_sine_tones(count=64, sample_rate=3840, duration=1.0, seed=0)


def test_it_trains_on_the_codec_images_of_the_clips(tones):
    trainer = SpectrogramGANTrainer(TINY, tones, "cpu", seed=0)
    images = trainer.dataset.images
    assert images.shape == (64, 1, 64, 256) and images.dtype == torch.uint8
    codec = codec_for_model(trainer.config)
    expected = codec.encode(tones.waveforms[:3].numpy())
    assert np.abs(to_signed_float(images[:3, 0]).numpy() - expected).max() <= 1 / 127.5  # uint8 steps
    assert trainer.G(torch.zeros(2, 16)).shape == (2, 1, 64, 256)
    assert trainer.sample_grid().shape == (64, 1, 64, 256)
    assert set(trainer.step()) == {"loss_D", "loss_G", "D_x", "D_G_z"}


def test_clips_that_do_not_fit_the_config_are_refused_by_name(tones):
    with pytest.raises(ValueError, match="sine-tones.*7680 samples"):
        SpectrogramGANTrainer(TINY | {"samples": 7680}, tones, "cpu")
    with pytest.raises(ValueError, match="65 rows.*32 or 64"):
        SpectrogramGANTrainer(TINY | {"fmax": 1900.0}, tones, "cpu")


def test_the_discriminator_learns_to_tell_tones_from_noise(tones):
    torch.manual_seed(0)
    trainer = SpectrogramGANTrainer(TINY | {"lr": 1e-3}, tones, "cpu", seed=1)
    margins = [trainer.step() for _ in range(40)]
    gap = [m["D_x"] - m["D_G_z"] for m in margins]
    assert np.mean(gap[-10:]) > np.mean(gap[:5]) + 0.05

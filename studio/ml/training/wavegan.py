"""Wave GAN training (seed paper 002): a DCGAN on raw audio clips, non-saturating GAN loss, Adam.

The step is DCGAN's (:class:`~studio.ml.training.common.NonSaturatingGAN`); what differs is the data (AudioClips: the config takes ``sample_rate`` and
``samples`` from it) and the sample grid, which draws each fixed-z clip as a constant-Q
spectrogram so the trainer monitor can show it like an image grid. Seeding and checkpoints are
shared with the image GANs: see :mod:`studio.ml.training.common`. From there too come z ~ N(0, 1)
(the paper drew it uniformly) and 64 fixed z for the grid (the paper kept 100).
"""

from __future__ import annotations

import numpy as np
import torch

from studio.ml.data.base import to_uint8
from studio.ml.models.wavegan import WaveDiscriminator, WaveGenerator
from studio.ml.training.common import NonSaturatingGAN
from studio.ml.training.wavegan_params import WAVEGAN_PARAMS

GRID_COLUMNS = 256  # time columns per picture at most: the codec gives up to 1024 for a 2 s loop


class WaveGANTrainer(NonSaturatingGAN):
    """The Trainer protocol (:mod:`studio.ml.training.base`) for the wave GAN on AudioClips.

    ``self.G`` maps z (N, nz) to clips (N, 1, samples) in [-1, 1]: the player calls it directly.
    """

    kind = "wavegan"
    params = WAVEGAN_PARAMS
    setup_keys = ("sample_rate", "samples")
    _spectrogram: _Spectrogram | None = None  # built on the first sample_grid (the codec takes a second)

    def _check_dataset(self, clips) -> None:
        cfg = self.config
        if (clips.sample_rate, clips.samples) != (cfg["sample_rate"], cfg["samples"]):
            raise ValueError(
                f"dataset {clips.name!r} has clips of {clips.samples} samples at {clips.sample_rate} Hz, "
                f"but the model is configured for {cfg['samples']} samples at {cfg['sample_rate']} Hz"
            )

    def _build_networks(self) -> None:
        cfg = self.config
        self.G = self._build(lambda: WaveGenerator(self.nz, cfg["ngf"], cfg["samples"], cfg["max_width"]))
        self.D = self._build(lambda: WaveDiscriminator(cfg["ndf"], cfg["samples"], cfg["d_norm"],
                                                   cfg["max_width"]))
        self._build_optimisers()

    # -- looking at it -------------------------------------------------------------------------
    @torch.no_grad()
    def sample_clips(self) -> torch.Tensor:
        """The fixed-z clips, float32 (64, 1, samples) on the CPU; G in eval mode (running BN stats)."""
        was_training = self.G.training
        self.G.eval()
        try:
            return self.G(self.fixed_z.to(self.device)).float().cpu()
        finally:
            self.G.train(was_training)

    def sample_grid(self) -> torch.Tensor:
        """The fixed-z clips drawn as spectrograms: uint8 (64, 1, rows, columns), high pitches on top."""
        if self._spectrogram is None:
            self._spectrogram = _Spectrogram(self.config["sample_rate"], self.config["samples"])
        return to_uint8(self._spectrogram(self.sample_clips()[:, 0].numpy()).unsqueeze(1))


class _Spectrogram:
    """Clips (N, samples) -> float images (N, rows, columns) in [-1, 1], high frequencies on top.

    The constant-Q codec (log-frequency, so bass notes get rows of their own) when it can be built;
    else, e.g. at a sample rate too low for its range or without nsgt, a log-magnitude STFT.
    Columns are max-pooled down to GRID_COLUMNS: a short note's onset stays visible.
    """

    def __init__(self, sample_rate: int, samples: int):
        try:  # the codec the loop player shows this model's loops with
            from studio.ml.audio.codec import codec_for_model

            self.codec = codec_for_model({"sample_rate": sample_rate, "samples": samples})
        except (ImportError, ValueError):
            self.codec = None

    def __call__(self, clips: np.ndarray) -> torch.Tensor:
        if self.codec is not None:
            images = torch.from_numpy(self.codec.encode(clips))
        else:
            images = _stft_image(torch.from_numpy(clips))
        pool = max(1, images.shape[-1] // GRID_COLUMNS)
        return torch.nn.functional.max_pool1d(images, pool) if pool > 1 else images


def _stft_image(clips: torch.Tensor, window: int = 256, db_range: float = 80.0) -> torch.Tensor:
    """A log-magnitude STFT in [-1, 1] (0 dB = a full-scale sine, floor at -db_range), high on top."""
    window = min(window, clips.shape[-1])
    magnitude = torch.stft(clips, window, window // 4, window=torch.hann_window(window), return_complex=True).abs()
    level = 20 * torch.log10(magnitude.clamp_min(1e-12) / (window / 4))  # a unit sine peaks at window/4
    return (1 + 2 * level.clamp(-db_range, 0) / db_range).flip(-2)

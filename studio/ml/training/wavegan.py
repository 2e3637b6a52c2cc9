"""Wave GAN training (seed paper 002): a DCGAN on raw audio clips, non-saturating GAN loss, Adam.

The step is DCGAN's (:class:`~studio.ml.training.common.NonSaturatingGAN`); what differs is the
data (AudioClips: the config takes ``sample_rate`` and ``samples`` from it) and the sample grid,
which draws each fixed-z clip as a constant-Q spectrogram so the trainer monitor can show it like
an image grid. Seeding and checkpoints are
shared with the image GANs: see :mod:`studio.ml.training.common`. From there too come z ~ N(0, 1)
(the paper drew it uniformly) and 64 fixed z for the grid (the paper kept 100).
"""

from __future__ import annotations

import torch

from studio.ml.audio.codec import codec_for_model
from studio.ml.data.base import to_uint8
from studio.ml.models.wavegan import WaveDiscriminator, WaveGenerator
from studio.ml.training.common import AUDIO_SETUP_KEYS, NonSaturatingGAN, check_clips
from studio.ml.training.wavegan_params import WAVEGAN_PARAMS

GRID_COLUMNS = 256  # time columns per picture at most: the codec gives up to 1024 for a 2 s loop


class WaveGANTrainer(NonSaturatingGAN):
    """The Trainer protocol (:mod:`studio.ml.training.base`) for the wave GAN on AudioClips.

    ``self.G`` maps z (N, nz) to clips (N, 1, samples) in [-1, 1]: the player calls it directly.
    """

    kind = "wavegan"
    params = WAVEGAN_PARAMS
    setup_keys = AUDIO_SETUP_KEYS

    def _check_dataset(self, clips) -> None:
        check_clips(self.config, clips)

    def _build_networks(self) -> None:
        cfg = self.config
        self.G = self._build(lambda: WaveGenerator(self.nz, cfg["ngf"], cfg["samples"], cfg["max_width"]))
        self.D = self._build(lambda: WaveDiscriminator(cfg["ndf"], cfg["samples"], cfg["d_norm"],
                                                   cfg["max_width"]))
        self._build_optimisers()

    def sample_grid(self) -> torch.Tensor:
        """The fixed-z clips drawn as the loop player draws them, constant-Q spectrograms (high
        pitches on top), uint8 (64, 1, rows, columns); columns max-pooled to at most GRID_COLUMNS
        so that a short note's onset stays visible."""
        clips = self.fixed_samples()[:, 0].numpy()
        images = torch.from_numpy(codec_for_model(self.config).encode(clips))
        pool = max(1, images.shape[-1] // GRID_COLUMNS)
        return to_uint8(torch.nn.functional.max_pool1d(images, pool) if pool > 1 else images).unsqueeze(1)

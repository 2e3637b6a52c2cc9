"""The image DCGAN on constant-Q spectrograms (seed paper 000's sound experiment).

Each audio clip becomes a log-magnitude constant-Q image (:mod:`studio.ml.audio.codec`) once, when
the trainer is built; from then on it is an image GAN: the same networks, loss and schedule as
:class:`~studio.ml.training.dcgan.DCGANTrainer`, on one-channel images ``rows`` high and
``frames`` wide. Generated images become sound by phase retrieval (:mod:`studio.ml.audio.phase`).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import torch

from studio.ml.audio.codec import ConstantQCodec, codec_for_model
from studio.ml.data.audio import AudioClips
from studio.ml.data.base import ImageDataset, to_uint8
from studio.ml.models.dcgan import SIZES
from studio.ml.training.common import AUDIO_SETUP_KEYS, check_clips
from studio.ml.training.dcgan import DCGANTrainer
from studio.ml.training.spectrogram_params import SPECTROGRAM_PARAMS

ENCODE_BATCH = 256  # clips per codec call: bounded memory for a large folder


class SpectrogramGANTrainer(DCGANTrainer):
    """The Trainer protocol for DCGAN on the constant-Q images of an :class:`AudioClips`."""

    kind = "cq_dcgan"
    params = SPECTROGRAM_PARAMS
    setup_keys = AUDIO_SETUP_KEYS

    def __init__(self, config: dict, clips: AudioClips, device: torch.device | str = "cpu", seed: int = 0):
        super().__init__(config, clips, device, seed)
        self.dataset = spectrogram_images(clips, self.codec)

    def _check_dataset(self, clips: AudioClips) -> None:
        check_clips(self.config, clips)
        rows = self.codec.rows
        if rows not in SIZES:
            raise ValueError(f"these constant-Q settings give {rows} rows ({rows - 2} bands + DC and Nyquist); "
                             f"the spectrogram GAN needs {' or '.join(map(str, SIZES))}: change fmin, fmax or "
                             "bins per octave")

    @cached_property
    def codec(self) -> ConstantQCodec:
        return codec_for_model(self.config)

    def image_shape(self) -> tuple[int, int, int]:
        return (1, *self.codec.image_shape)


def spectrogram_images(clips: AudioClips, codec: ConstantQCodec) -> ImageDataset:
    """The clips as uint8 constant-Q images (N, 1, rows, frames); their quantisation to 256
    levels is 80/255 = 0.3 dB per step, well below what the GAN reproduces."""
    waveforms = clips.waveforms.numpy()
    images = np.concatenate([codec.encode(waveforms[i: i + ENCODE_BATCH])
                             for i in range(0, len(waveforms), ENCODE_BATCH)])
    pixels = to_uint8(torch.from_numpy(images)[:, None])
    return ImageDataset(f"{clips.name} (constant-Q)", pixels, description=clips.description)

"""Generated loops against the training loops (seed paper 002, figure 8): a PCA map of both sets
and, for each generated loop, its nearest training loop.

Loops are compared by their constant-Q log-magnitude images, not their samples: two loops that
sound the same but differ in phase (as every loop from phase retrieval does) then sit together,
and a waveform model and a spectrogram model are judged alike. Only the top ``MAP_RANGE_DB`` of
the images count: a waveform GAN's faint broadband noise floor (-50 dB and below) would otherwise
outweigh the notes (measured on the bass loops: with the codec's full 80 dB, generated copies of
a training loop sat farther from it than the training loops from each other; with 40 dB, at a
third of that distance). Distances and the map are :mod:`studio.ml.analysis.novelty`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from studio.ml.analysis.novelty import Neighbours, PixelPCA, fit_pixel_pca, nearest_training_images
from studio.ml.audio.codec import ConstantQCodec
from studio.ml.data.base import to_uint8

# one colour per training loop on the maps (the CLI's map.png and the panel's), as few as seed 002's 4
LOOP_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


MAP_RANGE_DB = 40.0


def loop_images(codec: ConstantQCodec, audio: np.ndarray, range_db: float = MAP_RANGE_DB) -> torch.Tensor:
    """Loops (N, samples) -> uint8 constant-Q images (N, 1, rows, frames) of their top ``range_db``."""
    images = codec.encode(np.asarray(audio))
    floor = 1 - 2 * min(range_db, codec.config.db_range) / codec.config.db_range  # the image value range_db down
    rescaled = (np.clip(images, floor, 1) - floor) / (1 - floor) * 2 - 1
    return to_uint8(torch.from_numpy(rescaled)[:, None])


@dataclass(frozen=True)
class LoopMap:
    """Training and generated loops on one PCA plane, and each generated loop's nearest training loop."""

    pca: PixelPCA
    training: torch.Tensor  # uint8 (N, 1, rows, frames)
    generated: torch.Tensor  # uint8 (M, 1, rows, frames)
    training_xy: np.ndarray  # (N, 2)
    generated_xy: np.ndarray  # (M, 2)
    nearest: Neighbours  # for each generated loop

    def place(self, images: torch.Tensor) -> tuple[np.ndarray, Neighbours, Neighbours]:
        """Where other loops (e.g. a dropped file's) fall on the map, and their nearest training
        and nearest generated loops."""
        return (self.pca(images), nearest_training_images(images, self.training),
                nearest_training_images(images, self.generated))


def loop_map(training: torch.Tensor, generated: torch.Tensor, seed: int = 0) -> LoopMap:
    """The map of seed 002's figure 8. The PCA is fitted on both sets together, as there: a
    training set of four loops alone would give a plane through just those four."""
    pca = fit_pixel_pca(torch.cat([training, generated]), seed=seed)
    return LoopMap(pca, training, generated, pca(training), pca(generated), nearest_training_images(generated, training))

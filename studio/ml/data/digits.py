"""Real handwritten digits that ship inside scikit-learn's wheel: the offline stand-in for MNIST."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from studio.ml.data.base import ImageDataset

DIGIT_MAX = 16  # the 8x8 digits count ink in 4x4 blocks of the 32x32 scans: values 0..16


def load_digits(size: int = 32, channels: int = 1) -> ImageDataset:
    """scikit-learn's 1797 8x8 digits (white ink on black), upsampled bicubically to ``size``;
    ``channels`` 3 replicates the gray. ``factors["label"]`` holds the digit."""
    if channels not in (1, 3):
        raise ValueError(f"digits come with 1 or 3 channels, not {channels}")
    if size < 8:
        raise ValueError(f"digits are 8x8 scans; size must be at least 8, not {size}")
    from sklearn.datasets import load_digits as sklearn_digits  # slow import (~1 s): only when used

    bunch = sklearn_digits()
    small = np.rint(bunch.images * (255.0 / DIGIT_MAX)).astype(np.uint8)
    # PIL resamples uint8 images and clips bicubic overshoot to 0..255
    big = np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.Resampling.BICUBIC)) for im in small])
    images = torch.from_numpy(big)[:, None].expand(-1, channels, -1, -1).contiguous()
    return ImageDataset(
        name="digits",
        images=images,
        factors={"label": np.asarray(bunch.target, dtype=np.int64)},
        description=f"scikit-learn's {len(images)} handwritten digits (UCI optdigits), 8x8 upsampled to {size}x{size}",
    )

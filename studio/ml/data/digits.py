"""Real handwritten digits that ship inside scikit-learn's wheel: the offline stand-in for MNIST."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from studio.ml.data.base import ImageDataset


def load_digits(size: int = 32, channels: int = 1) -> ImageDataset:
    """scikit-learn's 1797 8x8 digits (white ink on black, 0..16), upsampled bicubically."""
    from sklearn.datasets import load_digits as sklearn_digits  # slow import: only when used

    bunch = sklearn_digits()
    small = (bunch.images / 16.0 * 255.0).clip(0, 255).astype(np.uint8)
    big = np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.Resampling.BICUBIC)) for im in small])
    images = torch.from_numpy(big)[:, None].repeat(1, channels, 1, 1).contiguous()
    return ImageDataset(
        name="digits",
        images=images,
        factors={"label": bunch.target.copy()},
        description="scikit-learn's 1797 handwritten digits (UCI optdigits), upsampled",
    )

"""Shared fixtures for the science-core tests: tiny DCGANs on tiny data, so the folder runs fast."""

import numpy as np
import pytest

from studio.ml.data.base import ImageDataset
from studio.ml.data.shapes import make_shapes, render_shapes

TINY = {"image_size": 32, "channels": 3, "nz": 16, "ngf": 8, "ndf": 8, "batch_size": 16, "lr": 2e-4, "beta1": 0.5}


@pytest.fixture(autouse=True)
def _tiny_models_on_one_thread(one_torch_thread):
    """Every science-core test runs torch on one thread: see ``one_torch_thread``."""


@pytest.fixture
def tiny_config() -> dict:
    return dict(TINY)


@pytest.fixture(scope="session")
def shapes32() -> ImageDataset:
    return make_shapes(128, 32, channels=3, seed=0)


def one_square(size: int = 32, channels: int = 3) -> ImageDataset:
    """One red square on a near-black background, repeated: a target a GAN can visibly reach."""
    factors = {"kind": np.array([1]), "x": np.zeros(1), "y": np.zeros(1), "scale": np.array([0.3]),
               "rotation": np.array([0.3]), "hue": np.array([0.0]), "background": np.array([0])}
    image = render_shapes(factors, size, channels)
    return ImageDataset("one-square", image.repeat(64, 1, 1, 1))

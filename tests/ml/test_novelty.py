"""Nearest training images (exact, chunked) and the PCA map of training and generated images."""

import numpy as np
import pytest
import torch

from studio.ml.analysis.novelty import (
    NoveltyReference,
    fit_pixel_pca,
    nearest_training_images,
    typical_nn_distance,
)


def random_images(n: int, seed: int, size: int = 8, channels: int = 3) -> torch.Tensor:
    return torch.randint(0, 256, (n, channels, size, size), generator=torch.Generator().manual_seed(seed),
                         dtype=torch.uint8)


def test_an_exact_copy_is_found_at_distance_zero():
    training = random_images(50, seed=0)
    queries = torch.stack([training[17], training[3]])
    found = nearest_training_images(queries, training)
    assert found.index.tolist() == [17, 3]
    assert found.distance.tolist() == [0.0, 0.0]


def test_distance_is_rms_in_unit_pixels():
    black = torch.zeros(1, 1, 4, 4, dtype=torch.uint8)
    white = torch.full((1, 1, 4, 4), 255, dtype=torch.uint8)
    assert nearest_training_images(black, white).distance[0] == pytest.approx(1.0)
    half = black.clone()
    half[..., :2, :] = 255  # half the pixels differ by 1: RMS sqrt(0.5)
    assert nearest_training_images(half, black).distance[0] == pytest.approx(np.sqrt(0.5))


def test_chunking_gives_the_same_answer():
    training, queries = random_images(300, seed=1), random_images(9, seed=2)
    whole = nearest_training_images(queries, training, chunk=1000)
    for chunk in (1, 7, 64):
        part = nearest_training_images(queries, training, chunk=chunk)
        assert part.index.tolist() == whole.index.tolist()
        assert np.allclose(part.distance, whole.distance)
    brute = ((queries[:, None].float() - training[None].float()) / 255).square().flatten(2).mean(2).sqrt()
    assert whole.index.tolist() == brute.argmin(1).tolist()
    assert np.allclose(whole.distance, brute.min(1).values.numpy(), atol=1e-6)


def test_typical_distance_leaves_out_the_image_itself():
    base = random_images(10, seed=3)
    training = torch.cat([base, base])  # every image has a twin: nearest *other* image is at 0
    summary = typical_nn_distance(training, chunk=3)
    assert summary.median == 0.0 and summary.sampled == 20
    distinct = typical_nn_distance(base)
    assert 0.3 < distinct.p10 <= distinct.median <= distinct.p90 < 0.5  # uniform noise: ~0.41


def test_mismatched_images_are_refused():
    with pytest.raises(ValueError, match="differ"):
        nearest_training_images(random_images(1, 0, size=8), random_images(3, 0, size=16))
    with pytest.raises(ValueError, match="uint8"):
        nearest_training_images(torch.zeros(1, 3, 8, 8), random_images(3, 0))


def test_pca_view_shapes_and_leading_direction():
    # images varying along one pixel pattern, plus a little noise: PC 1 is that pattern
    rng = np.random.default_rng(0)
    pattern = rng.random((1, 8, 8))
    amount = rng.random(200)
    pixels = 40 + 150 * amount[:, None, None, None] * pattern[None] + rng.normal(0, 2, (200, 1, 8, 8))
    training = torch.from_numpy(np.clip(pixels, 0, 255).astype(np.uint8))
    pca = fit_pixel_pca(training, max_images=150)
    xy = pca(training, chunk=16)
    assert xy.shape == (200, 2) and pca.components.shape == (2, 64)
    assert pca.explained_variance_ratio[0] > 0.9
    assert abs(np.corrcoef(xy[:, 0], amount)[0, 1]) > 0.99
    reference = NoveltyReference.build(training)
    assert reference.training_xy.shape == (200, 2)
    assert reference.project(training[:3]).shape == (3, 2)
    assert reference.nearest(training[5:6]).distance[0] == 0.0

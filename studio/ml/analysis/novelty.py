"""Is a generated image novel? Its nearest training image, and a PCA map of both sets.

**Distance** is the RMS pixel difference with pixels in [0, 1] units: sqrt(mean((g - t)^2)) over
every channel and pixel, so 0 is an exact copy and 1 is black against white everywhere. Both sides
are uint8 images (what is shown and saved), so a generated image that copies a training image
exactly has distance 0.

A distance means little alone: ``typical_nn_distance`` gives the distance from training images to
their own nearest other training image (a video's consecutive frames are close, a set of distinct
photos far apart); a generated image well below that is about as close to the data as the data is
to itself.

Memory: training images stay uint8. Every search walks the training set in chunks of ``chunk``
images, converting only one chunk to float at a time (512 64x64 RGB images: 25 MB), so 10k images
cost 120 MB as uint8 and no float copy of the set is ever made. The PCA is fitted on at most
``PCA_FIT_IMAGES`` of them (randomised SVD: 2000 images of 64x64 RGB are 100 MB as floats) and
projects the rest chunk by chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

CHUNK = 512
PCA_FIT_IMAGES = 2000  # enough for the two leading components; fitting costs O(this x pixels)
NN_SAMPLE = 256  # training images whose nearest other training image gives the typical distance


@dataclass(frozen=True)
class Neighbours:
    """For each query image: the index of its nearest training image and the RMS distance to it."""

    index: np.ndarray  # (M,) int64
    distance: np.ndarray  # (M,) float64, RMS with pixels in [0, 1]


@dataclass(frozen=True)
class DistanceSummary:
    """Training images' distances to their nearest other training image."""

    median: float
    p10: float
    p90: float
    sampled: int  # how many training images were measured

    def to_dict(self) -> dict:
        return {"median": self.median, "p10": self.p10, "p90": self.p90, "sampled": self.sampled}


def nearest_training_images(
    generated: torch.Tensor, training: torch.Tensor, *, chunk: int = CHUNK, exclude: torch.Tensor | None = None
) -> Neighbours:
    """The nearest of ``training`` (N, C, H, W) uint8 to each of ``generated`` (M, C, H, W) uint8.

    The search ranks candidates by ||g||^2 - 2 g.t + ||t||^2 in float32, one chunk of training
    images at a time; the winner's distance is then computed directly from the pixel difference,
    so an exact copy reads 0 and not float32 rounding noise. ``exclude`` (M,) gives one training
    index per query that may not be its answer (the query itself, for training-to-training).
    """
    _check_images(generated, training)
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1, not {chunk}")
    queries = _flat_unit(generated)
    query_sq = queries.square().sum(dim=1)
    best_score = torch.full((len(queries),), torch.inf)
    best_index = torch.zeros(len(queries), dtype=torch.long)
    rows = torch.arange(len(queries))
    for start in range(0, len(training), chunk):
        block = _flat_unit(training[start : start + chunk])
        scores = query_sq[:, None] - 2 * queries @ block.T + block.square().sum(dim=1)[None, :]
        if exclude is not None:
            local = exclude.long() - start
            inside = (local >= 0) & (local < len(block))
            scores[rows[inside], local[inside]] = torch.inf
        score, index = scores.min(dim=1)
        better = score < best_score
        best_score = torch.where(better, score, best_score)
        best_index = torch.where(better, index + start, best_index)
    nearest = _flat_unit(training[best_index])
    distance = (queries.double() - nearest.double()).square().mean(dim=1).sqrt()
    return Neighbours(index=best_index.numpy(), distance=distance.numpy())


def typical_nn_distance(
    training: torch.Tensor, *, sample: int = NN_SAMPLE, seed: int = 0, chunk: int = CHUNK
) -> DistanceSummary:
    """Median (and 10th/90th percentile) distance from up to ``sample`` training images, drawn
    with ``seed``, to their nearest *other* training image. NaN for a set of one image."""
    if len(training) < 2:
        return DistanceSummary(float("nan"), float("nan"), float("nan"), 0)
    count = min(sample, len(training))
    picked = torch.randperm(len(training), generator=torch.Generator().manual_seed(seed))[:count]
    found = nearest_training_images(training[picked], training, chunk=chunk, exclude=picked)
    p10, median, p90 = np.percentile(found.distance, [10, 50, 90])
    return DistanceSummary(float(median), float(p10), float(p90), count)


@dataclass(frozen=True)
class PixelPCA:
    """A 2-D PCA of images in pixel space ([0, 1] units); call it on uint8 images (M, C, H, W)."""

    mean: np.ndarray  # (P,) float32
    components: np.ndarray  # (2, P) float32, orthonormal rows
    explained_variance_ratio: np.ndarray  # (2,)

    def __call__(self, images: torch.Tensor, chunk: int = CHUNK) -> np.ndarray:
        parts = [(_flat_unit(images[i : i + chunk]).numpy() - self.mean) @ self.components.T
                 for i in range(0, len(images), chunk)]
        return np.concatenate(parts) if parts else np.zeros((0, len(self.components)), np.float32)


def fit_pixel_pca(training: torch.Tensor, *, max_images: int = PCA_FIT_IMAGES, seed: int = 0) -> PixelPCA:
    """PCA (2 components) of ``training`` uint8 images, fitted on up to ``max_images`` of them
    drawn with ``seed``, by randomised SVD (``torch.pca_lowrank``, seeded: the same map every
    time). Each component's sign is fixed (largest loading positive) so refitting similar data
    does not mirror the map."""
    if training.ndim != 4 or training.dtype != torch.uint8:
        raise ValueError(f"training images must be uint8 (N, C, H, W), got {training.dtype} {tuple(training.shape)}")
    generator = torch.Generator().manual_seed(seed)
    picked = torch.randperm(len(training), generator=generator)[:max_images]
    points = _flat_unit(training[picked.sort().values])
    mean = points.mean(dim=0)
    centred = points - mean
    rank = min(2, *centred.shape)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # pca_lowrank draws its random projection from the global RNG
        _, singular, vectors = torch.pca_lowrank(centred, q=min(rank + 4, *centred.shape), center=False, niter=4)
    axes = torch.zeros(2, points.shape[1])
    axes[:rank] = vectors[:, :rank].T
    largest = axes[torch.arange(2), axes.abs().argmax(dim=1)]
    axes *= torch.where(largest < 0, -1.0, 1.0)[:, None]
    total = centred.square().sum()
    ratio = torch.zeros(2, dtype=torch.float64)
    if total > 0:
        ratio[:rank] = (singular[:rank].double().square() / total.double())
    return PixelPCA(mean=mean.numpy(), components=axes.numpy(), explained_variance_ratio=ratio.numpy())


@dataclass(frozen=True)
class NoveltyReference:
    """Everything needed to judge generated images against one training set, built once (in a
    background job: seconds for 10k images) and then only read, from any thread."""

    images: torch.Tensor  # (N, C, H, W) uint8
    pca: PixelPCA
    training_xy: np.ndarray  # (N, 2): every training image on the PCA map
    typical: DistanceSummary

    @classmethod
    def build(cls, training: torch.Tensor, *, seed: int = 0) -> NoveltyReference:
        images = training.detach().cpu().contiguous()
        pca = fit_pixel_pca(images, seed=seed)
        return cls(images=images, pca=pca, training_xy=pca(images), typical=typical_nn_distance(images, seed=seed))

    def nearest(self, generated: torch.Tensor) -> Neighbours:
        return nearest_training_images(generated.cpu(), self.images)

    def project(self, generated: torch.Tensor) -> np.ndarray:
        return self.pca(generated.cpu())


def _flat_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float32 (N, C*H*W) in [0, 1]."""
    return images.reshape(len(images), -1).float().div_(255.0)


def _check_images(generated: torch.Tensor, training: torch.Tensor) -> None:
    for name, images in (("generated", generated), ("training", training)):
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(f"{name} images must be uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
    if generated.shape[1:] != training.shape[1:]:
        raise ValueError(f"generated images {tuple(generated.shape[1:])} and training images "
                         f"{tuple(training.shape[1:])} differ in channels or size")
    if len(training) == 0:
        raise ValueError("there are no training images to compare with")

"""What the walker computes off the UI thread, Qt-free.

``render_*`` and ``nearest_of`` build the functions the panel hands to ``studio.models.submit``
(they run on the inference thread as ``fn(module, device)``); ``encode_*`` and ``build_reference``
are ``studio.jobs`` jobs (``fn(context)``). Everything they return is plain data (numpy, CPU
tensors) that the UI thread only reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from studio.ml.analysis.inversion import find_latents, has_encoder
from studio.ml.analysis.latent_paths import path_point, path_positions, sample_path
from studio.ml.analysis.novelty import Neighbours, NoveltyReference
from studio.ml.data.base import to_signed_float, to_uint8
from studio.ml.data.image_file import ImageFileError, load_image_file


@dataclass(frozen=True, eq=False)  # compared by identity: z is an array
class Keyframe:
    """One stop of the walk: its latent and where it came from."""

    label: str  # "seed 3", "walk #40", "cat.png"
    z: np.ndarray  # (nz,) float32
    detail: str = ""  # how z was found from an image, e.g. "encoder, RMS 0.052"
    seed: int | None = None  # a seed keyframe's seed: z is re-drawn from it for another model


@dataclass(frozen=True)
class PointResult:
    s: float
    image: torch.Tensor  # (C, H, W) uint8
    xy: np.ndarray | None  # on the PCA map, when the training images are indexed


@dataclass(frozen=True)
class PathResult:
    frames: torch.Tensor  # (n, C, H, W) uint8
    positions: np.ndarray  # (n,) s of each frame
    keyframe_images: torch.Tensor  # (K, C, H, W) uint8: what the model draws at each keyframe
    neighbours: Neighbours | None = None
    xy: np.ndarray | None = None  # (n, 2)
    keyframe_xy: np.ndarray | None = None  # (K, 2)


@dataclass
class EncodeResult:
    """An encode job's outcome: the keyframes made, and the files that could not be used."""

    model: str
    keyframes: list[Keyframe] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cancelled: bool = False


def _draw(module: nn.Module, z: torch.Tensor, device: torch.device) -> torch.Tensor:
    return to_uint8(module(z.to(device))).cpu()


def render_point(keyframes: np.ndarray, s: float, mode: str, reference: NoveltyReference | None):
    """One image at ``s`` on the path: the slider's request, kept to a single batch-1 forward."""

    def fn(module: nn.Module, device: torch.device) -> PointResult:
        z = path_point(torch.from_numpy(keyframes), s, mode)
        image = _draw(module, z[None], device)
        xy = reference.project(image)[0] if reference is not None else None
        return PointResult(s, image[0], xy)

    return fn


def render_path(keyframes: np.ndarray, frames: int, mode: str, reference: NoveltyReference | None):
    """Every frame of the path and every keyframe in one batch, and the frames' nearest training
    images and PCA coordinates when the training set is indexed."""

    def fn(module: nn.Module, device: torch.device) -> PathResult:
        keys = torch.from_numpy(keyframes)
        z = torch.cat([sample_path(keys, frames, mode), keys])
        images = _draw(module, z, device)
        path, keyframe_images = images[:frames], images[frames:]
        positions = path_positions(frames).numpy()
        if reference is None:
            return PathResult(path, positions, keyframe_images)
        return PathResult(path, positions, keyframe_images, reference.nearest(path), reference.project(path),
                          reference.project(keyframe_images))

    return fn


def nearest_of(image: torch.Tensor, reference: NoveltyReference):
    """The nearest training image of one shown image (a pass over the training set, so the panel
    asks only once the slider rests)."""

    def fn(module: nn.Module, device: torch.device) -> Neighbours:
        return reference.nearest(image[None])

    return fn


def build_reference(datasets, setup: dict) -> Callable:
    """Job: load the model's training images (shared through ``studio.datasets``) and index them."""

    def job(context) -> NoveltyReference | None:  # None when cancelled
        context.progress(0, 2)
        dataset = datasets.get(setup)
        if context.cancelled():
            return None
        context.progress(1, 2)
        reference = NoveltyReference.build(dataset.images, seed=int(setup.get("seed", 0)))
        context.progress(2, 2)
        return reference

    return job


def encode_files(model_name: str, module: nn.Module, paths: Sequence[Path], size: int, channels: int) -> Callable:
    """Job: read image files as the model's inputs and find their latents. A file that is not a
    usable image is reported by name in ``errors`` and skipped; the others still become keyframes."""

    def job(context) -> EncodeResult:
        result = EncodeResult(model_name)
        images, labels = [], []
        for path in paths:
            try:
                images.append(load_image_file(path, size, channels))
                labels.append(Path(path).name)
            except ImageFileError as exc:
                result.errors.append(str(exc))
        if images:
            _encode(module, torch.stack(images), labels, context, result)
        return result

    return job


def encode_dataset_images(model_name: str, module: nn.Module, reference: NoveltyReference, indices: Sequence[int],
                          dataset_name: str) -> Callable:
    """Job: find the latents of training images by index."""

    def job(context) -> EncodeResult:
        result = EncodeResult(model_name)
        labels = [f"{dataset_name} #{i}" for i in indices]
        _encode(module, reference.images[list(indices)], labels, context, result)
        return result

    return job


def _encode(module: nn.Module, images: torch.Tensor, labels: list[str], context, result: EncodeResult) -> None:
    """Latents of uint8 ``images`` into ``result.keyframes`` (none if the job was cancelled)."""
    found = find_latents(module, to_signed_float(images), progress=context.progress, cancelled=context.cancelled)
    result.cancelled = found.cancelled
    if found.cancelled:
        return
    method = "encoder" if found.method == "encoder" else "optimised z"
    for label, z, error in zip(labels, found.z, found.error):
        detail = f"{method}, RMS {float(error):.3f}"
        result.keyframes.append(Keyframe(label, z.numpy().astype(np.float32), detail))


def describe_method(module: nn.Module) -> str:
    """How images become keyframes with this model: said in the job's name and the tooltips."""
    return "encoding" if has_encoder(module) else "inverting (optimising z)"

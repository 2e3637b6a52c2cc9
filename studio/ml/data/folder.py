"""The user's own images: every readable image under a folder, centre-cropped and resized."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from studio.ml.data.base import DatasetError, ImageDataset

log = logging.getLogger(__name__)

ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file must fail, not come back half grey


def image_extensions() -> set[str]:
    Image.init()
    return {ext.lower() for ext in Image.registered_extensions()}


def _load_one(path: Path, size: int) -> tuple[np.ndarray, bool]:
    """-> (uint8 HxWx3 image, whether the source was grayscale). Raises on an unreadable file."""
    with Image.open(path) as image:
        image.draft("RGB", (size * 2, size * 2))  # JPEG: decode at reduced size, much faster
        image.load()
        image = ImageOps.exif_transpose(image)
        gray = image.mode in ("1", "L", "LA", "I", "I;16", "F")
        rgb = image.convert("RGB")
    side = min(rgb.size)
    rgb = ImageOps.fit(rgb, (side, side), Image.Resampling.NEAREST)  # centre crop
    rgb = rgb.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.asarray(rgb), gray


def load_image_folder(
    path: Path | str,
    size: int,
    channels: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImageDataset:
    """Every image under ``path`` (recursive, sorted). Unreadable files are skipped and listed in
    ``dataset.skipped``; ``channels`` None means 1 if every image is grayscale, else 3."""
    folder = Path(path).expanduser() if path is not None else None
    if folder is None or not folder.is_dir():
        raise DatasetError(f"image folder {folder} does not exist or is not a folder")
    extensions = image_extensions()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in extensions)
    images, grays, skipped = [], [], []
    for index, file in enumerate(files):
        try:
            image, gray = _load_one(file, size)
        except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
            reason = str(exc) or type(exc).__name__
            skipped.append((file, reason))
            log.warning("skipped %s: %s", file, reason)
        else:
            images.append(image)
            grays.append(gray)
        if progress is not None:
            progress(index + 1, len(files))
    if not images:
        detail = "; ".join(f"{p.name}: {r}" for p, r in skipped[:3])
        more = f" ({len(skipped)} unreadable: {detail})" if skipped else ""
        raise DatasetError(f"no usable images in {folder}{more}")
    channels = channels or (1 if all(grays) else 3)
    stack = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)
    if channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        stack = (stack.float() * weights).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)
    return ImageDataset(
        name=folder.name,
        images=stack.contiguous(),
        skipped=skipped,
        description=f"{len(images)} images from {folder}" + (f", {len(skipped)} skipped" if skipped else ""),
    )

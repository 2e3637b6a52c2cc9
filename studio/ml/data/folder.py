"""The user's own images: every readable image under a folder, centre-cropped and resized.

A frame folder (a video exported as images) loads the same way, in natural order of the file
names (frame2 before frame10), as an ordered sequence.

A folder of real files always has a few bad ones (cut-off downloads, a text file saved as .png,
empty files, formats PIL cannot decode): each is skipped, named in a logged warning and listed in
``dataset.skipped``; it never stops the load.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from studio.ml.data.base import DatasetError, ImageDataset, nothing_usable, short_reason

log = logging.getLogger(__name__)

GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
GRAY_TOLERANCE = 2  # an RGB image whose channels differ by at most this much counts as grayscale
TRANSPARENT_BACKGROUND = (255, 255, 255)  # transparent pixels are composited onto white
DRAFT_FACTOR = 2  # JPEGs decode at >= 2x the target size (DCT scaling): fast, and LANCZOS still averages
REDUCING_GAP = 3.0  # resize() first reduce()s huge images by an integer factor: fast, still sharp
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, as PIL's convert("L")
CHUNK = 1024


def image_extensions() -> frozenset[str]:
    """Every file extension PIL has a decoder for (lower case, with the dot)."""
    Image.init()
    return frozenset(ext.lower() for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN)


def find_image_files(folder: Path, natural: bool = False) -> list[Path]:
    """Image files under ``folder``, recursively, sorted by their path relative to ``folder``
    (``natural``: in natural order, see natural_key). Hidden files and folders (".thumbnails",
    macOS "._name.jpg" resource forks) are not images and are left out."""
    extensions = image_extensions()
    found = []
    for root, dirs, files in os.walk(folder):  # does not follow symlinked folders: no loops
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(root, f) for f in files if not f.startswith(".") and Path(f).suffix.lower() in extensions]
    key = natural_key if natural else str
    return sorted(found, key=lambda p: key(p.relative_to(folder).as_posix()))


def natural_key(text: str) -> tuple[list[str | int], str]:
    """Sort key that compares runs of digits by their value, so "frame2" comes before "frame10"
    (exported video frames are often numbered without leading zeros). Ties such as "f01" and
    "f1" fall back to the plain text, so the order is still total and stable."""
    parts = re.split(r"(\d+)", text)  # text, digits, text, ...: the same type at the same index
    return [int(part) if index % 2 else part for index, part in enumerate(parts)], text


def load_image_folder(
    path: Path | str,
    size: int,
    channels: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImageDataset:
    """Every image under ``path`` as ``size`` x ``size`` (centre crop, then LANCZOS).

    ``channels`` None: 1 if every image is grayscale, else 3. ``progress(done, total)`` is called
    after each file. Raises DatasetError if the folder does not exist or has no usable image.
    """
    return _load_folder(path, size, channels, progress, frames=False)


def load_frame_folder(
    path: Path | str,
    size: int,
    channels: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImageDataset:
    """The frames of a video exported as images: every image under ``path`` as load_image_folder
    loads it, ordered by the natural sort of the paths (frame2 before frame10), as an "open"
    sequence (``dataset.batch_pairs`` gives each frame with the next). A skipped file is reported
    the same way; its neighbours then count as consecutive.
    """
    return _load_folder(path, size, channels, progress, frames=True)


def _load_folder(
    path: Path | str, size: int, channels: int | None, progress: Callable[[int, int], None] | None, frames: bool
) -> ImageDataset:
    """Both loaders; ``frames`` sorts the files naturally and marks the images an open sequence."""
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1, 3 or None, not {channels}")
    folder = Path(path).expanduser() if path is not None else None
    if folder is None or not folder.is_dir():
        what = "is not a folder" if folder is not None and folder.exists() else "does not exist"
        raise DatasetError(f"image folder {folder} {what}")
    files = find_image_files(folder, natural=frames)
    pixels = np.empty((len(files), size, size, 3), dtype=np.uint8)
    count, all_gray, skipped = 0, True, []
    with _truncated_images_fail():
        for index, file in enumerate(files):
            try:
                pixels[count], gray = load_image(file, size)
            except Exception as exc:  # noqa: BLE001  any decoder failure means: skip this one file
                reason = _reason(file, exc)
                skipped.append((file, reason))
                log.warning("skipped %s: %s", file, reason)
            else:
                count += 1
                all_gray &= gray
            if progress is not None:
                progress(index + 1, len(files))
    if count == 0:
        raise DatasetError(nothing_usable(folder, skipped, "image files", "images"))
    channels = channels or (1 if all_gray else 3)
    images = _to_channels(pixels[:count], channels)
    return ImageDataset(
        name=folder.name,
        images=images,
        skipped=skipped,
        description=f"{count} {'frames' if frames else 'images'} from {folder}"
        + (f" ({len(skipped)} unreadable, skipped)" if skipped else ""),
        sequence="open" if frames else None,
    )


def load_image(path: Path, size: int) -> tuple[np.ndarray, bool]:
    """One file -> (uint8 (size, size, 3), whether it is grayscale). Raises if it cannot be read."""
    if path.stat().st_size == 0:
        raise ValueError("empty file (0 bytes)")
    with Image.open(path) as image:
        image.draft("RGB", (size * DRAFT_FACTOR, size * DRAFT_FACTOR))  # JPEG only; a no-op otherwise
        image.load()  # decode now, inside the caller's try: truncated data fails here
        gray = image.mode in GRAY_MODES
        rgb = _to_rgb(ImageOps.exif_transpose(image))
    width, height = rgb.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = rgb.resize(
        (size, size), Image.Resampling.LANCZOS, box=(left, top, left + side, top + side), reducing_gap=REDUCING_GAP
    )
    array = np.asarray(square)
    if not gray:
        spread = array.max(axis=2).astype(np.int16) - array.min(axis=2)
        gray = int(spread.max()) <= GRAY_TOLERANCE
    return array, gray


def _to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB from any mode: 16-bit and float grays are rescaled (PIL would clip them to white),
    transparency is composited onto TRANSPARENT_BACKGROUND."""
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        values = np.asarray(image, dtype=np.float32)
        peak = float(values.max()) if values.size else 0.0
        scale = 255.0 if image.mode == "F" and peak <= 1.0 else 255.0 / 65535.0 if peak > 255 else 1.0
        return Image.fromarray(np.clip(np.rint(values * scale), 0, 255).astype(np.uint8)).convert("RGB")
    if "A" in image.mode or "a" in image.mode or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, TRANSPARENT_BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _to_channels(pixels: np.ndarray, channels: int) -> torch.Tensor:
    """(N, H, W, 3) uint8 -> (N, channels, H, W) uint8; 1 channel is the luminance."""
    if channels == 3:
        return torch.from_numpy(np.ascontiguousarray(pixels.transpose(0, 3, 1, 2)))
    gray = np.empty(pixels.shape[:3], dtype=np.uint8)
    for start in range(0, len(pixels), CHUNK):  # in chunks: float copies of a big set would not fit
        gray[start : start + CHUNK] = np.rint(pixels[start : start + CHUNK] @ LUMA)
    return torch.from_numpy(gray[:, None])


@contextlib.contextmanager
def _truncated_images_fail() -> Iterator[None]:
    """PIL can be told to pad cut-off files with gray instead of failing; whoever set that, a
    truncated file must be reported here, not trained on."""
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _reason(path: Path, exc: Exception) -> str:
    """A short, path-free reason for a skipped file."""
    if isinstance(exc, UnidentifiedImageError):
        reason = "not an image PIL can read (unknown format or corrupt header)"
    else:
        reason = str(exc).replace(str(path), path.name) or type(exc).__name__
    return short_reason(reason)

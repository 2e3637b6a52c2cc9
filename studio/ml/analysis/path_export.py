"""A walk's frames as files: a PNG strip, an animated GIF, and a PCA map drawn with PIL.

Frames are uint8 (N, C, H, W), C = 1 or 3, as ``studio.ml.data.base.to_uint8`` makes them.
``scale`` enlarges by a whole factor with nearest-neighbour sampling, so small samples keep crisp
pixels. PIL only (no matplotlib): the CLI runs without a display.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from studio.ml.grid import make_grid, save_png

GIF_FPS = 12
PCA_SIZE = 560  # pixels, square
FONT_SIZE = 14
TRAINING_COLOR = (170, 170, 170)
PATH_START, PATH_END = (40, 90, 220), (235, 120, 20)  # path points fade from blue to orange (the panel too)


def strip_image(frames: torch.Tensor | np.ndarray, scale: int = 1, padding: int = 2) -> np.ndarray:
    """The frames side by side, HWC uint8, with ``padding`` pixel gutters (before scaling)."""
    return _enlarge(make_grid(frames, nrow=len(frames), padding=padding), scale)


def save_strip(frames: torch.Tensor | np.ndarray, path: Path | str, scale: int = 1) -> Path:
    return save_png(strip_image(frames, scale), path)


def save_gif(frames: torch.Tensor | np.ndarray, path: Path | str, fps: float = GIF_FPS, scale: int = 1) -> Path:
    """An animated GIF that loops forever. (GIF stores consecutive identical frames as one longer
    frame, so a path that stands still has fewer frames in the file.)"""
    if len(frames) == 0:
        raise ValueError("no frames to save")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pictures = [_pil(_enlarge(_hwc(frame), scale)) for frame in _as_numpy(frames)]
    duration = max(20, round(1000 / fps))  # ms; most viewers treat shorter delays as 100 ms
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=duration, loop=0, disposal=1)
    return path


def pca_picture(
    training_xy: np.ndarray,
    path_xy: np.ndarray,
    *,
    keyframe_xy: np.ndarray | None = None,
    explained: np.ndarray | None = None,
    title: str = "",
    size: int = PCA_SIZE,
) -> Image.Image:
    """A scatter of training images (gray), the path's frames (blue to orange, joined by a line)
    and the keyframes (numbered squares), all in the same PCA coordinates. ``explained`` (the two
    components' shares of the variance) labels the axes."""
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=FONT_SIZE)
    margin = 40
    inner = size - 2 * margin
    keys = keyframe_xy if keyframe_xy is not None else np.zeros((0, 2))
    points = np.concatenate([training_xy, path_xy, keys])
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.where(high - low > 0, high - low, 1.0)

    def to_canvas(xy: np.ndarray) -> np.ndarray:
        unit = (xy - low) / span
        return np.stack([margin + unit[:, 0] * inner, size - margin - unit[:, 1] * inner], 1)  # y grows upwards

    draw.rectangle([margin - 6, margin - 6, size - margin + 6, size - margin + 6], outline=(120, 120, 120))
    for x, y in to_canvas(training_xy):
        draw.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=TRAINING_COLOR)
    path = to_canvas(path_xy)
    if len(path) > 1:
        draw.line([tuple(p) for p in path], fill=(60, 60, 60), width=1)
    for index, (x, y) in enumerate(path):
        color = _blend(PATH_START, PATH_END, index / max(len(path) - 1, 1))
        draw.ellipse([x - 3.5, y - 3.5, x + 3.5, y + 3.5], fill=color, outline=(0, 0, 0))
    for number, (x, y) in enumerate(to_canvas(keys), start=1):
        draw.rectangle([x - 7, y - 7, x + 7, y + 7], outline=(0, 0, 0), width=2)
        draw.text((x + 9, y - 20), str(number), fill=(0, 0, 0), font=font)
    shares = [f" ({share:.0%})" for share in explained] if explained is not None else ["", ""]
    draw.text((margin - 6, 10), title or "PCA of training images (gray) and the path", fill=(0, 0, 0), font=font)
    draw.text((margin - 6, size - margin + 12), f"PC 1{shares[0]} to the right, PC 2{shares[1]} upwards",
              fill=(80, 80, 80), font=font)
    return image


def save_pca_picture(training_xy: np.ndarray, path_xy: np.ndarray, path: Path | str, **options) -> Path:
    """``pca_picture`` (same keyword options) saved as a PNG."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pca_picture(training_xy, path_xy, **options).save(path)
    return path


def _blend(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))


def _as_numpy(frames: torch.Tensor | np.ndarray) -> np.ndarray:
    array = frames.detach().cpu().numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
    if array.ndim != 4 or array.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 (N, C, H, W), got {array.dtype} {array.shape}")
    return array


def _hwc(frame: np.ndarray) -> np.ndarray:
    return frame.transpose(1, 2, 0)


def _enlarge(image: np.ndarray, scale: int) -> np.ndarray:
    if scale < 1:
        raise ValueError(f"scale must be a whole number >= 1, not {scale}")
    return image if scale == 1 else image.repeat(scale, axis=0).repeat(scale, axis=1)


def _pil(image: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(image[:, :, 0] if image.shape[2] == 1 else image))

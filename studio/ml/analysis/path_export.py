"""A walk's frames as files: a PNG strip, an animated GIF, and a PCA map drawn with PIL.

Frames are uint8 (N, C, H, W), C = 1 or 3, as ``studio.ml.data.base.to_uint8`` makes them.
``scale`` enlarges by a whole factor with nearest-neighbour sampling, so small samples keep crisp
pixels. PIL only (no matplotlib): the CLI runs without a display.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from studio.ml.analysis.figures import Axes, font
from studio.ml.grid import make_grid, save_png

GIF_FPS = 12
PCA_SIZE = 560  # pixels, square
TRAINING_COLOR = "#aaaaaa"
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
    keys = keyframe_xy if keyframe_xy is not None else np.zeros((0, 2))
    points = np.concatenate([training_xy, path_xy, keys])
    shares = [f" ({share:.0%})" for share in explained] if explained is not None else ["", ""]
    axes = Axes(points[:, 0], points[:, 1], title or "PCA of training images (gray) and the path",
                f"PC 1{shares[0]}", f"PC 2{shares[1]}", size=(size, size))
    axes.dots(training_xy[:, 0], training_xy[:, 1], TRAINING_COLOR)
    axes.lines(path_xy[:, None], "#3c3c3c", alpha=255)
    for index, point in enumerate(path_xy):
        colour = _blend(PATH_START, PATH_END, index / max(len(path_xy) - 1, 1))
        axes.markers(point[None], fill=colour, outline="#000000", radius=3)
    for number, (x, y) in enumerate(zip(*axes.to_pixels(keys[:, 0], keys[:, 1])), start=1):
        axes.draw.rectangle([x - 7, y - 7, x + 7, y + 7], outline=(0, 0, 0), width=2)
        axes.draw.text((x + 9, y - 20), str(number), fill=(0, 0, 0), font=font())
    return axes.image


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

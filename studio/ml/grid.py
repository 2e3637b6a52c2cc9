"""Sample grids: a batch of images tiled into one picture, and saved as PNG."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

PAD_VALUE = 32  # dark gray gutters: visible between light and dark tiles alike


def make_grid(images: torch.Tensor | np.ndarray, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """uint8 (N, C, H, W) -> uint8 (rows*(H+p)+p, cols*(W+p)+p, C), ``nrow`` images per row
    (default: as many as make the grid about square: ceil(sqrt(N)) for square images, fewer for
    wide ones such as 64 x 256 spectrograms), ``padding`` pixels around every tile."""
    tiles = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if tiles.ndim != 4 or tiles.dtype != np.uint8:
        raise ValueError(f"make_grid needs uint8 (N, C, H, W) images, got {tiles.dtype} {tiles.shape}")
    n, c, h, w = tiles.shape
    cols = max(1, min(nrow or math.ceil(math.sqrt(n * h / w)), max(n, 1)))
    rows = max(1, math.ceil(n / cols))
    # pad the batch to rows*cols tiles and each tile on its bottom/right, then lay the tiles out
    padded = np.full((rows * cols, h + padding, w + padding, c), PAD_VALUE, dtype=np.uint8)
    padded[:n, :h, :w] = tiles.transpose(0, 2, 3, 1)
    body = padded.reshape(rows, cols, h + padding, w + padding, c).transpose(0, 2, 1, 3, 4)
    grid = np.full((rows * (h + padding) + padding, cols * (w + padding) + padding, c), PAD_VALUE, np.uint8)
    grid[padding:, padding:] = body.reshape(rows * (h + padding), cols * (w + padding), c)
    return grid


def save_png(array: np.ndarray, path: Path | str) -> Path:
    """Save an HWC (C = 1 or 3) or HW uint8 array as PNG, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = array[:, :, 0] if array.ndim == 3 and array.shape[2] == 1 else array
    Image.fromarray(np.ascontiguousarray(pixels)).save(path)
    return path

"""A grid of images with a title over each column and at the left of each row, as a PNG: the
headless commands' version of the paper's figures (switchboard grids, ablation outputs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from studio.ml.analysis.figures import font
from studio.ml.grid import make_grid

HEADER_PX, ROW_LABEL_PX = 22, 130
TEXT = (30, 30, 30)


def image_table(images: torch.Tensor, columns: list[str], rows: list[str] | None = None, scale: int = 2) -> Image.Image:
    """uint8 (R * len(columns), C, H, W) images, row by row -> one labelled picture."""
    if len(images) % len(columns):
        raise ValueError(f"{len(images)} images do not fill rows of {len(columns)} columns")
    grid = make_grid(images, nrow=len(columns))
    grid = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    if grid.shape[2] == 1:
        grid = np.repeat(grid, 3, axis=2)
    left = ROW_LABEL_PX if rows else 0
    picture = Image.new("RGB", (left + grid.shape[1], HEADER_PX + grid.shape[0]), "white")
    picture.paste(Image.fromarray(grid), (left, HEADER_PX))
    draw = ImageDraw.Draw(picture)
    pitch = grid.shape[1] / len(columns)
    for i, title in enumerate(columns):
        draw.text((left + (i + 0.5) * pitch, HEADER_PX / 2), title, fill=TEXT, font=font(12), anchor="mm")
    row_pitch = grid.shape[0] / max(1, len(images) // len(columns))
    for i, title in enumerate(rows or []):
        draw.text((4, HEADER_PX + (i + 0.5) * row_pitch), title, fill=TEXT, font=font(12), anchor="lm")
    return picture


def save_image_table(images: torch.Tensor, columns: list[str], path: Path | str, rows: list[str] | None = None,
                     scale: int = 2) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image_table(images, columns, rows, scale).save(path)
    return path

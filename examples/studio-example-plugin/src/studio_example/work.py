"""What the sketchbook computes away from the UI thread, and the runs it asks for."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from studio.catalog import RunSetup
from studio.ml.data.base import to_uint8
from studio.ml.data.image_file import ImageFileError, load_image_file
from studio.ml.grid import make_grid

THUMBNAIL_SIZE = 48
SKETCH_SIZE = 32
# a small, quick DCGAN: a sketch trains in about a minute on a laptop CPU
SKETCH_CONFIG = {"nz": 32, "ngf": 16, "ndf": 16, "batch_size": 16}


def draw_samples(count: int, seed: int):
    """For ``studio.models.submit``: ``count`` samples of a generator from ``seed``, as one uint8
    HWC grid. Runs on the inference thread."""

    def draw(generator: torch.nn.Module, device: torch.device) -> np.ndarray:
        z = torch.randn(count, generator.nz, generator=torch.Generator().manual_seed(seed))
        return make_grid(to_uint8(generator(z.to(device)).float().cpu()))

    return draw


@dataclass
class ReadImages:
    thumbnails: list[tuple[Path, np.ndarray]] = field(default_factory=list)  # file, uint8 CHW
    errors: list[str] = field(default_factory=list)  # one per unusable file, naming it


def read_images(paths: list[Path]):
    """For ``studio.jobs.submit``: thumbnails of ``paths``, read as the folder dataset reads its
    files; a file that is not a usable image becomes an error message naming it."""

    def read(context) -> ReadImages:
        result = ReadImages()
        for done, path in enumerate(paths, 1):
            if context.cancelled():
                break
            try:
                result.thumbnails.append((path, load_image_file(path, THUMBNAIL_SIZE, 3).numpy()))
            except ImageFileError as exc:
                result.errors.append(str(exc))
            context.progress(done, len(paths))
        return result

    return read


def sketch_setup(run_dir: Path, images: list[Path]) -> RunSetup:
    """A DCGAN sketch on the built-in shapes, or on ``images`` (copied into the run folder, so the
    run's checkpoint can find its training data again)."""
    if not images:
        return RunSetup("dcgan", "shapes", image_size=SKETCH_SIZE, channels=3, config=SKETCH_CONFIG)
    folder = run_dir / "images"
    folder.mkdir(parents=True)
    for index, image in enumerate(images):  # numbered: two dropped files may share a name
        shutil.copyfile(image, folder / f"{index:03d}-{image.name}")
    return RunSetup("dcgan", "folder", str(folder), image_size=SKETCH_SIZE, config=SKETCH_CONFIG)

"""The in-memory image dataset every trainer consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

SEQUENCES = (None, "open", "closed")
MAX_REASON_CHARS = 160  # a skipped file's reason, as listed: one line, not a traceback


class DatasetError(ValueError):
    """A dataset could not be built; the message names the folder or file."""


def short_reason(reason: str) -> str:
    """A skipped file's reason cut to one readable line."""
    return reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 1] + "…"


def nothing_usable(folder: Path, skipped: list[tuple[Path, str]], found: str, usable: str) -> str:
    """The DatasetError message for a folder that gave nothing: ``found`` names what was looked for
    ("image files"), ``usable`` what would have been kept ("images")."""
    if not skipped:
        return f"no {found} in {folder} (searched its subfolders too)"
    first = "; ".join(f"{path.name}: {reason}" for path, reason in skipped[:3])
    return f"no usable {usable} in {folder}: all {len(skipped)} {found} were skipped ({first})"


@dataclass(frozen=True)
class Shard:
    """One process's share of every batch when several train together (torchrun): all of them
    draw the same global batch from the same seeded generator, and process ``rank`` of ``count``
    keeps rows rank, rank + count, rank + 2 count, ... (as torch's DistributedSampler deals out
    indices). So the processes see disjoint parts of one batch, a run's data does not depend on how
    many processes train it, and a checkpoint's generator state resumes on any number of them."""

    rank: int = 0
    count: int = 1

    def take(self, rows: torch.Tensor) -> torch.Tensor:
        return rows if self.count == 1 else rows[self.rank::self.count]


WHOLE = Shard()  # a single process keeps every row


def random_rows(count: int, batch_size: int, generator: torch.Generator, shard: Shard = WHOLE) -> torch.Tensor:
    """This process's share of ``batch_size`` indices drawn uniformly from ``range(count)``."""
    return shard.take(torch.randint(count, (batch_size,), generator=generator))


@dataclass
class ImageDataset:
    """Images held in memory as uint8 ``(N, C, H, W)``; batches come out as floats in [-1, 1].

    Small research sets fit in memory comfortably (10k RGB 64x64 images are 120 MB), and sampling
    from a tensor is far cheaper per step than decoding files through a DataLoader.

    ``factors`` holds per-image ground truth when the set has it (the synthetic shapes do).
    ``skipped`` lists ``(path, reason)`` for files that could not be used.
    ``sequence`` says the images are consecutive frames of a video: None (unordered images),
    "open" (frame N-1 is the last) or "closed" (a loop: frame N-1 is followed by frame 0).
    """

    name: str
    images: torch.Tensor
    factors: dict[str, np.ndarray] = field(default_factory=dict)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    description: str = ""
    sequence: str | None = None

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError("ImageDataset.images must be a uint8 tensor of shape (N, C, H, W)")
        if len(self.images) == 0:
            raise ValueError(f"dataset {self.name!r} has no images")
        if self.sequence not in SEQUENCES:
            raise ValueError(f"ImageDataset.sequence must be one of {SEQUENCES}, not {self.sequence!r}")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    @property
    def size(self) -> int:
        return self.images.shape[-1]

    def setup_values(self) -> dict:
        """What a model trained on these images takes from them into its config."""
        return {"image_size": self.size, "channels": self.channels}

    def describe(self) -> dict:
        """For a checkpoint's metadata."""
        return {"size": self.size, "channels": self.channels, "images": len(self)}

    def batch(self, batch_size: int, generator: torch.Generator, shard: Shard = WHOLE) -> torch.Tensor:
        """A random batch (with replacement across batches) as float32 in [-1, 1]: this
        process's ``shard`` of it."""
        return to_signed_float(self.images[random_rows(len(self.images), batch_size, generator, shard)])

    def batch_pairs(self, batch_size: int, generator: torch.Generator,
                    shard: Shard = WHOLE) -> tuple[torch.Tensor, torch.Tensor]:
        """Random frames and the frames that follow them, ``(frames_t, frames_t_plus_1)``, as
        float32 in [-1, 1]: the training pairs of a model that predicts the next frame.

        In an "open" sequence t is drawn from 0..N-2; in a "closed" one from 0..N-1, the last
        frame's successor being frame 0. Raises ValueError if the images are not a sequence.
        """
        if self.sequence is None:
            raise ValueError(f"dataset {self.name!r} is not a sequence of frames: it has no next-frame pairs")
        if len(self.images) < 2:
            raise ValueError(f"dataset {self.name!r} has {len(self.images)} frame: pairs need at least 2")
        count = len(self.images) if self.sequence == "closed" else len(self.images) - 1
        index = random_rows(count, batch_size, generator, shard)
        successor = (index + 1) % len(self.images)
        return to_signed_float(self.images[index]), to_signed_float(self.images[successor])


def to_signed_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255] (clamped)."""
    return images.detach().add(1.0).mul(127.5).round_().clamp_(0, 255).to(torch.uint8)

"""Image pairs (input -> target) for image-to-image models such as the side -> frontal U-Net.

``PairedImages`` holds both sides in memory as uint8 and knows which pairs are held out for
testing. The split is fixed by the data (by identity for the synthetic heads, by a test/ folder or
by name for a user's folder), never drawn at training time, so the test MSE of two models trained
on the same data is measured on the same pairs.

``load_paired_folder`` reads a user's pairs: ``input/`` and ``target/`` images matched by their
path without the suffix (input/sub/a.png pairs with target/sub/a.jpg), each read as
load_image_folder reads its files. Unpaired, ambiguous and unreadable files are skipped and listed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from studio.ml.data.base import WHOLE, DatasetError, Shard, nothing_usable, random_rows, short_reason, to_signed_float
from studio.ml.data.folder import (
    _reason,
    _to_channels,
    _truncated_images_fail,
    find_image_files,
    load_image,
    natural_key,
)

log = logging.getLogger(__name__)

SPLITS = ("train", "test")
SIDES = ("input", "target")  # the subfolders of a paired folder, and of its optional test/
TEST_FOLDER = "test"
HOLD_OUT_EVERY = 5  # without a test/ folder, pairs 0, 5, 10, ... (in natural order) are the test pairs


@dataclass
class PairedImages:
    """``inputs`` and ``targets`` are uint8 ``(N, C, H, W)`` of the same shape, pair i being
    ``(inputs[i], targets[i])``; ``test`` (bool, N) marks the held-out pairs.

    ``labels`` names each pair for people (a file name, "head 12, yaw -60°"); ``factors`` holds
    per-pair ground truth when the set has it (the synthetic heads do); ``target_mask`` (bool
    (N, H, W)), when known, marks the subject in each target (the head, not its backdrop), so that
    errors can be measured on it alone; ``skipped`` lists ``(path, reason)`` for files that could
    not be used.
    """

    name: str
    inputs: torch.Tensor
    targets: torch.Tensor
    test: np.ndarray
    labels: list[str] = field(default_factory=list)
    factors: dict[str, np.ndarray] = field(default_factory=dict)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    description: str = ""
    target_mask: torch.Tensor | None = None

    def __post_init__(self) -> None:
        for side in (self.inputs, self.targets):
            if side.dtype != torch.uint8 or side.ndim != 4:
                raise ValueError("PairedImages inputs and targets must be uint8 tensors of shape (N, C, H, W)")
        if self.inputs.shape != self.targets.shape:
            raise ValueError(f"dataset {self.name!r}: inputs {tuple(self.inputs.shape)} and targets "
                             f"{tuple(self.targets.shape)} differ in shape")
        self.test = np.asarray(self.test, dtype=bool)
        if self.test.shape != (len(self.inputs),):
            raise ValueError(f"dataset {self.name!r}: the test mask has shape {self.test.shape}, "
                             f"expected ({len(self.inputs)},)")
        n, _, h, w = self.targets.shape
        if self.target_mask is not None and (self.target_mask.dtype != torch.bool
                                             or tuple(self.target_mask.shape) != (n, h, w)):
            raise ValueError(f"dataset {self.name!r}: target_mask must be bool of shape {(n, h, w)}")
        if not self.labels:
            self.labels = [f"pair {i}" for i in range(len(self.inputs))]
        if len(self.inputs) == 0:
            raise ValueError(f"dataset {self.name!r} has no pairs")
        if self.test.all():
            raise ValueError(f"dataset {self.name!r} has no training pairs (every pair is held out)")

    def __len__(self) -> int:
        return len(self.inputs)

    @property
    def channels(self) -> int:
        return self.inputs.shape[1]

    @property
    def size(self) -> int:
        return self.inputs.shape[-1]

    def setup_values(self) -> dict:
        """What a model trained on these pairs takes from them into its config."""
        return {"image_size": self.size, "channels": self.channels}

    def describe(self) -> dict:
        """For a checkpoint's metadata."""
        return {"size": self.size, "channels": self.channels, "pairs": len(self),
                "test_pairs": int(self.test.sum())}

    def indices(self, split: str) -> torch.Tensor:
        """The pair indices of ``split`` ("train" or "test"), ascending."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
        mask = self.test if split == "test" else ~self.test
        return torch.from_numpy(np.flatnonzero(mask))

    def batch_pairs(self, batch_size: int, generator: torch.Generator,
                    shard: Shard = WHOLE) -> tuple[torch.Tensor, torch.Tensor]:
        """Random training pairs ``(inputs, targets)`` as float32 in [-1, 1] (this process's
        ``shard`` of them)."""
        train = self.indices("train")
        index = train[random_rows(len(train), batch_size, generator, shard)]
        return to_signed_float(self.inputs[index]), to_signed_float(self.targets[index])


def load_paired_folder(folder: Path | str, size: int, channels: int | None = None) -> PairedImages:
    """The image pairs under ``folder`` as ``size`` x ``size`` (centre crop, then LANCZOS).

    ``folder/input/x`` pairs with ``folder/target/x`` whatever their suffixes (subfolders too).
    If ``folder/test/input`` or ``folder/test/target`` exists, the pairs matched there are the test
    pairs and all others train; otherwise every fifth pair in natural order of the names (the
    first, sixth, ...) is held out, none if there is only one. ``channels`` None: 1 if every image
    is grayscale, else 3. Files without a partner, with two candidate partners, or that cannot be
    read are skipped (a pair with an unreadable side is skipped whole) and listed in ``skipped``.
    Raises DatasetError naming the folder if it lacks input/ or target/ or no usable pair remains.
    """
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1, 3 or None, not {channels}")
    root = Path(folder).expanduser() if folder is not None else None
    if root is None or not root.is_dir():
        what = "is not a folder" if root is not None and root.exists() else "does not exist"
        raise DatasetError(f"paired folder {root} {what}")
    missing = [f"{side}/" for side in SIDES if not (root / side).is_dir()]
    if missing:
        raise DatasetError(f"paired folder {root} has no {' or '.join(missing)} subfolder: it needs input/ "
                           "and target/, where input/a.png pairs with target/a.jpg")
    skipped: list[tuple[Path, str]] = []
    explicit_test = any((root / TEST_FOLDER / side).is_dir() for side in SIDES)
    candidates = [(key, paths, False) for key, paths in _match(root, "", skipped)]
    if explicit_test:
        candidates += [(f"{TEST_FOLDER}/{key}", paths, True) for key, paths in _match(root, TEST_FOLDER, skipped)]
    pixels = np.empty((2, len(candidates), size, size, 3), dtype=np.uint8)
    labels, test, all_gray = [], [], True
    with _truncated_images_fail():
        for key, paths, is_test in candidates:
            loaded, failed = [], []
            for path in paths:
                try:
                    loaded.append(load_image(path, size))
                except Exception as exc:  # noqa: BLE001  any decoder failure means: skip this pair
                    failed.append((path, _reason(path, exc)))
            if failed:
                partner = ", ".join(_shown(root, path) for path, _ in failed)
                failed += [(path, short_reason(f"its partner {partner} cannot be read")) for path in paths
                           if path not in {bad for bad, _ in failed}]
                for path, reason in failed:
                    log.warning("skipped %s: %s", path, reason)
                skipped += failed
                continue
            for side, (array, gray) in enumerate(loaded):
                pixels[side, len(labels)] = array
                all_gray &= gray
            labels.append(key)
            test.append(is_test)
    count = len(labels)
    if count == 0:
        raise DatasetError(nothing_usable(root, skipped, "image files", "pairs"))
    test = np.array(test, dtype=bool)
    if explicit_test and test.all():
        raise DatasetError(f"no usable training pairs in {root}: input/ and target/ gave none "
                           f"(only the {count} test pairs under {TEST_FOLDER}/)")
    if not explicit_test:
        test = (np.arange(count) % HOLD_OUT_EVERY == 0) & (count > 1)
    channels = channels or (1 if all_gray else 3)
    split = f"the {TEST_FOLDER}/ folder" if explicit_test else f"every {HOLD_OUT_EVERY}th by name"
    return PairedImages(
        name=root.name,
        inputs=_to_channels(pixels[0, :count], channels),
        targets=_to_channels(pixels[1, :count], channels),
        test=test,
        labels=labels,
        skipped=skipped,
        description=f"{count} image pairs from {root}, {int(test.sum())} held out for testing ({split})"
        + (f" ({len(skipped)} files skipped)" if skipped else ""),
    )


def _match(root: Path, under: str, skipped: list[tuple[Path, str]]) -> list[tuple[str, tuple[Path, Path]]]:
    """``(key, (input file, target file))`` for the pairs in ``root/under/input`` and
    ``root/under/target``, a key being the path under the side's folder without its suffix, in
    natural order of the keys. Files that do not make exactly one pair go to ``skipped``."""
    found: list[dict[str, list[Path]]] = []
    for side in SIDES:
        folder = root / under / side
        by_key: dict[str, list[Path]] = {}
        for path in find_image_files(folder) if folder.is_dir() else []:
            by_key.setdefault(path.relative_to(folder).with_suffix("").as_posix(), []).append(path)
        found.append(by_key)
    pairs = []
    for key in sorted(found[0].keys() | found[1].keys(), key=natural_key):
        files = [by_key.get(key, []) for by_key in found]
        if all(len(paths) == 1 for paths in files):
            pairs.append((key, (files[0][0], files[1][0])))
            continue
        for side in (0, 1):
            other = "/".join(filter(None, (under, SIDES[1 - side], key))) + ".*"
            partners = files[1 - side]
            for path in files[side]:
                if len(files[side]) > 1:
                    names = ", ".join(_shown(root, p) for p in files[side])
                    reason = f"{len(files[side])} files share the name ({names}): keep one, rename the others"
                elif not partners:
                    reason = f"no {other} for {_shown(root, path)}"
                else:
                    reason = f"its partner is ambiguous: {len(partners)} files match {other}"
                log.warning("skipped %s: %s", path, reason)
                skipped.append((path, short_reason(reason)))
    return pairs


def _shown(root: Path, path: Path) -> str:
    """A file as the user knows it: relative to the paired folder."""
    return path.relative_to(root).as_posix()

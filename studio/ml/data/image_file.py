"""One image file as a model sees it (a file dropped on a panel, an image named on the CLI).

Read exactly as the folder dataset reads its files (``folder.load_image``: EXIF orientation,
transparency onto white, centre crop, LANCZOS resize; truncated files fail rather than being
padded), so a dropped photo meets the model the way its training images did.
"""

from __future__ import annotations

from pathlib import Path

import torch

from studio.ml.data.base import DatasetError
from studio.ml.data.folder import _reason, _to_channels, _truncated_images_fail, load_image


class ImageFileError(DatasetError):
    """A file could not be used as an image; the message starts with the file's name."""


def load_image_file(path: Path | str, size: int, channels: int) -> torch.Tensor:
    """``path`` as uint8 (channels, size, size); ``channels`` 1 is the luminance.

    Raises ImageFileError naming the file for a missing, empty, non-image or corrupt file.
    """
    path = Path(path)
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, not {channels}")
    if path.is_dir():
        raise ImageFileError(f"{path.name} is a folder, not an image file")
    try:
        with _truncated_images_fail():
            pixels, _ = load_image(path, size)
    except FileNotFoundError:
        raise ImageFileError(f"{path.name}: no such file ({path})") from None
    except Exception as exc:  # noqa: BLE001  any decoder failure: say which file and why
        raise ImageFileError(f"{path.name} cannot be used as an image: {_reason(path, exc)}") from exc
    return _to_channels(pixels[None], channels)[0]

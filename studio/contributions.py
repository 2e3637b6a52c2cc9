"""What a plugin can contribute, as plain data.

These records are returned by the hooks in :mod:`studio.hookspecs`. They are deliberately light:
this module imports neither Qt nor torch, so a plugin's entry-point module can build them at
discovery time and defer every heavy import to the callables inside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Sequence

if TYPE_CHECKING:  # pragma: no cover - typing only
    from studio.ml.training.base import Trainer
    from studio.runtime.studio import Studio

DockArea = Literal["left", "right", "top", "bottom"]
# what a dataset holds and what a model kind trains on: images, audio clips, or image pairs
# (input -> target, studio.ml.data.paired) for image-to-image models
Modality = Literal["image", "audio", "paired"]
# what a kind's generator draws: images, audio samples, or constant-Q log-magnitude images
# (studio.ml.audio.codec) that phase retrieval turns into sound; or, for an image-to-image model
# (no latent to draw from), "translation": ``model(images)`` returns the translated images; or
# "edit": a studio.ml.models.latent_editor.LatentEditor, a generator with latent directions
Output = Literal["image", "waveform", "spectrogram", "translation", "edit"]


@dataclass(frozen=True)
class PanelSpec:
    """A dock panel. ``factory(studio)`` builds its widget (called on the UI thread)."""

    id: str
    title: str
    factory: Callable[["Studio"], Any]
    area: DockArea = "right"
    description: str = ""


@dataclass(frozen=True)
class Param:
    """One hyper-parameter of a model kind; the trainer monitor builds its form from these."""

    default: int | float | bool | str
    help: str = ""
    choices: Sequence[Any] | None = None
    minimum: float | None = None
    maximum: float | None = None
    # a file path: a relative one in a checkpoint is read from the checkpoint's folder, so a run
    # folder (or the bundled checkpoints/) can move with the files it names
    is_path: bool = False


@dataclass(frozen=True)
class ModelKind:
    """A trainable model family.

    ``build_trainer(config, dataset, device, seed)`` returns a :class:`studio.ml.training.base.Trainer`.
    ``config`` holds every key of ``params`` (defaults filled in) plus what the data fixes: for an
    image or paired kind ``image_size`` and ``channels``, for an audio kind ``sample_rate`` and
    ``samples`` (see ``setup_values()`` of ImageDataset, PairedImages and AudioClips). A kind trains
    on datasets of its ``modality`` only; ``output`` says what its model makes (the loop player
    plays kinds whose output is "waveform" or "spectrogram", the switchboard "translation" ones).
    """

    name: str
    title: str
    params: dict[str, Param]
    build_trainer: Callable[[dict, Any, Any, int], "Trainer"]
    description: str = ""
    modality: Modality = "image"
    output: Output = "image"

    def default_config(self) -> dict:
        return {key: param.default for key, param in self.params.items()}


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset of images or of audio clips.

    An image dataset's ``build(size, channels, path, seed)`` returns an
    :class:`studio.ml.data.base.ImageDataset` with images of ``size`` x ``size`` pixels;
    ``channels`` is 1, 3 or None (the data's own). A paired dataset's ``build`` takes the same
    arguments and returns a :class:`studio.ml.data.paired.PairedImages`.
    An audio dataset's ``build(sample_rate, duration, path, seed)`` returns an
    :class:`studio.ml.data.audio.AudioClips` of mono clips at ``sample_rate`` Hz, each ``duration``
    seconds long (None: the dataset's own length).
    ``path`` is the user's folder when ``needs_path`` is true, else None.
    """

    name: str
    title: str
    build: Callable[..., Any]
    needs_path: bool = False
    description: str = ""
    modality: Modality = "image"


@dataclass(frozen=True)
class MenuAction:
    """An entry in the main window's menu ``menu`` (created if missing); ``callback(studio)``."""

    menu: str
    text: str
    callback: Callable[["Studio"], None]
    shortcut: str | None = None


@dataclass(frozen=True)
class DropHandler:
    """Takes files dropped on the main window.

    ``extensions`` (lower case, with the dot, or ``"*"`` for any file) selects the files;
    ``folders`` takes dropped folders. ``handle(studio, paths)`` gets the matching paths.
    """

    name: str
    handle: Callable[["Studio", list[Path]], None]
    extensions: tuple[str, ...] = field(default=())
    folders: bool = False

    def accepts(self, path: Path) -> bool:
        if path.is_dir():
            return self.folders
        return "*" in self.extensions or path.suffix.lower() in self.extensions

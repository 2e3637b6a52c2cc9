"""Choose a model to look at: one the studio holds (a live training snapshot, a loaded checkpoint),
or load one from a checkpoint file. Shared by every panel that inspects a model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QPushButton, QWidget

from studio.runtime.model_loading import submit_model_load
from studio.runtime.model_manager import model_name_for

__all__ = ["ModelPicker", "draws", "model_name_for"]  # model_name_for: imported from here by plugins

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch import nn

    from studio.runtime.model_manager import LoadedModel


def draws(studio, *outputs: str) -> Callable[[dict], bool]:
    """An ``accepts_meta`` for the models whose kind's generator draws one of ``outputs``
    ("image", "waveform", "spectrogram"); a model of a kind no plugin registers counts as "image"."""

    def accepts(meta: dict) -> bool:
        kind = studio.catalog.model_kinds.get(meta.get("kind"))
        return (kind.output if kind is not None else "image") in outputs

    return accepts


class ModelPicker(QWidget):
    """A combo of the studio's models that ``accepts(module)`` and ``accepts_meta(meta)``, and a
    Load button.

    ``model_changed(name)`` fires when the choice changes, and when the chosen model is published
    again (a newer training snapshot); ``name`` is "" when there is none.
    """

    model_changed = Signal(str)

    def __init__(self, studio, accepts: Callable[[nn.Module], bool] = lambda module: True,
                 file_filter: str = "Checkpoints (*.safetensors)", parent: QWidget | None = None,
                 accepts_meta: Callable[[dict], bool] = lambda meta: True):
        super().__init__(parent)
        self.studio, self.accepts, self.accepts_meta, self.file_filter = studio, accepts, accepts_meta, file_filter
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(18)
        self.combo.setPlaceholderText("no model yet: train one or load a checkpoint")
        self.load_button = QPushButton("Load…")
        self.load_button.setToolTip("Load a trained model from a checkpoint (.safetensors)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.load_button)
        self._load_jobs: dict[int, Path] = {}
        self._wanted: tuple[str, Callable[[], None] | None] | None = None  # see choose()
        self.load_button.clicked.connect(self._ask_checkpoint)
        self.combo.currentTextChanged.connect(self._on_choice)
        self.combo.activated.connect(self._user_chose)
        studio.models.model_published.connect(self._on_published)
        studio.models.model_published.connect(self._take_wanted)  # after _on_published
        studio.jobs.finished.connect(self._on_job_finished)
        studio.jobs.failed.connect(self._on_job_failed)
        self.refresh()

    def current_name(self) -> str:
        return self.combo.currentText()

    def current(self) -> LoadedModel | None:
        name = self.current_name()
        return self.studio.models.get(name) if name else None

    def refresh(self) -> None:
        """List the models that fit, keeping the current choice when it is still there."""
        current = self.current_name()
        names = [n for n in self.studio.models.names() if self._fits(n)]
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems(names)
        if current in names:
            self.combo.setCurrentText(current)
        self.combo.blockSignals(False)
        if self.current_name() != current:
            self.model_changed.emit(self.current_name())

    def _fits(self, name: str) -> bool:
        loaded = self.studio.models.get(name)
        return loaded is not None and self.accepts(loaded.module) and self.accepts_meta(loaded.meta)

    # -- choosing by name (a session being restored) ---------------------------------------------
    def choose(self, name: str, then: Callable[[], None] | None = None) -> bool:
        """Make ``name`` the choice: now if the studio holds it and it fits (True), else as soon as it
        is published, unless the user picks a model first. ``then()`` runs once ``name`` is the
        choice, after ``model_changed`` has been handled. A later ``choose`` replaces this one;
        ``choose("")`` forgets it."""
        self._wanted = None
        if not name:
            return False
        if self.studio.models.get(name) is None:
            self._wanted = (name, then)
            return False
        if not self._select(name):
            return False
        if then is not None:
            then()
        return True

    @property
    def wanted(self) -> str:
        """The model waiting to be chosen when it is published ("" if none)."""
        return self._wanted[0] if self._wanted is not None else ""

    def _select(self, name: str) -> bool:
        if not self._fits(name):
            self.studio.show_message(f"{name} does not fit this panel")
            return False
        if self.combo.findText(name) < 0:
            self.refresh()
        self.combo.setCurrentText(name)  # model_changed, unless it is the choice already
        return True

    def _take_wanted(self, name: str) -> None:
        if self._wanted is None or self._wanted[0] != name or self.studio.models.get(name) is None:
            return
        then, self._wanted = self._wanted[1], None
        if self._select(name) and then is not None:
            then()

    def _user_chose(self, _index: int) -> None:
        self._wanted = None  # the user's choice stands: a model published later does not take over

    def _on_choice(self, name: str) -> None:
        self.model_changed.emit(name)

    def _on_published(self, name: str) -> None:
        if name == self.current_name():
            self.model_changed.emit(name)  # a newer snapshot of the model on show
        elif self.combo.findText(name) < 0:
            self.refresh()
            if not self.current_name() and self._fits(name):
                self.combo.setCurrentText(name)

    # -- loading a checkpoint ----------------------------------------------------------------
    def _ask_checkpoint(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a model", "", self.file_filter)
        if path:
            self.load_checkpoint(Path(path))

    def load_checkpoint(self, path: Path) -> None:
        """Load in the background; the model is published (and chosen) when it is ready."""
        self._wanted = None  # the user's choice
        job = submit_model_load(self.studio, path)
        self._load_jobs[job.id] = Path(path)
        self.load_button.setEnabled(False)

    def _on_job_finished(self, job_id: int, name) -> None:
        if self._load_jobs.pop(job_id, None) is None:
            return
        self.load_button.setEnabled(True)
        self.refresh()
        if name and self._fits(name):
            self.combo.setCurrentText(name)
        elif name:
            self.studio.show_message(f"{name} does not fit this panel")

    def _on_job_failed(self, job_id: int, message: str) -> None:
        if self._load_jobs.pop(job_id, None) is not None:
            self.load_button.setEnabled(True)
            self.studio.show_message(message)

"""Where keyframes come from: a random seed, a training image by index, or image files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QGridLayout, QLabel, QPushButton, QSpinBox, QWidget

from studio.ml.data.folder import image_extensions

MAX_SEED = 2**31 - 1


class KeyframeSources(QWidget):
    """Buttons that ask for keyframes; the panel makes them. Signals carry what was asked for."""

    seed_requested = Signal(int)
    dataset_image_requested = Signal(int)
    files_requested = Signal(list)  # [Path]

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._model_ready, self._training_images = False, 0
        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed.setToolTip("z drawn from N(0, I) with this seed (the same z as `latent-studio walk --seeds`)")
        self.add_seed_button = QPushButton("Add seed")
        self.index = QSpinBox()
        self.index.setRange(0, 0)
        self.index.setToolTip("a training image of the model, by index")
        self.add_dataset_button = QPushButton("Add training image")
        self.add_files_button = QPushButton("Add image files…")
        self.add_seed_button.clicked.connect(self._add_seed)
        self.add_dataset_button.clicked.connect(lambda: self.dataset_image_requested.emit(self.index.value()))
        self.add_files_button.clicked.connect(self._ask_files)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Seed"), 0, 0)
        layout.addWidget(self.seed, 0, 1)
        layout.addWidget(self.add_seed_button, 0, 2)
        layout.addWidget(QLabel("Training #"), 1, 0)
        layout.addWidget(self.index, 1, 1)
        layout.addWidget(self.add_dataset_button, 1, 2)
        layout.addWidget(self.add_files_button, 2, 0, 1, 3)
        layout.setColumnStretch(1, 1)
        self.set_model_ready(False)
        self.set_training_images(0)

    def set_model_ready(self, ready: bool, how: str = "") -> None:
        """Enable the sources once there is a model; ``how`` says how images become z."""
        for widget in (self.seed, self.add_seed_button, self.add_files_button):
            widget.setEnabled(ready)
        self.add_files_button.setToolTip(f"images are read as the model's inputs, then {how}" if how else "")
        self._model_ready = ready
        self._update_dataset()

    def set_training_images(self, count: int) -> None:
        """How many training images can be picked (0 while they are loading or unknown)."""
        self.index.setRange(0, max(count - 1, 0))
        self._training_images = count
        self._update_dataset()

    def _update_dataset(self) -> None:
        usable = self._model_ready and self._training_images > 0
        self.index.setEnabled(usable)
        self.add_dataset_button.setEnabled(usable)

    def _add_seed(self) -> None:
        self.seed_requested.emit(self.seed.value())
        self.seed.setValue(min(self.seed.value() + 1, MAX_SEED))  # the next click adds a new seed

    def _ask_files(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in sorted(image_extensions()))
        filters = f"Images ({patterns});;All files (*)"
        names, _ = QFileDialog.getOpenFileNames(self, "Add images as keyframes", "", filters)
        if names:
            self.files_requested.emit([Path(name) for name in names])

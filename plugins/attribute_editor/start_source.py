"""Where the unedited image comes from: a seed, a training image of the model's data, or an image
file (opened here or dropped on the panel). Images become z by a job; its progress and Cancel
are shown here."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

from studio.ml.data.folder import image_extensions

MAX_SEED = 2**31 - 1


class StartSource(QGroupBox):
    """Asks for a start; the panel makes it. ``seed_chosen(seed)`` also fires as the seed box
    changes, so stepping through seeds is live."""

    seed_chosen = Signal(int)
    training_image_requested = Signal(int)
    files_requested = Signal(list)  # [Path]
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Start image", parent)
        self._ready, self._images = False, 0
        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed.setToolTip("z drawn from N(0, I) with this seed (as `latent-studio walk --seeds`)")
        self.seed_button = QPushButton("Use seed")
        self.seed_button.setToolTip("start from the seed again (after an image)")
        self.index = QSpinBox()
        self.index.setToolTip("an image of the data the model was trained on, by index")
        self.index_button = QPushButton("Invert")
        self.file_button = QPushButton("Open image…")
        self.current = QLabel()
        self.current.setWordWrap(True)
        self.current.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.job_label = QLabel()
        self.job_bar = QProgressBar()
        self.job_bar.setMaximumWidth(110)
        self.job_bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.job_row = QWidget()
        job = QHBoxLayout(self.job_row)
        job.setContentsMargins(0, 0, 0, 0)
        job.addWidget(self.job_label, 1)
        job.addWidget(self.job_bar)
        job.addWidget(self.cancel_button)
        self.job_row.hide()
        self.file_button.setToolTip("or drop an image file on the panel")
        grid = QGridLayout(self)
        grid.addWidget(QLabel("Seed"), 0, 0)
        grid.addWidget(self.seed, 0, 1)
        grid.addWidget(self.seed_button, 0, 2)
        grid.addWidget(QLabel("Training #"), 1, 0)
        grid.addWidget(self.index, 1, 1)
        grid.addWidget(self.index_button, 1, 2)
        grid.addWidget(self.file_button, 2, 0, 1, 2)
        grid.addWidget(QLabel("<span style='color:#777'>or drop one</span>"), 2, 2)
        grid.addWidget(self.current, 3, 0, 1, 3)
        grid.addWidget(self.job_row, 4, 0, 1, 3)
        grid.setColumnStretch(1, 1)
        self.seed.valueChanged.connect(self.seed_chosen.emit)
        self.seed_button.clicked.connect(lambda: self.seed_chosen.emit(self.seed.value()))
        self.index_button.clicked.connect(lambda: self.training_image_requested.emit(self.index.value()))
        self.file_button.clicked.connect(self._ask_files)
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        self.set_model_ready(False)

    # -- what can be asked for ----------------------------------------------------------------
    def set_model_ready(self, ready: bool, how: str = "") -> None:
        """Enable the sources once there is a model; ``how`` says how images become z."""
        self._ready = ready
        for widget in (self.seed, self.seed_button, self.file_button):
            widget.setEnabled(ready)
        self.file_button.setToolTip(f"read an image at the model's size, then find its z by {how}" if how else "")
        self.index_button.setToolTip(f"find this training image's z by {how}" if how else "")
        self._update_training()

    def set_training_images(self, count: int, status: str = "") -> None:
        """How many training images there are (0: loading or unknown, ``status`` says which)."""
        self._images = count
        self.index.setRange(0, max(count - 1, 0))
        self.index.setSuffix(f" of {count}" if count else "")
        self.index.setSpecialValueText(status if not count and status else "")
        self._update_training()

    def _update_training(self) -> None:
        usable = self._ready and self._images > 0
        self.index.setEnabled(usable)
        self.index_button.setEnabled(usable)

    def set_seed(self, seed: int) -> None:
        """Show ``seed`` without asking for it (a recipe's)."""
        self.seed.blockSignals(True)
        self.seed.setValue(seed)
        self.seed.blockSignals(False)

    def show_start(self, text: str) -> None:
        self.current.setText(text)

    # -- the inversion job --------------------------------------------------------------------
    def job_started(self, name: str) -> None:
        self.job_label.setText(name + "…")
        self.job_bar.setRange(0, 0)  # busy until the first report
        self.job_row.show()

    def job_progress(self, done: int, total: int) -> None:
        self.job_bar.setRange(0, max(total, 1))
        self.job_bar.setValue(done)

    def job_ended(self) -> None:
        self.job_row.hide()

    def _ask_files(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in sorted(image_extensions()))
        name, _ = QFileDialog.getOpenFileName(self, "Start from an image", "", f"Images ({patterns});;All files (*)")
        if name:
            self.files_requested.emit([Path(name)])

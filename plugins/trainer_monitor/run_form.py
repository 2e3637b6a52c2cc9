"""What to train: model kind, dataset, data format, schedule and the kind's hyper-parameters.

The dataset list follows the kind: an audio kind lists audio datasets and asks for a sample rate
and clip length instead of an image size and colour.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio.catalog import Catalog, RunSetup
from studio.ui.param_form import ParamForm

COLOUR_CHOICES = [("the data's own", None), ("grayscale", 1), ("RGB", 3)]
# 3840 Hz: the constant-Q codec's rate (64 x 256 spectrograms per second); 2048 Hz: seed paper 002's
SAMPLE_RATES = (3840, 2048, 4096, 7680, 8000, 16000)


def _spin(value: int, minimum: int, maximum: int, step: int = 1) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(minimum, maximum)
    spin.setSingleStep(step)
    spin.setValue(value)
    return spin


class RunForm(QWidget):
    def __init__(self, catalog: Catalog, parent=None):
        super().__init__(parent)
        self.catalog = catalog
        self.kind = QComboBox()
        for kind in catalog.model_kinds.values():
            self.kind.addItem(kind.title, kind.name)
            self.kind.setItemData(self.kind.count() - 1, kind.description, 3)  # 3: ToolTipRole
        self.dataset = QComboBox()  # filled by _kind_changed with the kind's modality
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("folder of images (or drop one on the window)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self._folder_row = QWidget()
        row = QHBoxLayout(self._folder_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.folder, 1)
        row.addWidget(browse)

        self.image_size = QComboBox()
        for size in (32, 64):
            self.image_size.addItem(f"{size} × {size}", size)
        self.colour = QComboBox()
        for text, channels in COLOUR_CHOICES:
            self.colour.addItem(text, channels)
        self.sample_rate = QComboBox()
        for rate in SAMPLE_RATES:
            self.sample_rate.addItem(f"{rate} Hz", rate)
        self.duration = QDoubleSpinBox()
        self.duration.setRange(0.0, 60.0)
        self.duration.setSingleStep(0.5)
        self.duration.setSuffix(" s")
        self.duration.setSpecialValueText("the data's own")  # 0: the dataset's own clip length
        self.seed = _spin(0, 0, 2**31 - 1)
        self.steps = _spin(2000, 1, 10_000_000, 100)
        self.sample_every = _spin(100, 1, 1_000_000, 10)
        self.checkpoint_every = _spin(500, 1, 10_000_000, 100)

        data = QGroupBox("Model and data")
        form = QFormLayout(data)
        form.addRow("Model", self.kind)
        form.addRow("Dataset", self.dataset)
        form.addRow("", self._folder_row)
        form.addRow("Image size", self.image_size)
        form.addRow("Colour", self.colour)
        form.addRow("Sample rate", self.sample_rate)
        form.addRow("Clip length", self.duration)
        form.addRow("Seed", self.seed)
        self._data_form = form
        schedule = QGroupBox("Schedule")
        form = QFormLayout(schedule)
        form.addRow("Steps", self.steps)
        form.addRow("Samples every", self.sample_every)
        form.addRow("Checkpoint every", self.checkpoint_every)

        # One parameter form per model kind, switched with the kind combo.
        self.param_forms: dict[str, ParamForm] = {}
        self._param_stack = QStackedWidget()
        for name, kind in catalog.model_kinds.items():
            self.param_forms[name] = ParamForm(kind.params)
            self._param_stack.addWidget(self.param_forms[name])
        params = QGroupBox("Hyper-parameters")
        QVBoxLayout(params).addWidget(self._param_stack)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(data)
        layout.addWidget(schedule)
        layout.addWidget(params)
        layout.addStretch(1)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.dataset.currentIndexChanged.connect(self._dataset_changed)
        self._kind_changed()
        self._dataset_changed()

    def _kind_changed(self) -> None:
        name = self.kind.currentData()
        if name in self.param_forms:
            self._param_stack.setCurrentWidget(self.param_forms[name])
        modality = self.catalog.model_kinds[name].modality if name else "image"
        self._list_datasets(modality)
        for widget in (self.image_size, self.colour):
            self._data_form.setRowVisible(widget, modality != "audio")  # images, or image pairs
        for widget in (self.sample_rate, self.duration):
            self._data_form.setRowVisible(widget, modality == "audio")

    def _list_datasets(self, modality: str) -> None:
        """The datasets a kind of this modality trains on; the selection kept where it still fits."""
        current = self.dataset.currentData()
        self.dataset.blockSignals(True)
        self.dataset.clear()
        for spec in self.catalog.datasets.values():
            if spec.modality == modality:
                self.dataset.addItem(spec.title, spec.name)
                self.dataset.setItemData(self.dataset.count() - 1, spec.description, 3)
        self.dataset.setCurrentIndex(max(self.dataset.findData(current), 0))
        self.dataset.blockSignals(False)
        self._dataset_changed()

    def _dataset_changed(self) -> None:
        name = self.dataset.currentData()
        self._folder_row.setVisible(bool(name) and self.catalog.datasets[name].needs_path)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of training images", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def use_folder(self, folder: Path) -> None:
        """Select the first dataset of the current kind's modality that takes a folder, pointing
        at ``folder``."""
        for index in range(self.dataset.count()):
            if self.catalog.datasets[self.dataset.itemData(index)].needs_path:
                self.dataset.setCurrentIndex(index)
                self.folder.setText(str(folder))
                return

    def setup(self) -> RunSetup:
        kind = self.kind.currentData()
        dataset = self.dataset.currentData()
        folder = self.folder.text().strip() if self.catalog.datasets[dataset].needs_path else None
        return RunSetup(
            kind=kind,
            dataset=dataset,
            dataset_path=folder or None,
            image_size=self.image_size.currentData(),
            channels=self.colour.currentData(),
            seed=self.seed.value(),
            config=self.param_forms[kind].values(),
            sample_rate=self.sample_rate.currentData(),
            duration=self.duration.value() or None,
        )

    def show_setup(self, setup: RunSetup) -> None:
        """Fill the form from ``setup`` (e.g. a loaded checkpoint's)."""
        for combo, value in ((self.kind, setup.kind), (self.dataset, setup.dataset),
                             (self.image_size, setup.image_size), (self.colour, setup.channels),
                             (self.sample_rate, setup.sample_rate)):
            index = combo.findData(value)
            if index >= 0:
                combo.setCurrentIndex(index)
        self.duration.setValue(setup.duration or 0.0)
        self.folder.setText(setup.dataset_path or "")
        self.seed.setValue(setup.seed)
        if setup.kind in self.param_forms:
            self.param_forms[setup.kind].set_values(setup.config)

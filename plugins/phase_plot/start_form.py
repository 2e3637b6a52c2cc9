"""Where the trajectories start and how long they run: the left column of the panel."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.ml.analysis.closed_loop import METHODS, ClosedLoopSettings
from studio_plugins.phase_plot.job import RunPlan

SOURCE_TITLES = {"random": "Random z", "dataset": "Training images", "images": "Dropped images"}
METHOD_TIPS = {
    "fast": "float32 steps; fixed points refined in float64; the Lyapunov exponent only where the class "
            "depends on it (neither fixed point nor cycle)",
    "exact": "every step in float64 with the Lyapunov tangent: every trajectory gets its exponent, "
             "at tens of times the cost",
}
SHOWN_FILE_NAMES = 3


class StartForm(QWidget):
    """Start points (random z, training images, dropped image files), steps and method."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.files: list[Path] = []
        self.sources = QButtonGroup(self)
        source_box = QGroupBox("Start points")
        source_layout = QVBoxLayout(source_box)
        for source, title in SOURCE_TITLES.items():
            button = QRadioButton(title)
            button.setObjectName(source)
            self.sources.addButton(button)
            source_layout.addWidget(button)
        self._button("random").setChecked(True)
        self.count = _spin(1, 4096, 64, "how many trajectories (random z or training images)")
        self.seed = _spin(0, 2**31 - 1, 0, "seed of the random z and of the choice of training images")
        numbers = QFormLayout()
        numbers.addRow("Count", self.count)
        numbers.addRow("Seed", self.seed)
        source_layout.addLayout(numbers)
        self.files_label = QLabel()
        self.files_label.setWordWrap(True)
        self.clear_files = QPushButton("Clear")
        self.clear_files.clicked.connect(self.forget_files)
        files_row = QHBoxLayout()
        files_row.addWidget(self.files_label, 1)
        files_row.addWidget(self.clear_files)
        source_layout.addLayout(files_row)

        self.steps = _spin(2, 100_000, 200, "steps T of the closed loop z -> Enc(Gen(z))")
        self.method = QComboBox()
        for method in METHODS:
            self.method.addItem(method)
            self.method.setItemData(self.method.count() - 1, METHOD_TIPS[method], Qt.ItemDataRole.ToolTipRole)
        run_form = QFormLayout()
        run_form.addRow("Steps", self.steps)
        run_form.addRow("Method", self.method)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(source_box)
        layout.addLayout(run_form)
        self.sources.buttonToggled.connect(self._update)
        self._update()

    def _button(self, source: str) -> QRadioButton:
        return next(b for b in self.sources.buttons() if b.objectName() == source)

    def source(self) -> str:
        return self.sources.checkedButton().objectName()

    def set_source(self, source: str) -> None:
        self._button(source).setChecked(True)

    def plan(self) -> RunPlan:
        settings = ClosedLoopSettings(steps=self.steps.value(), method=self.method.currentText(),
                                      seed=self.seed.value())
        return RunPlan(self.source(), self.count.value(), self.seed.value(), settings, tuple(self.files))

    def add_files(self, paths: list[Path]) -> None:
        """Image files (already checked readable) become the start points."""
        self.files += [p for p in paths if p not in self.files]
        self.set_source("images")
        self._update()

    def forget_files(self) -> None:
        self.files = []
        if self.source() == "images":
            self.set_source("random")
        self._update()

    def _update(self, *_args) -> None:
        from_files = self.source() == "images"
        self.count.setEnabled(not from_files)
        self.seed.setEnabled(not from_files)
        names = ", ".join(p.name for p in self.files[:SHOWN_FILE_NAMES])
        more = f" and {len(self.files) - SHOWN_FILE_NAMES} more" if len(self.files) > SHOWN_FILE_NAMES else ""
        self.files_label.setText(f"{len(self.files)} file(s): {names}{more}" if self.files
                                 else "<i>drop image files on this panel</i>")
        self.clear_files.setEnabled(bool(self.files))
        self._button("images").setEnabled(bool(self.files))


def _spin(minimum: int, maximum: int, value: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(minimum, maximum)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin

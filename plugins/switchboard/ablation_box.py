"""The skip ablation in the panel: which variants, how many steps, on which data; Run and Cancel;
and the train/test MSE table beside the paper's (Tables 1-4), filled as each variant finishes."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio import paths
from studio.catalog import RunSetup
from studio.ml.training.ablation import PAPER_MSE, PAPER_VARIANTS, QUICK_VARIANTS, AblationRow, variant_label
from studio_plugins.switchboard.ablation_run import KIND, AblationPlan, AblationRun

COLUMNS = ("model", "skips", "steps", "train MSE", "test MSE", "paper train", "paper test")
TRAIN, TEST = COLUMNS.index("train MSE"), COLUMNS.index("test MSE")
DEFAULT_STEPS = 1500
DEFAULT_SETUP = RunSetup(KIND, "heads", image_size=64, channels=3)
SETTINGS_GROUP = "switchboard/ablation"


def _number(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.4f}"


class AblationBox(QWidget):
    def __init__(self, studio, parent: QWidget | None = None):
        super().__init__(parent)
        self.studio = studio
        self.runner = AblationRun(studio, self)
        self.setup = DEFAULT_SETUP
        self.checks: dict[str, QCheckBox] = {}
        variants = QGroupBox("Variants")
        variant_grid = QGridLayout(variants)
        for i, skips in enumerate(PAPER_VARIANTS):
            box = QCheckBox(variant_label(skips))
            box.setToolTip(f"skips={skips}")
            variant_grid.addWidget(box, i // 3, i % 3)
            self.checks[skips] = box
        self.steps = QSpinBox()
        self.steps.setRange(1, 1_000_000)
        self.steps.setSingleStep(500)
        self.steps.setToolTip("training steps of each variant")
        self.data = QLabel()
        self.data.setWordWrap(True)
        self.run_button = QPushButton("Run ablation")
        self.cancel_button = QPushButton("Cancel")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.export_button = QPushButton("Export table…")
        self.export_button.setToolTip("save the table as mse.csv and mse.md in a folder")
        self._lay_out(variants)
        self._restore()
        self.run_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.export_button.clicked.connect(self._ask_export)
        self.steps.valueChanged.connect(self._save)
        for box in self.checks.values():
            box.toggled.connect(self._save)
        self.runner.started.connect(self._on_plan)
        self.runner.variant_started.connect(self._on_started)
        self.runner.variant_progress.connect(self._on_progress)
        self.runner.variant_evaluating.connect(lambda index: self._set_status_cell(index, "evaluating…"))
        self.runner.variant_evaluated.connect(self._on_evaluated)
        self.runner.variant_failed.connect(self._on_failed)
        self.runner.finished.connect(self._on_finished)
        self._set_running(False)
        self.set_setup(None, "")

    def _lay_out(self, variants: QGroupBox) -> None:
        """The choices in a row on top, the table below them at full width (seven columns)."""
        form = QFormLayout()
        form.addRow("Steps each", self.steps)
        form.addRow("Data", self.data)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        run = QVBoxLayout()
        run.addLayout(form)
        run.addLayout(buttons)
        run.addWidget(self.status)
        run.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(variants)
        top.addLayout(run, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.export_button, 0, Qt.AlignmentFlag.AlignRight)

    # -- settings ---------------------------------------------------------------------------------
    def _restore(self) -> None:
        settings = self.studio.settings
        chosen = str(settings.value(f"{SETTINGS_GROUP}/variants", ",".join(QUICK_VARIANTS))).split(",")
        for skips, box in self.checks.items():
            box.setChecked(skips in chosen)
        self.steps.setValue(int(settings.value(f"{SETTINGS_GROUP}/steps", DEFAULT_STEPS)))

    def _save(self, *_) -> None:
        self.studio.settings.setValue(f"{SETTINGS_GROUP}/variants", ",".join(self.variants()))
        self.studio.settings.setValue(f"{SETTINGS_GROUP}/steps", self.steps.value())

    # -- the plan ---------------------------------------------------------------------------------
    def variants(self) -> tuple[str, ...]:
        return tuple(skips for skips, box in self.checks.items() if box.isChecked())

    def set_setup(self, setup: RunSetup | None, source: str) -> None:
        """Train on ``setup``'s data and hyper-parameters (``source`` says whose), or on the heads
        at 64 px when there is no model."""
        self.setup = setup or DEFAULT_SETUP
        where = source or "no model chosen"
        self.data.setText(f"{self.setup.dataset}, {self.setup.image_size} px <span style='color:#777'>({where})</span>")

    def start(self) -> None:
        setup = self.setup
        plan = AblationPlan(self.variants(), self.steps.value(), setup,
                            paths.new_run_dir(f"{KIND}-ablation", setup.dataset))
        problem = self.runner.start(plan)
        if problem is not None:
            self.status.setText(f"<span style='color:#b00020'>{problem}</span>")
            self.studio.show_message(problem)

    def _on_plan(self, plan: AblationPlan) -> None:
        self.table.clearSpans()
        self.table.setRowCount(0)
        for skips in plan.variants:
            self._add_row(skips, plan.steps)
        self._set_running(True)

    def _add_row(self, skips: str, steps: int) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        label = variant_label(skips)
        paper = PAPER_MSE.get(label, (None, None))
        for column, text in enumerate((label, skips, str(steps), "waiting", "", _number(paper[0]), _number(paper[1]))):
            item = QTableWidgetItem(text)
            if column >= COLUMNS.index("steps"):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, column, item)

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.export_button.setEnabled(not running and bool(self.runner.rows))

    # -- the run's reports ------------------------------------------------------------------------
    def _set_status_cell(self, index: int, text: str, tip: str = "") -> None:
        item = self.table.item(index, TRAIN)
        item.setText(text)
        item.setToolTip(tip)

    def _on_started(self, index: int) -> None:
        self._set_status_cell(index, "training…")
        self._say_training(index, "…")

    def _on_progress(self, index: int, step: int, total: int) -> None:
        self._set_status_cell(index, f"step {step} / {total}")
        self._say_training(index, f": step {step} of {total}…")

    def _say_training(self, index: int, detail: str) -> None:
        """"training Concat2 (2 of 4)…" in the status line."""
        variants = self.runner.plan.variants
        self.status.setText(f"training {variant_label(variants[index])} ({index + 1} of {len(variants)}){detail}")

    def _on_evaluated(self, index: int, row: AblationRow) -> None:
        self.table.item(index, COLUMNS.index("steps")).setText(str(row.steps))
        self._set_status_cell(index, _number(row.train_mse), row.checkpoint)
        self.table.item(index, TEST).setText(_number(row.test_mse))

    def _on_failed(self, index: int, message: str) -> None:
        self.table.setSpan(index, TRAIN, 1, 2)
        self._set_status_cell(index, f"failed: {message}", message)
        self.table.item(index, TRAIN).setForeground(Qt.GlobalColor.red)
        self.studio.show_message(f"ablation: {variant_label(self.runner.plan.variants[index])} failed: {message}")

    def _on_finished(self, rows: list[AblationRow]) -> None:
        for index in range(self.table.rowCount()):  # variants never started after a Cancel
            if self.table.item(index, TRAIN).text() == "waiting":
                self._set_status_cell(index, "cancelled")
        self._set_running(False)
        done = f"{sum(math.isfinite(row.test_mse) for row in rows)} of {self.table.rowCount()} variant(s) evaluated"
        try:
            _, markdown = self.runner.write_table()
        except OSError as exc:
            self.status.setText(f"{done}; could not write the table: {exc}")
            return
        self.status.setText(f"{done}; table and runs in {markdown.parent}")
        self.studio.show_message(f"ablation done: {markdown}")

    # -- export -----------------------------------------------------------------------------------
    def _ask_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the ablation table to a folder")
        if folder:
            self.export(Path(folder))

    def export(self, folder: Path) -> tuple[Path, Path] | None:
        """mse.csv and mse.md of the table in ``folder``."""
        try:
            written = self.runner.write_table(folder)
        except OSError as exc:
            self.status.setText(f"could not write the table to {folder}: {exc}")
            return None
        self.studio.show_message(f"exported {', '.join(p.name for p in written)} to {folder}")
        return written

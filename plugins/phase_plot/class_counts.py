"""Counts per orbit class, as the plots' legend: a colour swatch, the count, and a check box that
shows or hides that class in the plots."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QWidget

from studio.ml.analysis.closed_loop import KIND_COLOURS
from studio.ml.analysis.dynamics import KINDS


class ClassCounts(QWidget):
    """``visibility_changed(kind, shown)`` when a class is ticked or unticked."""

    visibility_changed = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setColumnStretch(1, 1)
        self.boxes: dict[str, QCheckBox] = {}
        self.numbers: dict[str, QLabel] = {}
        for row, kind in enumerate(KINDS):
            box = QCheckBox(kind)
            box.setChecked(True)
            box.setStyleSheet(f"QCheckBox {{ color: {KIND_COLOURS[kind]}; font-weight: bold; }}")
            box.toggled.connect(lambda shown, kind=kind: self.visibility_changed.emit(kind, shown))
            number = QLabel("–")
            number.setAlignment(Qt.AlignmentFlag.AlignRight)
            layout.addWidget(box, row, 0)
            layout.addWidget(number, row, 2)
            self.boxes[kind], self.numbers[kind] = box, number
        self.periods = QLabel()  # under the counts: a long list of periods wraps instead of widening
        self.periods.setWordWrap(True)
        self.periods.setToolTip("limit cycles by period: p5: 12 means 12 cycles of period 5")
        layout.addWidget(self.periods, len(KINDS), 0, 1, 3)

    def set_counts(self, counts: dict[str, int], periods: dict[str, int] | None = None) -> None:
        """Show ``counts`` (every kind); ``periods`` ({"5": 12, ...}) annotates the cycles."""
        for kind, label in self.numbers.items():
            label.setText(str(counts.get(kind, 0)))
        listed = ", ".join(f"p{p}: {n}" for p, n in (periods or {}).items())
        self.periods.setText(f"cycles by period: {listed}" if listed else "")

    def clear(self) -> None:
        for label in self.numbers.values():
            label.setText("–")
        self.periods.setText("")

    def shown(self) -> set[str]:
        return {kind for kind, box in self.boxes.items() if box.isChecked()}

"""The paper's figures 5 and 6 in the panel: the "One on" and "One off" buttons, and the grid they
make (a row per input: the input, all latents, then each latent alone or each one removed), with
the column titles above and the inputs' names on the left."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.ui.image_view import ImageView
from studio_plugins.switchboard.work import MaskGrid

MODES = {"one-on": ("One on", "figure 5: each latent alone (the others zeroed)"),
         "one-off": ("One off", "figure 6: each latent removed (zeroed), the others kept")}
CELL_PIXELS = 48
PLACEHOLDER = "Click One on or One off for the paper's figures 5 and 6."


class GridButtons(QGroupBox):
    """``requested(mode)``: "one-on" or "one-off"."""

    requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Figures 5 and 6", parent)
        layout = QHBoxLayout(self)
        self.buttons: dict[str, QPushButton] = {}
        for mode, (title, tip) in MODES.items():
            button = QPushButton(title)
            button.setToolTip(f"{tip}: for the input on show and a few test pairs")
            button.clicked.connect(lambda _checked=False, mode=mode: self.requested.emit(mode))
            layout.addWidget(button)
            self.buttons[mode] = button


class MaskGridView(QWidget):
    """``export_clicked()`` asks the panel for a file name."""

    export_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.grid: MaskGrid | None = None
        self.caption = QLabel(PLACEHOLDER)
        self.caption.setWordWrap(True)
        self.export_button = QPushButton("Export PNG…")
        self.export_button.setToolTip("save the grid with its titles as a PNG")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(lambda: self.export_clicked.emit())
        self.cells = QWidget()
        self.table = QGridLayout(self.cells)
        self.table.setContentsMargins(0, 0, 0, 0)
        self.table.setSpacing(2)
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.cells, 1)

    def show_grid(self, grid: MaskGrid) -> None:
        self.clear()
        self.grid = grid
        title, tip = MODES[grid.mode]
        self.caption.setText(f"<b>{title}</b>: {tip}; model {grid.model}")
        for column, name in enumerate(grid.columns):
            self.table.addWidget(_title(name), 0, column + 1, Qt.AlignmentFlag.AlignHCenter)
            self.table.setColumnStretch(column + 1, 1)
        columns = len(grid.columns)
        for row, name in enumerate(grid.rows):
            label = _title(name)
            label.setWordWrap(True)
            label.setMaximumWidth(110)
            self.table.addWidget(label, row + 1, 0)
            self.table.setRowStretch(row + 1, 1)
            for column in range(columns):
                cell = ImageView("", CELL_PIXELS)
                cell.setStyleSheet("background: #202020; padding: 0px;")
                cell.set_image(grid.images[row * columns + column])
                self.table.addWidget(cell, row + 1, column + 1)
        self.export_button.setEnabled(True)

    def clear(self, caption: str = PLACEHOLDER) -> None:
        self.grid = None
        while self.table.count():
            widget = self.table.takeAt(0).widget()
            if widget is not None:
                widget.setParent(None)  # gone now: deleteLater alone leaves it painted until the next loop
                widget.deleteLater()
        for index in range(self.table.rowCount()):
            self.table.setRowStretch(index, 0)
        for index in range(self.table.columnCount()):
            self.table.setColumnStretch(index, 0)
        self.caption.setText(caption)
        self.export_button.setEnabled(False)

    def titles(self) -> list[str]:
        """The column titles on show."""
        return list(self.grid.columns) if self.grid is not None else []


def _title(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("color: #303030;")
    return label

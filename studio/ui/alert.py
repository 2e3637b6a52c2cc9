"""A panel's problem line: what went wrong, in red, until the next success hides it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


class AlertLabel(QLabel):
    """Red, wrapped, selectable (a message can be copied into a bug report), hidden until set."""

    def __init__(self, bold: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setStyleSheet("color: #b00020;" + (" font-weight: bold;" if bold else ""))
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

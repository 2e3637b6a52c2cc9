"""Run and Cancel buttons, the progress of the running job and a one-line status."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget


class RunBar(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.run_button = QPushButton("Run")
        self.cancel_button = QPushButton("Cancel")
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        self.set_running(False)

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.bar.setRange(0, 0)  # busy until the first progress report
            self.bar.setValue(0)

    def set_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)

    def set_status(self, text: str) -> None:
        self.status.setText(text)

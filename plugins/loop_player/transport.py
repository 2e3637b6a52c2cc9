"""Play, stop, volume, export, and what the audio output is doing."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QPushButton, QSlider, QWidget


class Transport(QGroupBox):
    play_clicked = Signal()
    stop_clicked = Signal()
    volume_changed = Signal(float)  # 0..1
    export_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Playback", parent)
        self.play = QPushButton("Play")
        self.stop = QPushButton("Stop")
        self.export = QPushButton("Export…")
        self.export.setToolTip("Save the loop on show as WAV or FLAC (at the model's sample rate)")
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setValue(70)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        grid = QGridLayout(self)
        grid.addWidget(self.play, 0, 0)
        grid.addWidget(self.stop, 0, 1)
        grid.addWidget(self.export, 0, 2)
        grid.addWidget(QLabel("Volume"), 1, 0)
        grid.addWidget(self.volume, 1, 1, 1, 2)
        grid.addWidget(self.status, 2, 0, 1, 3)
        self.play.clicked.connect(self.play_clicked)
        self.stop.clicked.connect(self.stop_clicked)
        self.export.clicked.connect(self.export_clicked)
        self.volume.valueChanged.connect(lambda value: self.volume_changed.emit(value / 100))
        self.set_output(False, "")

    def set_output(self, available: bool, message: str) -> None:
        """No output device: playback is off, export still works, and the panel says so."""
        self.play.setEnabled(available)
        self.stop.setEnabled(available)
        self.volume.setEnabled(available)
        self.set_status(message)

    def set_status(self, text: str) -> None:
        self.status.setText(text)

"""A constant-Q spectrogram with a playhead: time in seconds across, pitch (log frequency) up."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

NOTE_NAMES = ("A", "A#", "B", "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#")


def octave_ticks(frequencies: np.ndarray) -> list[tuple[float, str]]:
    """Row positions of the A's among the band centres (rows 1..-2; 0 and -1 are DC and Nyquist)."""
    ticks = []
    for row, frequency in enumerate(frequencies[1:-1], start=1):
        semitones = 12 * np.log2(frequency / 55.0)
        if abs(semitones - round(semitones)) < 0.05 and round(semitones) % 12 == 0:
            ticks.append((row + 0.5, f"A{1 + round(semitones) // 12}  {frequency:.0f} Hz"))
    return ticks


class SpectrogramView(QWidget):
    """``show(image, frequencies, duration, caption)`` draws a codec image; ``set_playhead(s)``."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.getPlotItem().hideButtons()
        self.plot.setMinimumSize(320, 180)
        self.plot.setLabel("bottom", "time (s)")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("inferno"))
        self.playhead = pg.InfiniteLine(angle=90, pen=pg.mkPen("#4fc3f7", width=2))
        self.plot.addItem(self.image)
        self.plot.addItem(self.playhead)
        self.playhead.hide()
        self.caption = QLabel("no loop yet")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        self._duration = 1.0

    def show_image(self, image: np.ndarray, frequencies: np.ndarray, duration: float, caption: str) -> None:
        """``image``: (rows, frames) in [-1, 1] with high frequencies on row 0, as the codec makes it."""
        rows, frames = image.shape
        self._duration = duration
        self.image.setImage(np.ascontiguousarray(image[::-1]), levels=(-1, 1))  # row 0 at the bottom
        self.image.setRect(0, 0, duration, rows)
        self.plot.getAxis("left").setTicks([octave_ticks(frequencies), []])
        self.plot.setXRange(0, duration, padding=0)
        self.plot.setYRange(0, rows, padding=0)
        self.caption.setText(caption)

    def set_playhead(self, seconds: float | None) -> None:
        if seconds is None:
            self.playhead.hide()
            return
        self.playhead.setPos(seconds % self._duration)
        self.playhead.show()

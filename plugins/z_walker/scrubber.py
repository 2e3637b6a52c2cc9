"""The path's position s in [0, 1]: a slider to scrub, Play and Loop to watch it move.

The slider has SUBSTEPS positions between neighbouring frames, so dragging is smooth while
playback and exports land exactly on the frames (position k * SUBSTEPS is frame k).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox, QVBoxLayout, QWidget

SUBSTEPS = 16


class Scrubber(QWidget):
    """``position_changed(s)`` fires on every slider move (while dragging too) and playback tick."""

    position_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._frames = 1
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setTracking(True)  # valueChanged while the handle is dragged, not only on release
        self.slider.setToolTip("drag to walk along the path; ticks mark the frames that are exported")
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.loop = QCheckBox("Loop")
        self.loop.setChecked(True)
        self.fps = QSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(12)
        self.fps.setSuffix(" fps")
        self.fps.setToolTip("playback speed, and the GIF's frame rate")
        self.where = QLabel("")
        self.where.setMinimumWidth(150)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.slider.valueChanged.connect(self._on_value)
        self.play_button.toggled.connect(self._toggle_play)
        self.fps.valueChanged.connect(lambda fps: self.timer.setInterval(round(1000 / fps)))
        self.timer.setInterval(round(1000 / self.fps.value()))
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.loop)
        controls.addWidget(self.fps)
        controls.addStretch(1)
        controls.addWidget(self.where)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider)
        layout.addLayout(controls)
        self.set_frames(1)

    def moving(self) -> bool:
        """True while the handle is held or the walk plays: positions then come many a second."""
        return self.slider.isSliderDown() or self.timer.isActive()

    def position(self) -> float:
        maximum = self.slider.maximum()
        return self.slider.value() / maximum if maximum else 0.0

    def frame(self) -> int | None:
        """The frame the slider sits exactly on, or None between frames."""
        value = self.slider.value()
        return value // SUBSTEPS if value % SUBSTEPS == 0 else None

    def set_frames(self, frames: int) -> None:
        """Re-space the slider for ``frames`` frames, keeping s as near as the new grid allows."""
        s = self.position()
        self._frames = max(frames, 1)
        maximum = (self._frames - 1) * SUBSTEPS
        self.slider.blockSignals(True)
        self.slider.setRange(0, maximum)
        self.slider.setTickInterval(SUBSTEPS)
        self.slider.setSingleStep(1)
        self.slider.setPageStep(SUBSTEPS)
        self.slider.setValue(round(s * maximum))
        self.slider.blockSignals(False)
        self.slider.setEnabled(maximum > 0)
        self._update_label()

    def stop(self) -> None:
        self.play_button.setChecked(False)

    def _toggle_play(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        if not playing:
            self.timer.stop()
            return
        if self.slider.value() >= self.slider.maximum():
            self.slider.setValue(0)  # Play at the end starts over
        self.timer.start()

    def _tick(self) -> None:
        next_value = (self.slider.value() // SUBSTEPS + 1) * SUBSTEPS  # the next frame
        if next_value > self.slider.maximum():
            if not self.loop.isChecked():
                self.stop()
                return
            next_value = 0
        self.slider.setValue(next_value)

    def _on_value(self, value: int) -> None:
        self._update_label()
        self.position_changed.emit(self.position())

    def _update_label(self) -> None:
        frame = self.frame()
        at = f"frame {frame + 1}/{self._frames}" if frame is not None else f"between frames of {self._frames}"
        self.where.setText(f"s = {self.position():.3f}   {at}")

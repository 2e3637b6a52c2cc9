"""The chosen trajectory: what it is (class, period, Lyapunov exponent, fixed point) and a
filmstrip of Gen(z(t)) along it, one captioned frame per chosen step."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from studio.ml.analysis.closed_loop import KIND_COLOURS
from studio.ui.image_view import to_qimage
from studio.ml.analysis.dynamics import Orbit

FRAME_PIXELS = 64  # frames are enlarged by a whole factor to about this size: crisp pixels


def to_pixmap(image: np.ndarray, pixels: int = FRAME_PIXELS) -> QPixmap:
    """uint8 (C, H, W), C = 1 or 3 -> a pixmap enlarged by a whole factor (nearest neighbour)."""
    _, height, width = image.shape
    factor = max(1, pixels // max(width, height))
    return QPixmap.fromImage(to_qimage(image)).scaled(width * factor, height * factor, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.FastTransformation)


def describe(index: int, label: str, orbit: Orbit | None) -> str:
    """One line of rich text about a trajectory."""
    if orbit is None:
        return f"<b>#{index}</b> ({label}): not classified"
    colour = KIND_COLOURS.get(orbit.kind, "#999999")
    parts = [f"<b>#{index}</b> ({label}): <b style='color:{colour}'>{orbit.kind}</b>"]
    if orbit.period is not None and orbit.period > 1:
        parts.append(f"period {orbit.period}")
    lle = "not computed" if math.isnan(orbit.lyapunov) else f"{orbit.lyapunov:+.3f} per step"
    parts.append(f"LLE {lle}")
    fp = orbit.fixed_point
    if fp is not None:
        stability = "stable" if fp.stable else "unstable"
        parts.append(f"spectral radius {fp.spectral_radius:.3f} ({stability}), residual {fp.residual:.1e}")
    return ", ".join(parts)


class Filmstrip(QWidget):
    """A caption line and a scrollable row of frames with their step numbers."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.caption = QLabel("Click a trajectory in the phase plot")
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.frames = QWidget()
        self.grid = QGridLayout(self.frames)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(3)
        self.grid.setVerticalSpacing(0)
        self.steps: list[int] = []
        self.images: np.ndarray | None = None
        scroll = QScrollArea()
        scroll.setWidget(self.frames)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setMinimumHeight(FRAME_PIXELS + 44)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(scroll, 1)

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)

    def show_frames(self, images: np.ndarray, steps: list[int]) -> None:
        """``images`` uint8 (N, C, H, W), drawn at ``steps``."""
        self.clear_frames()
        self.images, self.steps = images, list(steps)
        for column, (image, step) in enumerate(zip(images, steps)):
            picture = QLabel()
            picture.setPixmap(to_pixmap(image))
            number = QLabel(f"t={step}")
            number.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.grid.addWidget(picture, 0, column)
            self.grid.addWidget(number, 1, column)
        self.grid.setColumnStretch(len(steps), 1)  # frames stay packed on the left

    def clear_frames(self) -> None:
        while self.grid.count():
            widget = self.grid.takeAt(0).widget()
            if widget is not None:
                widget.setParent(None)  # gone now: deleteLater alone leaves it painted until the next loop
                widget.deleteLater()
        self.images, self.steps = None, []

"""uint8 image -> pixmap, shown crisp (nearest neighbour) and as large as the widget allows.

Shared by every panel that shows generated images: small samples must keep square pixels.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy


def to_qimage(image) -> QImage:
    """uint8 HW, HWC or CHW (1 or 3 channels; numpy or torch) -> a QImage owning a copy of the
    pixels. CHW is what the models produce, HWC what grids and files hold."""
    image = np.asarray(image.numpy() if hasattr(image, "numpy") else image)
    if image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[2] not in (1, 3):
        image = image.transpose(1, 2, 0)
    image = np.ascontiguousarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = np.ascontiguousarray(image[:, :, 0])
    h, w = image.shape[:2]
    if image.ndim == 2:
        return QImage(image.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QImage(image.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class ImageView(QLabel):
    """One image as large as fits, enlarged by whole factors so small samples keep square pixels;
    ``placeholder`` text while it has none."""

    def __init__(self, placeholder: str = "", minimum: int = 160, parent=None):
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._placeholder = placeholder
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setMinimumSize(minimum, minimum)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setStyleSheet("background: #202020; color: #b0b0b0; padding: 6px;")
        self.setText(placeholder)

    @property
    def has_image(self) -> bool:
        return self._pixmap is not None

    def set_image(self, image) -> None:
        """uint8 HW, HWC or CHW (numpy or torch), or None for the placeholder."""
        self._pixmap = QPixmap.fromImage(to_qimage(image)) if image is not None else None
        if self._pixmap is None:
            self.clear()
            self.setText(self._placeholder)
        self._rescale()

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        if self._pixmap is None:
            self.setText(text)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pixmap is None:
            return  # keep the placeholder text
        w, h = self._pixmap.width(), self._pixmap.height()
        room = self.contentsRect()
        factor = min(room.width() / w, room.height() / h)
        factor = int(factor) if factor >= 1 else factor  # whole factors keep pixels square
        size = self._pixmap.size() * max(factor, 0.1)
        # enlarged: sharp square pixels; shrunk (a big grid): averaged, or thin gutters flicker
        mode = Qt.TransformationMode.FastTransformation if factor >= 1 else Qt.TransformationMode.SmoothTransformation
        super().setPixmap(self._pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, mode))

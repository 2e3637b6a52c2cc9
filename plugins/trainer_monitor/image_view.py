"""numpy image -> pixmap, shown crisp (nearest neighbour) and as large as the widget allows."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy


def to_qimage(image: np.ndarray) -> QImage:
    """HWC or HW uint8 (1 or 3 channels) -> a QImage owning a copy of the pixels."""
    image = np.ascontiguousarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = np.ascontiguousarray(image[:, :, 0])
    h, w = image.shape[:2]
    if image.ndim == 2:
        return QImage(image.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QImage(image.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class ImageView(QLabel):
    """Scales its image by whole factors so small samples keep sharp pixels."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setStyleSheet("background: #202020; color: #aaaaaa;")

    def set_image(self, image: np.ndarray | None) -> None:
        self._pixmap = QPixmap.fromImage(to_qimage(image)) if image is not None else None
        if self._pixmap is None:
            self.clear()
        self._rescale()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pixmap is None:
            return  # keep the placeholder text
        w, h = self._pixmap.width(), self._pixmap.height()
        factor = min(self.width() / w, self.height() / h)
        factor = int(factor) if factor >= 2 else factor  # whole factors keep pixels square when enlarging
        size = self._pixmap.size() * max(factor, 0.1)
        super().setPixmap(self._pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                              Qt.TransformationMode.FastTransformation))

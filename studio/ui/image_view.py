"""uint8 image -> pixmap, shown crisp (nearest neighbour) and as large as the widget allows.

Shared by every panel that shows generated images: small samples must keep square pixels.
Views compared side by side share a ``scale_group``: a lone view enlarges by the largest whole
factor that fits it, so two views a pixel apart in width could draw the same 32 px image at 5x
and 4x; views of one group all use the largest factor every one of them fits.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget


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
    ``placeholder`` text while it has none. Views given the same ``scale_group`` (a list they
    share) are drawn at one factor."""

    def __init__(self, placeholder: str = "", minimum: int = 160, parent=None,
                 scale_group: list[ImageView] | None = None):
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._placeholder = placeholder
        self._group = scale_group if scale_group is not None else [self]
        if scale_group is not None:
            scale_group.append(self)
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

    def _fit(self) -> float | None:
        """The largest factor this view's image fits at (None without an image)."""
        if self._pixmap is None:
            return None
        room = self.contentsRect()
        return min(room.width() / self._pixmap.width(), room.height() / self._pixmap.height())

    def _rescale(self) -> None:
        fits = [fit for view in self._group if (fit := view._fit()) is not None]
        if not fits:
            return  # keep the placeholder text
        factor = min(fits)
        factor = int(factor) if factor >= 1 else factor  # whole factors keep pixels square
        for view in self._group:
            view._draw(factor)

    def _draw(self, factor: float) -> None:
        if self._pixmap is None:
            return
        size = self._pixmap.size() * max(factor, 0.1)
        # enlarged: sharp square pixels; shrunk (a big grid): averaged, or thin gutters flicker
        mode = Qt.TransformationMode.FastTransformation if factor >= 1 else Qt.TransformationMode.SmoothTransformation
        super().setPixmap(self._pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, mode))


def image_columns(parent: QWidget, titles: list[str], views: list[QWidget]) -> list[QLabel]:
    """Lay ``views`` out side by side in ``parent``, a bold title above each and a selectable,
    wrapping caption below; returns the captions."""
    captions = [QLabel() for _ in views]
    grid = QGridLayout(parent)
    grid.setContentsMargins(0, 0, 0, 0)
    for column, (title, view, caption) in enumerate(zip(titles, views, captions)):
        grid.addWidget(QLabel(f"<b>{title}</b>"), 0, column, Qt.AlignmentFlag.AlignHCenter)
        grid.addWidget(view, 1, column)
        caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        caption.setWordWrap(True)
        caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(caption, 2, column)
        grid.setColumnStretch(column, 1)
    grid.setRowStretch(1, 1)
    return captions

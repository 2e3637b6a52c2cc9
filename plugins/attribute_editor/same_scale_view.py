"""Image views compared side by side, drawn at one size.

A lone ImageView enlarges by the largest whole factor that fits it, so two views a pixel apart
in width can draw the same 32 px image at 5x and 4x: compared images would look different in
size. Views of one group enlarge by the largest factor every one of them fits.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from studio.ui.image_view import ImageView


class SameScaleView(ImageView):
    """An ImageView of ``group`` (a list the views share; each adds itself)."""

    def __init__(self, group: list[SameScaleView], placeholder: str = "", minimum: int = 160, parent=None):
        super().__init__(placeholder, minimum, parent)
        self.group = group
        group.append(self)

    def _rescale(self) -> None:  # ImageView calls this on a new image and on a resize
        factor = self._common_factor()
        for view in self.group:
            view._draw(factor)

    def _fit(self) -> float | None:
        if self._pixmap is None:
            return None
        room = self.contentsRect()
        return min(room.width() / self._pixmap.width(), room.height() / self._pixmap.height())

    def _common_factor(self) -> float | None:
        fits = [fit for view in self.group if (fit := view._fit()) is not None]
        if not fits:
            return None
        factor = min(fits)
        return int(factor) if factor >= 1 else factor  # whole factors keep pixels square

    def _draw(self, factor: float | None) -> None:
        if self._pixmap is None or factor is None:
            return
        mode = Qt.TransformationMode.FastTransformation if factor >= 1 else Qt.TransformationMode.SmoothTransformation
        scaled = self._pixmap.scaled(self._pixmap.size() * max(factor, 0.1), Qt.AspectRatioMode.KeepAspectRatio, mode)
        QLabel.setPixmap(self, scaled)

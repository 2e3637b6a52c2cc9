"""The same edit by the three methods side by side: linear, warped and curvilinear directions of
one generator, from the same start z. Each method's sliders are matched to the edited model's by
the factor they move (factors.json) where both know it, else by index."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from studio.ml.training.directions_params import METHODS
from studio.ui.image_view import ImageView

VIEW_PIXELS = 128
MISSING = ("no {method} model of this generator is loaded: train one (Latent directions, method {method}, "
           "same generator) or Load… its checkpoint")


class MethodCompareView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.models: dict[str, str | None] = {method: None for method in METHODS}
        self.images: dict[str, object] = {method: None for method in METHODS}  # uint8 (C, H, W) on show
        group: list[ImageView] = []
        self.views = {method: ImageView("", VIEW_PIXELS, scale_group=group) for method in METHODS}
        self.titles = {method: QLabel() for method in METHODS}
        self.captions = {method: QLabel() for method in METHODS}
        grid = QGridLayout(self)
        for column, method in enumerate(METHODS):
            self.titles[method].setAlignment(Qt.AlignmentFlag.AlignHCenter)
            caption = self.captions[method]
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            caption.setWordWrap(True)
            caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(self.titles[method], 0, column)
            grid.addWidget(self.views[method], 1, column)
            grid.addWidget(caption, 2, column)
            grid.setColumnStretch(column, 1)
        grid.setRowStretch(1, 1)
        self.set_models({})

    def set_models(self, models: dict[str, str | None], current: str = "") -> None:
        """Per method the model shown (None: a placeholder says how to get one)."""
        for method in METHODS:
            name = models.get(method)
            if name != self.models.get(method) or name is None:
                self.views[method].set_image(None)
                self.images[method] = None
                self.captions[method].setText("")
            self.models[method] = name
            mark = " (edited)" if name and name == current else ""
            self.titles[method].setText(f"<b>{method}</b>{mark}")
            self.titles[method].setToolTip(name or "")
            self.views[method].set_placeholder(MISSING.format(method=method) if name is None else "drawing…")

    def show_image(self, method: str, image, caption: str) -> None:
        self.images[method] = image
        self.views[method].set_image(image)
        self.captions[method].setText(caption)

    def show_failure(self, method: str, message: str) -> None:
        self.images[method] = None
        self.views[method].set_image(None)
        self.captions[method].setText(f"<span style='color:#b00020'>{message}</span>")

    def filled(self) -> list[str]:
        """The methods with an image on show."""
        return [method for method in METHODS if self.views[method].has_image]

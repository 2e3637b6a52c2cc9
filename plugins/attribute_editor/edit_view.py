"""The unedited and the edited image side by side, each enlarged with square pixels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from studio_plugins.attribute_editor.same_scale_view import SameScaleView

VIEW_PIXELS = 200  # smallest side of each view: a 32 px image at 6x


class EditView(QWidget):
    def __init__(self, placeholder: str, parent: QWidget | None = None):
        super().__init__(parent)
        group: list[SameScaleView] = []  # start and edit at one size
        self.start = SameScaleView(group, placeholder, VIEW_PIXELS)
        self.edited = SameScaleView(group, "", VIEW_PIXELS)
        self.start_caption, self.edited_caption = QLabel(), QLabel()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for column, (title, view, caption) in enumerate((("Start", self.start, self.start_caption),
                                                        ("Edited", self.edited, self.edited_caption))):
            grid.addWidget(QLabel(f"<b>{title}</b>"), 0, column, Qt.AlignmentFlag.AlignHCenter)
            grid.addWidget(view, 1, column)
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            caption.setWordWrap(True)
            caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(caption, 2, column)
            grid.setColumnStretch(column, 1)
        grid.setRowStretch(1, 1)

    def show_start(self, image, caption: str) -> None:
        self.start.set_image(image)
        self.start_caption.setText(caption)

    def show_edited(self, image, caption: str) -> None:
        self.edited.set_image(image)
        self.edited_caption.setText(caption)

    def clear(self, placeholder: str) -> None:
        self.start.set_placeholder(placeholder)
        self.start.set_image(None)
        self.edited.set_image(None)
        self.start_caption.setText("")
        self.edited_caption.setText("")

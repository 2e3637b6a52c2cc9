"""The unedited and the edited image side by side, each enlarged with square pixels."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from studio.ui.image_view import ImageView, image_columns

VIEW_PIXELS = 200  # smallest side of each view: a 32 px image at 6x


class EditView(QWidget):
    def __init__(self, placeholder: str, parent: QWidget | None = None):
        super().__init__(parent)
        group: list[ImageView] = []  # start and edit at one size
        self.start = ImageView(placeholder, VIEW_PIXELS, scale_group=group)
        self.edited = ImageView("", VIEW_PIXELS, scale_group=group)
        self.start_caption, self.edited_caption = image_columns(self, ["Start", "Edited"], [self.start, self.edited])

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

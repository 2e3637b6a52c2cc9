"""Input, output, target and |difference| side by side, each enlarged with square pixels, with the
MSE (and for the colour-grid probe how well colours stayed in their channels) underneath."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from studio.ui.image_view import ImageView, image_columns
from studio_plugins.switchboard.work import DIFF_GAIN, Translation

VIEW_PIXELS = 140  # smallest side of each view: a 64 px image at 2x


class ComparisonView(QWidget):
    def __init__(self, placeholder: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.input = ImageView(placeholder, VIEW_PIXELS)
        self.output = ImageView("", VIEW_PIXELS)
        self.target = ImageView("", VIEW_PIXELS)
        self.difference = ImageView("", VIEW_PIXELS)
        titles = ("Input", "Output", "Target", f"|output − target| × {DIFF_GAIN}")
        views = (self.input, self.output, self.target, self.difference)
        self.captions = image_columns(self, list(titles), list(views))
        self.input_caption, self.output_caption, self.target_caption, self.difference_caption = self.captions
        self.output_caption.setToolTip("colour separation (colour-grid probe): the share of each cell's light in "
                                       "the channel the probe kept there; 1: no mixing, 0.33: spread evenly")

    def show_input(self, image, caption: str, target=None) -> None:
        """The input and its target (None: a dropped image has no target); the output waits."""
        self.input.set_image(image)
        self.input_caption.setText(caption)
        self.target.set_image(target)
        self.target.set_placeholder("" if target is not None else "no target")
        self.target_caption.setText("" if target is not None else "no target: no difference, no MSE")

    def show_translation(self, result: Translation, mask: str) -> None:
        self.output.set_image(result.output)
        caption = f"latents: {mask}"
        if result.separation is not None:
            share = result.separation
            caption += f"<br>colour separation: mean {float(share.mean()):.2f}, min cell {float(share.min()):.2f}"
        self.output_caption.setText(caption)
        self.difference.set_image(result.difference)
        self.difference_caption.setText(f"MSE {result.mse:.4f} <span style='color:#777'>(pixels in [0, 1])</span>"
                                        if result.mse is not None else "")

    def clear(self, placeholder: str) -> None:
        self.input.set_placeholder(placeholder)
        self.target.set_placeholder("")
        for view in (self.input, self.output, self.target, self.difference):
            view.set_image(None)
        for caption in self.captions:
            caption.setText("")

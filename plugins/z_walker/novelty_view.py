"""Is this image novel? The shown image beside its nearest training image, with the distance
set against how far training images lie from each other."""

from __future__ import annotations

import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from studio.ml.analysis.novelty import DistanceSummary
from studio.ui.image_view import ImageView

UNITS = "RMS pixel difference, pixels in [0, 1]"


def verdict(distance: float, index: int, typical: DistanceSummary) -> str:
    """A plain reading of ``distance`` to training image ``index`` against the training set's own
    nearest-neighbour spread (its 10th and 90th percentiles)."""
    if typical.sampled == 0:
        return ""
    if distance <= typical.p10:
        return f"closer than 90% of training images are to their nearest neighbour: a copy of #{index}?"
    if distance <= typical.p90:
        return "about as close as training images are to each other"
    return "farther than 90% of training images are from their nearest neighbour: novel (or off the data)"


class NoveltyView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.generated = ImageView("the image on the path", minimum=80)
        self.nearest = ImageView("its nearest training image", minimum=80)
        self.generated_caption = QLabel("generated")
        self.nearest_caption = QLabel("nearest training image")
        self.distance = QLabel("")
        self.distance.setWordWrap(True)
        self.distance.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.distance.setToolTip(f"distance: {UNITS}")
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.generated, 0, 0)
        layout.addWidget(self.nearest, 0, 1)
        layout.addWidget(self.generated_caption, 1, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.nearest_caption, 1, 1, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.distance, 2, 0, 1, 2)
        layout.setRowStretch(0, 1)
        self._typical: DistanceSummary | None = None
        self.set_status("no training images yet: they load with the model")

    def set_status(self, text: str) -> None:
        """Nothing to compare with (no model, training images loading or unknown)."""
        self._typical = None
        self.nearest.set_image(None)
        self.nearest.set_placeholder(text)
        self.nearest_caption.setText("nearest training image")
        self.distance.setText("")

    def set_typical(self, typical: DistanceSummary) -> None:
        self._typical = typical
        self.nearest.set_placeholder("searching…")

    def show_generated(self, image: torch.Tensor | None, caption: str) -> None:
        self.generated.set_image(image)
        self.generated_caption.setText(caption)

    def show_nearest(self, image: torch.Tensor, index: int, distance: float) -> None:
        self.nearest.set_image(image)
        self.nearest_caption.setText(f"nearest training image #{index}")
        text = f"<b>distance {distance:.3f}</b> ({UNITS})"
        typical = self._typical
        if typical is not None and typical.sampled:
            text += (f"<br>training images lie {typical.median:.3f} from their nearest other training image "
                     f"(median; 10–90%: {typical.p10:.3f}–{typical.p90:.3f})"
                     f"<br><i>{verdict(distance, index, typical)}</i>")
        self.distance.setText(text)

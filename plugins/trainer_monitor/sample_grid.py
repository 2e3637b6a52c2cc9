"""The fixed-z sample grid with a slider to step back through earlier grids."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
from superqt import QLabeledSlider

from studio.ui.image_view import ImageView

PLACEHOLDER = "samples of fixed z appear here during training"
MAX_GRIDS = 500  # ~40 MB of 64px RGB grids; older ones are thinned out, not dropped at the end


def draw_seeds(count: int, module, device) -> np.ndarray:
    """Inference-thread request: a generator's images of seeds 0..count-1 as one grid."""
    import torch

    from studio.ml.analysis.latent_paths import seed_latent
    from studio.ml.data.base import to_uint8
    from studio.ml.grid import make_grid

    z = torch.stack([seed_latent(seed, module.nz) for seed in range(count)]).to(device)
    return make_grid(to_uint8(module(z).float().cpu()))


class SampleGridView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._grids: list[tuple[int, np.ndarray]] = []
        self.image = ImageView(PLACEHOLDER)
        self.caption = QLabel("")
        self.slider = QLabeledSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.slider.setToolTip("step back through earlier sample grids")
        self.slider.valueChanged.connect(self._show)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.image, 1)
        layout.addWidget(self.caption)
        layout.addWidget(self.slider)

    @property
    def steps(self) -> list[int]:
        return [step for step, _ in self._grids]

    def clear(self) -> None:
        self._grids.clear()
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.image.set_image(None)  # shows the placeholder again
        self.caption.setText("")

    def add_grid(self, step: int, grid: np.ndarray) -> None:
        following = self.slider.value() == self.slider.maximum()
        if len(self._grids) >= MAX_GRIDS:
            del self._grids[1::2]  # keep the history's span, halve its density
        self._grids.append((step, grid))
        self.slider.setEnabled(len(self._grids) > 1)
        self.slider.setRange(0, len(self._grids) - 1)
        if following:  # the user is not looking back: follow the newest grid
            self.slider.setValue(len(self._grids) - 1)
        self._show(self.slider.value())

    def _show(self, index: int) -> None:
        if not self._grids:
            return
        step, grid = self._grids[index]
        self.image.set_image(grid)
        newest = "" if index == len(self._grids) - 1 else f"  (newest: step {self._grids[-1][0]})"
        self.caption.setText(f"step {step}{newest}")

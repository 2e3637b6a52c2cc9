"""Training images and the path's frames on one PCA map of pixel space (pyqtgraph)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.ml.analysis.path_export import PATH_END, PATH_START  # the same colours as the CLI's pca.png

MAX_TRAINING_POINTS = 4000  # drawn; more add nothing visible and slow every repaint
CURRENT_COLOUR = "#d62728"


class PcaPlot(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)
        self.plot.setMinimumSize(200, 180)
        self.plot.getPlotItem().hideButtons()
        self.training = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(150, 150, 150, 140))
        self.path_line = pg.PlotDataItem(pen=pg.mkPen(80, 80, 80, 160, width=1))
        self.path = pg.ScatterPlotItem(size=7, pen=pg.mkPen("k", width=0.5))
        self.keyframes = pg.ScatterPlotItem(size=15, symbol="s", pen=pg.mkPen("k", width=1.5), brush=None)
        self.current = pg.ScatterPlotItem(size=16, symbol="star", pen=pg.mkPen("k"), brush=pg.mkBrush(CURRENT_COLOUR))
        for item in (self.training, self.path_line, self.path, self.keyframes, self.current):
            self.plot.addItem(item)
        self._labels: list[pg.TextItem] = []
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        self.clear("the PCA map appears once the model's training images are indexed")

    def clear(self, caption: str) -> None:
        for item in (self.training, self.current):
            item.setData([], [])
        self.set_path(None)
        self.caption.setText(caption)

    def set_training(self, xy: np.ndarray, explained: np.ndarray, dataset: str) -> None:
        shown = xy
        if len(xy) > MAX_TRAINING_POINTS:
            pick = np.random.default_rng(0).choice(len(xy), MAX_TRAINING_POINTS, replace=False)
            shown = xy[np.sort(pick)]
        self.training.setData(shown[:, 0], shown[:, 1])
        self.plot.setLabel("bottom", f"PC 1 ({explained[0]:.0%} of pixel variance)")
        self.plot.setLabel("left", f"PC 2 ({explained[1]:.0%})")
        drawn = f"{len(shown)} of {len(xy)}" if len(shown) < len(xy) else f"all {len(xy)}"
        self.caption.setText(f"gray: {drawn} {dataset} training images · dots: the path's frames, blue to "
                             f"orange · squares: keyframes · star: the image shown")

    def set_path(self, xy: np.ndarray | None, keyframe_xy: np.ndarray | None = None) -> None:
        for label in self._labels:
            self.plot.removeItem(label)
        self._labels = []
        if xy is None or len(xy) == 0:
            for item in (self.path, self.path_line, self.keyframes):
                item.setData([], [])
            return
        fraction = np.linspace(0, 1, len(xy))[:, None]
        start, end = np.array(PATH_START), np.array(PATH_END)
        colours = (start + (end - start) * fraction).astype(int)
        self.path.setData(xy[:, 0], xy[:, 1], brush=[pg.mkBrush(*c) for c in colours])
        self.path_line.setData(xy[:, 0], xy[:, 1])
        keys = keyframe_xy if keyframe_xy is not None else np.zeros((0, 2))
        self.keyframes.setData(keys[:, 0], keys[:, 1])
        for number, (x, y) in enumerate(keys, start=1):
            label = pg.TextItem(str(number), color="k", anchor=(-0.3, 1.1))
            label.setPos(float(x), float(y))
            self.plot.addItem(label)
            self._labels.append(label)

    def set_current(self, xy: np.ndarray | None) -> None:
        if xy is None:
            self.current.setData([], [])
        else:
            self.current.setData([float(xy[0])], [float(xy[1])])

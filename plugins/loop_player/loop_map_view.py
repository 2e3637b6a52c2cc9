"""Seed paper 002's figure 8, live: training loops (rings) and generated loops (dots, coloured by
their nearest training loop) on one PCA plane. Click a dot to play that loop."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from studio.ml.audio.compare import LOOP_PALETTE  # the CLI's map.png colours
from studio_plugins.loop_player.work import Comparison

MANY = "#1f77b4"  # every generated dot, when there are more training loops than colours
DROPPED = "#d62728"


class LoopMapView(QWidget):
    generated_clicked = Signal(int)  # the seed of the loop clicked
    build_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)
        self.plot.getPlotItem().hideButtons()
        self.plot.setMinimumSize(240, 200)
        self.training = pg.ScatterPlotItem(size=16, pen=pg.mkPen("k", width=2), brush=None)
        self.generated = pg.ScatterPlotItem(size=8, pen=None, hoverable=True)
        self.dropped = pg.ScatterPlotItem(size=18, symbol="star", pen=pg.mkPen("k"), brush=pg.mkBrush(DROPPED))
        for item in (self.generated, self.training, self.dropped):
            self.plot.addItem(item)
        self.generated.sigClicked.connect(self._on_click)
        self.build = QPushButton("Map against the training loops")
        self.build.setToolTip("Generate 100 loops and place them with the training loops on one PCA plane "
                              "(seed paper 002, figure 8)")
        self.build.clicked.connect(self.build_clicked)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.build)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        self._labels: list[pg.TextItem] = []
        self._seeds = np.zeros(0, dtype=int)
        self._summary = ""
        self.clear()

    def clear(self, caption: str = "Map a model to see its generated loops among the training loops.") -> None:
        for item in (self.training, self.generated, self.dropped):
            item.setData([], [])
        for label in self._labels:
            self.plot.removeItem(label)
        self._labels = []
        self.caption.setText(caption)

    def show_comparison(self, comparison: Comparison) -> None:
        self.clear()
        found = comparison.map
        coloured = len(found.training_xy) <= len(LOOP_PALETTE)
        colours = [LOOP_PALETTE[i] if coloured else MANY for i in found.nearest.index]
        self._seeds = comparison.generated_seeds
        self.generated.setData(found.generated_xy[:, 0], found.generated_xy[:, 1], data=list(self._seeds),
                               brush=[pg.mkBrush(c) for c in colours])
        if coloured:  # a few training loops, as seed 002's four: big rings in their colours
            rings = [pg.mkPen(LOOP_PALETTE[i], width=2) for i in range(len(found.training_xy))]
            self.training.setData(found.training_xy[:, 0], found.training_xy[:, 1], pen=rings, size=16, brush=None)
        else:  # many (1024 sine tones): small gray dots under the generated ones
            self.training.setData(found.training_xy[:, 0], found.training_xy[:, 1], pen=None, size=4,
                                  brush=pg.mkBrush(150, 150, 150, 160))
        for index, (x, y) in enumerate(found.training_xy[: len(LOOP_PALETTE)] if coloured else []):
            label = pg.TextItem(comparison.training_labels[index].split(":")[0], color=LOOP_PALETTE[index],
                                anchor=(-0.15, 1.0))
            label.setPos(float(x), float(y))
            self.plot.addItem(label)
            self._labels.append(label)
        ratio = found.pca.explained_variance_ratio
        self.plot.setLabel("bottom", f"PC 1 ({ratio[0]:.0%})")
        self.plot.setLabel("left", f"PC 2 ({ratio[1]:.0%})")
        closest = int(np.argmin(found.nearest.distance))
        self._summary = (
            f"{len(self._seeds)} generated loops ({'dots coloured by their nearest training loop' if coloured else 'blue'})"
            f" and {len(found.training_xy)} training loops ({'rings' if coloured else 'gray'}). Distance to the "
            "nearest training loop: median "
            f"{np.median(found.nearest.distance):.3f}, least {found.nearest.distance[closest]:.3f} "
            f"(seed {self._seeds[closest]}; 0 would be a copy). Click a dot to play it.")
        self.caption.setText(self._summary)

    def show_dropped(self, xy: np.ndarray, text: str) -> None:
        """A dropped file's place (a red star) and what it is nearest to."""
        self.dropped.setData([float(xy[0])], [float(xy[1])])
        self.caption.setText(f"{self._summary}\nStar: {text}")

    def _on_click(self, _item, points, *_) -> None:
        if len(points):
            self.generated_clicked.emit(int(points[0].data()))

"""Live loss curves: raw values faint, bias-corrected EMA bold, smoothing weight on a slider."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget
from superqt import QLabeledDoubleSlider

from studio.ml.smoothing import DebiasedEMA

COLOURS = ["#e6550d", "#3182bd", "#31a354", "#756bb1", "#636363", "#d6616b"]


@dataclass
class _Series:
    raw_item: pg.PlotDataItem
    smooth_item: pg.PlotDataItem
    ema: DebiasedEMA
    steps: list[int] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    smooth: list[float] = field(default_factory=list)

    def append(self, step: int, value: float) -> None:
        self.steps.append(step)
        self.raw.append(value)
        self.smooth.append(self.ema.update(value))

    def resmooth(self, weight: float) -> None:
        self.ema = DebiasedEMA(weight)
        self.smooth = [self.ema.update(v) for v in self.raw]

    def redraw(self) -> None:
        x = np.asarray(self.steps, dtype=np.float64)
        self.raw_item.setData(x, np.asarray(self.raw, dtype=np.float64))
        self.smooth_item.setData(x, np.asarray(self.smooth, dtype=np.float64))


class LossPlot(QWidget):
    """Plots every metric whose name starts with ``prefix`` (loss_G, loss_D, ...)."""

    def __init__(self, prefix: str = "loss_", smoothing: float = 0.9, parent=None):
        super().__init__(parent)
        self.prefix = prefix
        self.series: dict[str, _Series] = {}
        self.plot = pg.PlotWidget(background="w")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "loss")
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.smoothing = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0.0, 0.999)
        self.smoothing.setDecimals(3)
        self.smoothing.setValue(smoothing)
        self.smoothing.setToolTip("weight of the exponential moving average (bias-corrected)")
        self.smoothing.valueChanged.connect(self._resmooth)

        row = QHBoxLayout()
        row.addWidget(QLabel("Smoothing"))
        row.addWidget(self.smoothing, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addLayout(row)

    def clear(self) -> None:
        for series in self.series.values():
            self.plot.removeItem(series.raw_item)
            self.plot.removeItem(series.smooth_item)
        self.legend.clear()
        self.series.clear()

    def add_records(self, records: list[dict]) -> None:
        """Append metric records ({"step": int, "loss_G": float, ...}) and redraw once."""
        touched = set()
        for record in records:
            for key, value in record.items():
                if key.startswith(self.prefix) and isinstance(value, (int, float)):
                    self._series(key).append(record["step"], float(value))
                    touched.add(key)
        for key in touched:
            self.series[key].redraw()

    def _series(self, key: str) -> _Series:
        if key not in self.series:
            colour = COLOURS[len(self.series) % len(COLOURS)]
            faint = pg.mkColor(colour)
            faint.setAlpha(70)
            raw = self.plot.plot(pen=pg.mkPen(faint, width=1))
            smooth = self.plot.plot(pen=pg.mkPen(colour, width=2.5), name=key.removeprefix(self.prefix))
            for item in (raw, smooth):
                item.setDownsampling(auto=True, method="peak")
                item.setClipToView(True)
            self.series[key] = _Series(raw, smooth, DebiasedEMA(self.smoothing.value()))
        return self.series[key]

    def _resmooth(self, weight: float) -> None:
        for series in self.series.values():
            series.resmooth(weight)
            series.redraw()

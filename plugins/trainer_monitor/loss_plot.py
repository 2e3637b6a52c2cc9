"""Live loss curves: raw values faint, bias-corrected EMA bold, smoothing weight on a slider."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget
from superqt import QLabeledDoubleSlider

from studio.ml.smoothing import DebiasedEMA

# Curves are redrawn at most this often. A repaint costs the UI thread a few ms, and on a 2-core
# machine every ms of it is taken from training; 2 redraws/s still look live.
REDRAW_MS = 500
COLOURS = ["#e6550d", "#3182bd", "#31a354", "#756bb1", "#636363", "#d6616b"]


class _Column:
    """A float64 array that grows by doubling: appending is O(1) and ``values`` is a view, so a
    redraw never converts the whole history again."""

    def __init__(self, capacity: int = 1024):
        self._data = np.empty(capacity, dtype=np.float64)
        self._n = 0

    def append(self, value: float) -> None:
        if self._n == len(self._data):
            self._data = np.concatenate([self._data, np.empty_like(self._data)])
        self._data[self._n] = value
        self._n += 1

    @property
    def values(self) -> np.ndarray:
        return self._data[: self._n]


@dataclass
class _Series:
    raw_item: pg.PlotDataItem
    smooth_item: pg.PlotDataItem
    ema: DebiasedEMA
    _steps: _Column = field(default_factory=_Column)
    _raw: _Column = field(default_factory=_Column)
    _smooth: _Column = field(default_factory=_Column)

    @property
    def steps(self) -> np.ndarray:
        return self._steps.values

    @property
    def raw(self) -> np.ndarray:
        return self._raw.values

    @property
    def smooth(self) -> np.ndarray:
        return self._smooth.values

    def append(self, step: int, value: float) -> None:
        self._steps.append(step)
        self._raw.append(value)
        self._smooth.append(self.ema.update(value))

    def resmooth(self, weight: float) -> None:
        self.ema = DebiasedEMA(weight)
        self._smooth = _Column(len(self.raw) + 1024)
        for value in self.raw:
            self._smooth.append(self.ema.update(value))

    def redraw(self) -> None:
        self.raw_item.setData(self.steps, self.raw)
        self.smooth_item.setData(self.steps, self.smooth)


class LossPlot(QWidget):
    """Plots every metric whose name starts with ``prefix`` (loss_G, loss_D, ...)."""

    def __init__(self, prefix: str = "loss_", smoothing: float = 0.9, parent=None):
        super().__init__(parent)
        self.prefix = prefix
        self.series: dict[str, _Series] = {}
        self._stale: set[str] = set()  # series with points not drawn yet
        self._redraw_timer = QTimer(self, singleShot=True, interval=REDRAW_MS, timeout=self.flush)
        self.plot = pg.PlotWidget(background="w")
        # a GridItem, not showGrid(): the axes' own grid costs ~25 ms per repaint (measured), the
        # whole budget of a frame, and on 2 cores every repaint is taken from training
        grid = pg.GridItem()
        grid.setTextPen(None)
        self.plot.addItem(grid)
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
        self._redraw_timer.stop()
        self._stale.clear()
        for series in self.series.values():
            self.plot.removeItem(series.raw_item)
            self.plot.removeItem(series.smooth_item)
        self.legend.clear()
        self.series.clear()

    def add_records(self, records: list[dict]) -> None:
        """Append metric records ({"step": int, "loss_G": float, ...}); the curves are redrawn
        at most every ``REDRAW_MS``."""
        for record in records:
            for key, value in record.items():
                if key.startswith(self.prefix) and isinstance(value, (int, float)):
                    self._series(key).append(record["step"], float(value))
                    self._stale.add(key)
        if self._stale and not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def flush(self) -> None:
        """Redraw the curves that have new points now."""
        self._redraw_timer.stop()
        for key in self._stale:
            self.series[key].redraw()
        self._stale.clear()

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

"""The return map: one coordinate at step t against step t + 1, every trajectory as dots coloured
by class, the chosen one joined by a line. A fixed point sits on the diagonal, a cycle of period p
shows p dots, chaos a curve-like cloud."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from studio.ml.analysis.closed_loop import KIND_COLOURS
from studio_plugins.phase_plot.phase_view import faint

PCA_CHOICES = 8  # principal components offered before the latent coordinates


def coordinate_name(space: str, index: int) -> str:
    return f"PC {index + 1}" if space == "pca" else f"z[{index}]"


class ReturnMapPlot(QWidget):
    """``coordinate_changed(space, index)`` when the user picks another coordinate; the panel
    then hands in the new values with ``show_values``."""

    coordinate_changed = Signal(str, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.coordinate = QComboBox()
        self.coordinate.setToolTip("the coordinate plotted: a principal component of the visited states, "
                                   "or one latent dimension")
        self.plot = pg.PlotWidget(background="w")
        self.plot.addItem(pg.GridItem(textPen=None))
        self.legend = self.plot.addLegend(offset=(10, 10), labelTextColor="#202020", brush=(255, 255, 255, 220))
        self.legend.hide()  # for exported PNGs only, as the phase plot's
        self.diagonal = pg.PlotDataItem(pen=pg.mkPen("#909090", width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
        # the chosen trajectory as black dots, not joined: a chaotic orbit's joins black out the map
        self.selected = pg.PlotDataItem(pen=None, symbol="o", symbolSize=6, symbolBrush="#000000", symbolPen=None)
        self.selected.setZValue(10)
        self.plot.addItem(self.diagonal)
        self.plot.addItem(self.selected)
        self.dots: dict[str, pg.ScatterPlotItem] = {}
        self.hidden: set[str] = set()
        self.values = np.empty((0, 0))  # (T + 1, B)
        self.kinds: list[str] = []
        self.selected_index: int | None = None
        self.choices: list[tuple[str, int]] = []  # (space, index) of each entry of the combo
        self.coordinate.currentIndexChanged.connect(self._on_choice)
        row = QHBoxLayout()
        row.addWidget(QLabel("Return map of"))
        row.addWidget(self.coordinate, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.plot, 1)

    def set_dimensions(self, latent_dim: int) -> None:
        """Offer PC 1.. and z[0]..z[latent_dim - 1], keeping the current choice when it still exists."""
        current = self.current()
        self.choices = [("pca", i) for i in range(min(PCA_CHOICES, latent_dim))]
        self.choices += [("latent", i) for i in range(latent_dim)]
        self.coordinate.blockSignals(True)
        self.coordinate.clear()
        self.coordinate.addItems([coordinate_name(*choice) for choice in self.choices])
        self.coordinate.setCurrentIndex(self.choices.index(current) if current in self.choices else 0)
        self.coordinate.blockSignals(False)

    def choose(self, space: str, index: int) -> None:
        """Show the return map of principal component (``"pca"``) or latent ``index``."""
        self.coordinate.setCurrentIndex(self.choices.index((space, index)))

    def current(self) -> tuple[str, int]:
        row = self.coordinate.currentIndex()
        return self.choices[row] if 0 <= row < len(self.choices) else ("pca", 0)

    def show_values(self, values: np.ndarray, kinds: list[str]) -> None:
        """``values`` (T + 1, B): the chosen coordinate along every trajectory."""
        self.clear()
        self.values, self.kinds = values, kinds or ["unclassified"] * values.shape[1]
        for kind in dict.fromkeys(self.kinds):
            members = [b for b, k in enumerate(self.kinds) if k == kind]
            x, x_next = values[:-1, members].ravel(), values[1:, members].ravel()
            finite = np.isfinite(x) & np.isfinite(x_next)  # a diverged trajectory ends in inf or NaN
            colour = faint(KIND_COLOURS.get(kind, "#999999"))
            dots = pg.ScatterPlotItem(x[finite], x_next[finite], size=4, pen=None, brush=colour,
                                      name=f"{kind} ({len(members)})")
            dots.setVisible(kind not in self.hidden)
            self.plot.addItem(dots)
            self.dots[kind] = dots
        finite = values[np.isfinite(values)]
        if finite.size:
            low, high = float(finite.min()), float(finite.max())
            self.diagonal.setData([low, high], [low, high])
        name = coordinate_name(*self.current())
        self.plot.setLabel("bottom", f"{name} at t")
        self.plot.setLabel("left", f"{name} at t + 1")
        self.select(self.selected_index)
        self.plot.autoRange()

    def select(self, index: int | None) -> None:
        self.selected_index = index
        if index is None or not len(self.kinds):
            self.selected.setData([], [])
            return
        self.selected.setData(self.values[:-1, index], self.values[1:, index])

    def set_kind_visible(self, kind: str, shown: bool) -> None:
        (self.hidden.discard if shown else self.hidden.add)(kind)
        if kind in self.dots:
            self.dots[kind].setVisible(shown)

    def clear(self) -> None:
        for dots in self.dots.values():
            self.plot.removeItem(dots)
        self.dots.clear()
        self.legend.clear()
        self.diagonal.setData([], [])
        self.selected.setData([], [])
        self.values, self.kinds = np.empty((0, 0)), []

    def _on_choice(self, _index: int) -> None:
        self.coordinate_changed.emit(*self.current())

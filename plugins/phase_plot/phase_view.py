"""The phase plot: every trajectory as a line in the PCA plane, coloured by its class.

One curve per class (trajectories joined with NaN breaks) rather than one per trajectory: a few
items redraw fast, whatever the batch size. Starts are hollow circles, ends filled dots; a click
picks the trajectory whose drawn segment passes nearest, within PICK_PIXELS.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from studio.ml.analysis.closed_loop import KIND_COLOURS

PICK_PIXELS = 12  # a click this close to a trajectory's line picks it
LINE_ALPHA = 110  # of 255: where hundreds of trajectories overlap, dense regions read darker


def faint(colour: str, alpha: int = LINE_ALPHA):
    faded = pg.mkColor(colour)
    faded.setAlpha(alpha)
    return faded


def joined(paths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, n, 2) paths -> x, y of one polyline with a NaN break after each path (connect="finite")."""
    breaks = np.full((1, paths.shape[1], 2), np.nan)
    flat = np.concatenate([paths, breaks]).transpose(1, 0, 2).reshape(-1, 2)
    return flat[:, 0], flat[:, 1]


class PhasePlot(QWidget):
    """``trajectory_picked(index)`` when the user clicks near a trajectory."""

    trajectory_picked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("bottom", "PC 1")
        self.plot.setLabel("left", "PC 2")
        self.plot.addItem(pg.GridItem(textPen=None))
        # the class counts beside the plot are the legend on screen; this one is for exported PNGs
        self.legend = self.plot.addLegend(offset=(-10, 10), labelTextColor="#202020", brush=(255, 255, 255, 220))
        self.legend.hide()
        self.points = np.empty((0, 0, 2))  # (T + 1, B, 2)
        self.kinds: list[str] = []
        self.hidden: set[str] = set()
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.starts = pg.ScatterPlotItem(symbol="o", size=6, pen=pg.mkPen("#404040"), brush=None)
        self.ends = pg.ScatterPlotItem(symbol="o", size=7, pen=pg.mkPen("#202020", width=0.5))
        self.selected_line = pg.PlotDataItem(pen=pg.mkPen("#000000", width=2.5))
        self.selected_ends = pg.ScatterPlotItem(size=11, pen=pg.mkPen("#000000", width=2))
        for item in (self.starts, self.ends, self.selected_line, self.selected_ends):
            self.plot.addItem(item)
        self.selected_line.setZValue(10)
        self.selected_ends.setZValue(11)
        self.selected: int | None = None
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

    def show_trajectories(self, points: np.ndarray, kinds: list[str], variance: np.ndarray) -> None:
        """``points`` (T + 1, B, 2) in the PCA plane, ``kinds`` the class of each trajectory (or
        empty: unclassified), ``variance`` the explained variance ratio of the two components."""
        self.clear()
        self.points, self.kinds = points, kinds or ["unclassified"] * points.shape[1]
        for kind in dict.fromkeys(self.kinds):  # classes in order of first appearance
            members = [b for b, k in enumerate(self.kinds) if k == kind]
            x, y = joined(points[:, members])
            colour = KIND_COLOURS.get(kind, "#999999")
            curve = self.plot.plot(x, y, pen=pg.mkPen(faint(colour), width=1), connect="finite",
                                   name=f"{kind} ({len(members)})")
            curve.setVisible(kind not in self.hidden)
            self.curves[kind] = curve
        self._draw_markers()
        self.plot.setLabel("bottom", f"PC 1 ({100 * variance[0]:.0f}% of variance)")
        if len(variance) > 1:
            self.plot.setLabel("left", f"PC 2 ({100 * variance[1]:.0f}% of variance)")
        self.plot.autoRange()

    def _draw_markers(self) -> None:
        shown = [b for b, kind in enumerate(self.kinds) if kind not in self.hidden]
        if not shown:
            self.starts.clear()
            self.ends.clear()
            return
        self.starts.setData(pos=self.points[0, shown])
        brushes = [pg.mkBrush(KIND_COLOURS.get(self.kinds[b], "#999999")) for b in shown]
        self.ends.setData(pos=self.points[-1, shown], brush=brushes)

    def set_kind_visible(self, kind: str, shown: bool) -> None:
        (self.hidden.discard if shown else self.hidden.add)(kind)
        if kind in self.curves:
            self.curves[kind].setVisible(shown)
        if len(self.kinds):
            self._draw_markers()

    def select(self, index: int | None) -> None:
        """Highlight one trajectory (None: none)."""
        self.selected = index
        if index is None or not len(self.kinds):
            self.selected_line.setData([], [])
            self.selected_ends.clear()
            return
        path = self.points[:, index]
        self.selected_line.setData(path[:, 0], path[:, 1])
        self.selected_ends.setData(pos=path[[0, -1]], symbol=["o", "s"],
                                   brush=[None, pg.mkBrush(KIND_COLOURS.get(self.kinds[index], "#999999"))])

    def clear(self) -> None:
        for curve in self.curves.values():
            self.plot.removeItem(curve)
        self.curves.clear()
        self.legend.clear()
        self.points, self.kinds = np.empty((0, 0, 2)), []
        self.starts.clear()
        self.ends.clear()
        self.select(None)

    # -- picking ------------------------------------------------------------------------------
    def trajectory_near(self, x: float, y: float, pixels: float = PICK_PIXELS) -> int | None:
        """The shown trajectory whose polyline passes nearest to (x, y) in data coordinates, if
        within ``pixels`` screen pixels."""
        shown = [b for b, kind in enumerate(self.kinds) if kind not in self.hidden]
        if not shown or len(self.points) < 2:  # nothing drawn, or no segment yet
            return None
        pixel_w, pixel_h = self.plot.getViewBox().viewPixelSize()
        scale = np.array([pixel_w or 1.0, pixel_h or 1.0])
        paths = self.points[:, shown] / scale  # in pixels, so the distance is what the eye sees
        target = np.array([x, y]) / scale
        distance = segment_distances(paths, target)  # (T, n)
        distance = np.where(np.isfinite(distance), distance, np.inf)
        best = np.unravel_index(np.argmin(distance), distance.shape)
        return shown[best[1]] if distance[best] <= pixels else None

    def _on_click(self, event) -> None:
        if event.button() != 1 or not len(self.kinds):  # left button only
            return
        view = self.plot.getViewBox()
        if not view.sceneBoundingRect().contains(event.scenePos()):
            return
        point = view.mapSceneToView(event.scenePos())
        index = self.trajectory_near(point.x(), point.y())
        if index is not None:
            self.trajectory_picked.emit(index)


def segment_distances(paths: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Distance from ``target`` (2,) to each segment of each path (T + 1, n, 2) -> (T, n)."""
    start, end = paths[:-1], paths[1:]
    along = end - start
    length2 = (along**2).sum(-1)
    t = np.clip(((target - start) * along).sum(-1) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    nearest = start + t[..., None] * along
    return np.sqrt(((nearest - target) ** 2).sum(-1))

"""Write what the panel shows to a folder, with the names ``latent-studio closed-loop`` uses.

The plots are drawn again in widgets of a fixed size that are never shown on screen, then saved
with pyqtgraph's ImageExporter: exporting the panel's own plots would copy the dock's shape (a
flat dock gives a flat figure), and scaling them up enlarges text and markers with them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pyqtgraph.exporters import ImageExporter

from studio.ml.analysis.closed_loop import ClosedLoopResult
from studio.ml.grid import make_grid, save_png
from studio_plugins.phase_plot.phase_view import PhasePlot
from studio_plugins.phase_plot.return_map_view import ReturnMapPlot

FIGURE_SIZE = (1000, 750)  # pixels of phase.png and returnmap.png


def export_run(folder: Path, result: ClosedLoopResult, *, selected: int | None, hidden: set[str],
               coordinate: tuple[str, int], frames: np.ndarray | None, summary: dict) -> list[Path]:
    """phase.png and returnmap.png (as on screen: the same classes hidden, the same trajectory
    highlighted, the same coordinate), filmstrip.png of ``frames`` (if any) and summary.json."""
    folder.mkdir(parents=True, exist_ok=True)
    kinds = [orbit.kind for orbit in result.orbits]
    phase, return_map = PhasePlot(), ReturnMapPlot()
    phase.show_trajectories(result.projected(2), kinds, result.projection.explained_variance_ratio)
    return_map.set_dimensions(result.states.shape[-1])
    return_map.choose(*coordinate)
    return_map.show_values(result.coordinate(coordinate[1], coordinate[0]), kinds)
    for view in (phase, return_map):
        for kind in hidden:
            view.set_kind_visible(kind, False)
        view.select(selected)
        view.legend.show()  # on screen the class counts explain the colours; a file has no counts
    written = [save_plot(phase, phase.plot, folder / "phase.png"),
               save_plot(return_map, return_map.plot, folder / "returnmap.png")]
    if frames is not None:
        written.append(save_png(make_grid(frames, nrow=len(frames)), folder / "filmstrip.png"))
    path = folder / "summary.json"
    path.write_text(json.dumps(summary, indent=2))
    written.append(path)
    return written


def save_plot(widget: QWidget, plot, path: Path) -> Path:
    """Lay ``widget`` out at FIGURE_SIZE without showing it, and export ``plot`` to ``path``."""
    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    widget.resize(*FIGURE_SIZE)
    widget.show()  # delivers the resize: the view takes its size and ranges
    try:
        plot.getPlotItem().getViewBox().autoRange()
        ImageExporter(plot.getPlotItem()).export(str(path))
    finally:
        plot.close()  # as the main window does: no late paint of a deleted pyqtgraph view
        widget.close()
        widget.deleteLater()
    return path

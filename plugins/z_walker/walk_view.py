"""The walk itself: the image at the slider, the scrubber, the path's settings, its frames as a
strip, and the export buttons. The panel feeds it images; it only says what the user changed."""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout

from studio import paths
from studio.ml.analysis.path_export import strip_image
from studio.ui.image_view import ImageView
from studio_plugins.z_walker.scrubber import Scrubber

MODES = {"linear": "straight lines between keyframes",
         "spherical": "great-circle arcs (slerp): keeps |z| typical of the Gaussian prior"}
EXPORTS = {"strip": ("PNG strip", ".png"), "gif": ("animated GIF", ".gif")}


class WalkView(QGroupBox):
    """``path_changed()``: the mode or the number of frames changed; ``export_to(kind, path)``: the
    user chose where to save the strip ("strip") or the GIF ("gif")."""

    path_changed = Signal()
    export_to = Signal(str, Path)

    def __init__(self, placeholder: str, parent=None):
        super().__init__("Walk", parent)
        self.view = ImageView(placeholder, minimum=160)
        self.scrubber = Scrubber()
        self.mode = QComboBox()
        for mode, tip in MODES.items():
            self.mode.addItem(mode, mode)
            self.mode.setItemData(self.mode.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.mode.setToolTip("how the path runs between keyframes")
        self.frames = QSpinBox()
        self.frames.setRange(2, 256)
        self.frames.setValue(32)
        self.frames.setToolTip("frames along the whole path: playback steps, the strip and the GIF")
        self.strip = ImageView("the path's frames, side by side", minimum=40)
        self.strip.setMaximumHeight(72)
        self.export_scale = QSpinBox()
        self.export_scale.setRange(1, 8)
        self.export_scale.setValue(2)
        self.export_scale.setPrefix("×")
        self.export_scale.setToolTip("enlarge exported frames (nearest neighbour: pixels stay crisp)")
        self.export_strip_button = QPushButton("Export PNG strip…")
        self.export_gif_button = QPushButton("Export GIF…")
        self.mode.currentIndexChanged.connect(self.path_changed)
        self.frames.valueChanged.connect(self.path_changed)
        self.export_strip_button.clicked.connect(lambda: self._ask_export("strip"))
        self.export_gif_button.clicked.connect(lambda: self._ask_export("gif"))
        self._build_layout()

    def _build_layout(self) -> None:
        path_row = QHBoxLayout()
        path_row.addWidget(QLabel("Path"))
        path_row.addWidget(self.mode)
        path_row.addWidget(self.frames)
        path_row.addWidget(QLabel("frames"))
        path_row.addStretch(1)
        export_row = QHBoxLayout()
        export_row.addWidget(self.export_strip_button)
        export_row.addWidget(self.export_gif_button)
        export_row.addWidget(self.export_scale)
        export_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.scrubber)
        layout.addLayout(path_row)
        layout.addWidget(self.strip)
        layout.addLayout(export_row)

    # -- what the panel reads -------------------------------------------------------------------
    def mode_name(self) -> str:
        return self.mode.currentData()

    def frame_count(self) -> int:
        return self.frames.value()

    # -- what the panel shows -------------------------------------------------------------------
    def set_ready(self, ready: bool, placeholder: str = "") -> None:
        """Enable scrubbing and export when there is a path; else show ``placeholder``."""
        self.scrubber.set_frames(self.frames.value())
        for widget in (self.export_strip_button, self.export_gif_button, self.scrubber):
            widget.setEnabled(ready)
        if not ready:
            self.scrubber.stop()
            self.view.set_image(None)
            self.view.set_placeholder(placeholder)
            self.strip.set_image(None)

    def show_strip(self, frames: torch.Tensor) -> None:
        self.strip.set_image(strip_image(frames, padding=1))

    # -- remembered between sessions ------------------------------------------------------------
    def restore(self, settings: QSettings) -> None:
        """Read the view's settings from ``settings`` (already in the panel's group)."""
        self.mode.setCurrentIndex(max(self.mode.findData(settings.value("mode", "spherical")), 0))
        self.frames.setValue(_int(settings.value("frames"), self.frames.value()))
        self.scrubber.fps.setValue(_int(settings.value("fps"), self.scrubber.fps.value()))
        self.scrubber.loop.setChecked(str(settings.value("loop", "true")).lower() == "true")
        self.export_scale.setValue(_int(settings.value("export_scale"), self.export_scale.value()))

    def save(self, settings: QSettings) -> None:
        settings.setValue("mode", self.mode_name())
        settings.setValue("frames", self.frames.value())
        settings.setValue("fps", self.scrubber.fps.value())
        settings.setValue("loop", self.scrubber.loop.isChecked())
        settings.setValue("export_scale", self.export_scale.value())

    def settings_signals(self) -> list:
        """Signals after which the settings are worth saving."""
        return [self.mode.currentIndexChanged, self.frames.valueChanged, self.scrubber.fps.valueChanged,
                self.scrubber.loop.toggled, self.export_scale.valueChanged]

    def _ask_export(self, kind: str) -> None:
        what, suffix = EXPORTS[kind]
        start = str(paths.data_dir() / f"walk{suffix}")
        name, _ = QFileDialog.getSaveFileName(self, f"Export the path as {what}", start, f"{what} (*{suffix})")
        if name:
            self.export_to.emit(kind, Path(name).with_suffix(suffix))


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default

"""Which z: seed A, seed B and the morph between them (linear or spherical)."""

from __future__ import annotations

import random

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QGroupBox, QLabel, QPushButton, QSlider, QSpinBox, QWidget

from studio_plugins.loop_player.work import LoopRequest

MORPH_STEPS = 100


class LatentControls(QGroupBox):
    """``changed(LoopRequest)`` on every edit; a drag of the morph slider sends many, and the panel
    keeps only the newest."""

    changed = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Latent", parent)
        self.seed_a, self.seed_b = self._seed_spin(0), self._seed_spin(1)
        dice_a, dice_b = QPushButton("Random"), QPushButton("Random")
        dice_a.setToolTip("a new random seed for A")
        dice_b.setToolTip("a new random seed for B")
        dice_a.clicked.connect(lambda: self.seed_a.setValue(random.randrange(2**31 - 1)))
        dice_b.clicked.connect(lambda: self.seed_b.setValue(random.randrange(2**31 - 1)))
        self.morph = QSlider(Qt.Orientation.Horizontal)
        self.morph.setRange(0, MORPH_STEPS)
        self.morph.setToolTip("from A to B: the new loop starts at the next loop seam")
        self.mode = QComboBox()
        self.mode.addItems(["spherical", "linear"])
        self.morph_label = QLabel("A")
        grid = QGridLayout(self)
        grid.addWidget(QLabel("Seed A"), 0, 0)
        grid.addWidget(self.seed_a, 0, 1)
        grid.addWidget(dice_a, 0, 2)
        grid.addWidget(QLabel("Seed B"), 1, 0)
        grid.addWidget(self.seed_b, 1, 1)
        grid.addWidget(dice_b, 1, 2)
        grid.addWidget(QLabel("Morph"), 2, 0)
        grid.addWidget(self.morph, 2, 1)
        grid.addWidget(self.morph_label, 2, 2)
        grid.addWidget(QLabel("Path"), 3, 0)
        grid.addWidget(self.mode, 3, 1)
        for signal in (self.seed_a.valueChanged, self.seed_b.valueChanged, self.morph.valueChanged,
                       self.mode.currentIndexChanged):
            signal.connect(self._emit)

    @staticmethod
    def _seed_spin(value: int) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(0, 2**31 - 1)
        spin.setValue(value)
        return spin

    def request(self) -> LoopRequest:
        return LoopRequest(self.seed_a.value(), self.seed_b.value(), self.morph.value() / MORPH_STEPS,
                           self.mode.currentText())

    def set_seed_a(self, seed: int) -> None:
        """Play seed ``seed`` (e.g. a dot clicked on the map): A, with the morph back at A."""
        self.blockSignals(True)
        self.morph.setValue(0)
        self.blockSignals(False)
        self.seed_a.setValue(seed)
        self._emit()

    def set_values(self, seed_a: int, seed_b: int, morph: int, mode: str) -> None:
        """Show these choices (``morph`` in steps of MORPH_STEPS, ``mode`` "spherical" or "linear",
        ignored if unknown) with one ``changed``."""
        self.blockSignals(True)
        self.seed_a.setValue(seed_a)
        self.seed_b.setValue(seed_b)
        self.morph.setValue(morph)
        if self.mode.findText(mode) >= 0:
            self.mode.setCurrentText(mode)
        self.blockSignals(False)
        self._emit()

    def _emit(self, *_) -> None:
        morph = self.morph.value()
        self.morph_label.setText("A" if morph == 0 else "B" if morph == MORPH_STEPS else f"{morph}%")
        self.changed.emit(self.request())

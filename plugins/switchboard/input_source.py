"""Which input the model translates: a pair of the model's data (split and position) or a dropped
image, and the colour probe applied to it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QGroupBox, QLabel, QPushButton, QWidget
from superqt import QLabeledSlider

from studio.ml.data.paired import SPLITS, PairedImages
from studio_plugins.switchboard.work import NO_PROBE, PROBES

PROBE_TIPS = {
    NO_PROBE: "the image as it is",
    "R only": "only the red channel kept, green and blue black (input and target alike)",
    "G only": "only the green channel kept (input and target alike)",
    "B only": "only the blue channel kept (input and target alike)",
    "colour grid": "a 3x3 grid, each cell keeping one channel (R G B / G B R / B R G): do colours stay in "
                   "their cells and channels?",
}
DROP_HINT = "<i>or drop an image file on this panel (no target)</i>"


class InputSource(QGroupBox):
    """``changed()`` when the split, the position, the probe or the source changes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Input", parent)
        self.pairs: PairedImages | None = None
        self.dropped_name: str | None = None  # a dropped image on show instead of a pair
        self.split = QComboBox()
        self.split.addItems(SPLITS)
        self.split.setCurrentText("test")
        self.split.setToolTip("training pairs, or the held-out test pairs")
        self.position = QLabeledSlider(Qt.Orientation.Horizontal)
        self.position.setToolTip("which pair of the split")
        self.pair_label = QLabel()
        self.pair_label.setWordWrap(True)
        self.file_label = QLabel(DROP_HINT)
        self.file_label.setWordWrap(True)
        self.back_button = QPushButton("Use the pairs")
        self.back_button.setToolTip("translate the chosen pair again instead of the dropped image")
        self.back_button.hide()  # until an image is dropped
        self.probe = QComboBox()
        for name in (NO_PROBE, *PROBES):
            self.probe.addItem(name)
            self.probe.setItemData(self.probe.count() - 1, PROBE_TIPS[name], Qt.ItemDataRole.ToolTipRole)
        grid = QGridLayout(self)
        grid.addWidget(QLabel("Split"), 0, 0)
        grid.addWidget(self.split, 0, 1)
        grid.addWidget(QLabel("Pair"), 1, 0)
        grid.addWidget(self.position, 1, 1)
        grid.addWidget(self.pair_label, 2, 0, 1, 2)
        grid.addWidget(self.file_label, 3, 0, 1, 2)
        grid.addWidget(self.back_button, 4, 0, 1, 2)
        grid.addWidget(QLabel("Probe"), 5, 0)
        grid.addWidget(self.probe, 5, 1)
        grid.setColumnStretch(1, 1)
        self.split.currentTextChanged.connect(self._split_changed)
        self.position.valueChanged.connect(self._pair_changed)
        self.probe.currentTextChanged.connect(lambda _probe: self.changed.emit())
        self.back_button.clicked.connect(self.use_pairs)
        self.set_pairs(None, "no model yet")

    # -- what is chosen ---------------------------------------------------------------------------
    def pair_index(self) -> int | None:
        """The chosen pair's index in the dataset, or None when a dropped image (or nothing) is on show."""
        if self.dropped_name is not None or self.pairs is None:
            return None
        chosen = self.pairs.indices(self.split.currentText())
        return int(chosen[self.position.value()]) if len(chosen) else None  # a split may be empty

    def current_probe(self) -> str:
        return self.probe.currentText()

    # -- what there is ----------------------------------------------------------------------------
    def set_pairs(self, pairs: PairedImages | None, status: str = "") -> None:
        """The model's pairs (None while they load, or when unknown: ``status`` says why); the
        split and position are kept where they still exist."""
        self.pairs = pairs
        usable = pairs is not None
        self.split.setEnabled(usable)
        self.position.setEnabled(usable)
        if usable:
            self._update_range()
        else:
            self.pair_label.setText(status)

    def set_colour(self, colour: bool) -> None:
        """Colour probes need RGB: a grayscale model gets none."""
        if not colour:
            self.probe.setCurrentText(NO_PROBE)
        self.probe.setEnabled(colour)
        self.probe.setToolTip("" if colour else "colour probes need an RGB model")

    def set_dropped(self, name: str | None) -> None:
        """Show the dropped image ``name`` (None: back to the pairs)."""
        self.dropped_name = name
        self.file_label.setText(f"dropped: <b>{name}</b> (no target)" if name else DROP_HINT)
        self.back_button.setVisible(name is not None)
        self._describe_pair()

    def use_pairs(self) -> None:
        if self.dropped_name is not None:
            self.set_dropped(None)
            self.changed.emit()

    # -- reacting -------------------------------------------------------------------------------
    def _split_changed(self, _split: str) -> None:
        self._update_range()
        self._pair_changed()

    def _pair_changed(self, *_) -> None:
        if self.dropped_name is not None:
            self.set_dropped(None)  # choosing a pair takes over from the dropped image
        self._describe_pair()
        self.changed.emit()

    def _update_range(self) -> None:
        count = len(self.pairs.indices(self.split.currentText())) if self.pairs is not None else 0
        self.position.blockSignals(True)  # one changed() from whoever asked
        self.position.setRange(0, max(count - 1, 0))
        self.position.blockSignals(False)
        self._describe_pair()

    def _describe_pair(self) -> None:
        index = self.pair_index()
        if index is not None:
            self.pair_label.setText(f"{self.pairs.labels[index]} <span style='color:#777'>(pair {index}, "
                                    f"{self.split.currentText()})</span>")
        elif self.pairs is not None:
            self.pair_label.setText("" if self.dropped_name else f"no {self.split.currentText()} pairs")

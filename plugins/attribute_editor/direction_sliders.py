"""One slider per direction, the order the edits are applied in, Undo and Reset.

The edit is the list of (direction, amount) of the sliders away from 0, in the order each was
first moved: for the warped model the order changes the image, so it is kept and shown. A slider
brought back to 0 leaves the list (moving it again puts it last), so the list alone is the state
that Undo restores and a recipe stores. A drag is one undo step, as is each click or typed value.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget
from superqt import QLabeledDoubleSlider

from studio_plugins.attribute_editor.factors import FactorNames

Edits = tuple[tuple[int, float], ...]
NAME_WIDTH = 96  # the names column: "background" fits, longer factor names elide into the tooltip
HISTORY = 200  # undo steps kept


class DirectionSliders(QGroupBox):
    """``changed()`` whenever the edit changes, live while a slider is dragged."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Directions", parent)
        self.sliders: list[QLabeledDoubleSlider] = []
        self.names: list[QLabel] = []
        self._amounts: list[float] = []  # what the sliders show, exactly as set (a recipe's amounts)
        self._order: list[int] = []
        self._history: list[Edits] = []
        self._labels: list[str] = []
        self._drag_pushed: bool | None = None  # None: no drag; False/True: whether it made its undo step
        self._quiet = False  # set while the panel, not the user, moves the sliders
        self.placeholder = QLabel("no direction model yet")
        self.placeholder.setStyleSheet("color: #777;")
        self.rows = QGridLayout()
        self.rows.setColumnStretch(1, 1)
        self.rows.setVerticalSpacing(2)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("back to the sliders before the last change (a whole drag is one step)")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("every slider to 0: the unedited image (Undo brings the edit back)")
        self.order_label = QLabel()
        self.order_label.setWordWrap(True)
        self.order_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.order_label.setToolTip("edits are applied in the order their sliders were first moved; for the "
                                    "warped model the order changes the image (see Order swap)")
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #9a6700;")
        self.problem.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.reset_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.placeholder)
        layout.addLayout(self.rows)
        layout.addWidget(self.problem)
        layout.addWidget(self.order_label)
        layout.addLayout(buttons)
        self.undo_button.clicked.connect(self.undo)
        self.reset_button.clicked.connect(self.reset)
        self._update_state()

    # -- the model's directions --------------------------------------------------------------
    def set_directions(self, count: int, max_shift: float, factors: FactorNames | None = None) -> None:
        """``count`` sliders from -max_shift to +max_shift, all at 0, no undo history."""
        while len(self.sliders) > count:
            self.rows.removeWidget(self.sliders[-1])
            self.rows.removeWidget(self.names[-1])
            self.sliders.pop().deleteLater()
            self.names.pop().deleteLater()
        while len(self.sliders) < count:
            self._add_row(len(self.sliders))
        self._quiet = True
        for slider in self.sliders:
            slider.setRange(-max_shift, max_shift)
            slider.setValue(0.0)
        self._quiet = False
        self._amounts, self._order, self._history = [0.0] * count, [], []
        self.placeholder.setVisible(count == 0)
        self.set_factors(factors or FactorNames.unknown(count))

    def set_factors(self, factors: FactorNames) -> None:
        """Name the sliders (the factor each moves, where factors.json says)."""
        self._labels = [factors.label(k) for k in range(len(self.sliders))]
        for k, name in enumerate(self.names):
            name.setText(_elide(name, self._labels[k]))
            name.setToolTip(factors.tooltip(k))
            self.sliders[k].setToolTip(factors.tooltip(k))
        self.problem.setText(factors.problem)
        self.problem.setVisible(bool(factors.problem))
        self._update_state()

    def labels(self) -> list[str]:
        """Each direction's name as shown."""
        return list(self._labels)

    def _add_row(self, k: int) -> None:
        name = QLabel()
        name.setFixedWidth(NAME_WIDTH)
        slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        slider.setDecimals(2)
        slider.valueChanged.connect(lambda value, k=k: self._moved(k, value))
        slider.sliderPressed.connect(self._drag_started)
        slider.sliderReleased.connect(self._drag_ended)
        self.rows.addWidget(name, k, 0)
        self.rows.addWidget(slider, k, 1)
        self.names.append(name)
        self.sliders.append(slider)

    # -- the edit ----------------------------------------------------------------------------
    def edits(self) -> Edits:
        """(direction, amount) of the sliders away from 0, in the order they were first moved."""
        return tuple((k, self._amounts[k]) for k in self._order)

    def amount(self, k: int) -> float:
        return self._amounts[k]

    def set_edits(self, edits, undoable: bool = True) -> None:
        """Show ``edits`` (a recipe's, an undo step); a slider is widened if an amount is beyond it.
        IndexError for a direction the model lacks."""
        edits = tuple((int(k), float(t)) for k, t in edits if float(t) != 0.0)
        for k, _t in edits:
            if not 0 <= k < len(self.sliders):
                raise IndexError(f"direction {k} out of range: the model has {len(self.sliders)}")
        if undoable and edits != self.edits():
            self._push(self.edits())
        self._amounts = [0.0] * len(self.sliders)
        self._order = []
        for k, t in edits:
            if k in self._order:  # the same direction twice (the panel never writes it): added up, the
                self._amounts[k] += t  # same image for linear and curvilinear edits, not quite for warped
                continue
            self._amounts[k] = t
            self._order.append(k)
        self._quiet = True
        for k, slider in enumerate(self.sliders):
            if abs(self._amounts[k]) > slider.maximum():
                slider.setRange(-abs(self._amounts[k]), abs(self._amounts[k]))
            slider.setValue(self._amounts[k])
        self._quiet = False
        self._update_state()
        self.changed.emit()

    def undo(self) -> None:
        if self._history:
            self.set_edits(self._history.pop(), undoable=False)

    def reset(self) -> None:
        if self._order:
            self.set_edits((), undoable=True)

    @property
    def can_undo(self) -> bool:
        return bool(self._history)

    # -- reacting to the user ----------------------------------------------------------------
    def _drag_started(self) -> None:
        self._drag_pushed = False

    def _drag_ended(self) -> None:
        self._drag_pushed = None

    def _moved(self, k: int, value: float) -> None:
        if self._quiet:
            return
        before = self.edits()
        self._amounts[k] = float(value)
        if value == 0.0 and k in self._order:
            self._order.remove(k)
        elif value != 0.0 and k not in self._order:
            self._order.append(k)
        if self._drag_pushed is None:  # a click, a key or a typed value: a step of its own
            self._push(before)
        elif not self._drag_pushed:  # a drag: one step, made when it first moves something
            self._push(before)
            self._drag_pushed = True
        self._update_state()
        self.changed.emit()

    def _push(self, edits: Edits) -> None:
        if not self._history or self._history[-1] != edits:
            self._history.append(edits)
            del self._history[:-HISTORY]

    def _update_state(self) -> None:
        self.undo_button.setEnabled(bool(self._history))
        self.reset_button.setEnabled(bool(self._order))
        if not self.sliders:
            self.order_label.setText("")
        elif not self._order:
            self.order_label.setText("<span style='color:#777'>no edit: move a slider</span>")
        else:
            steps = " → ".join(f"{self._labels[k] if k < len(self._labels) else k} {t:+.2f}"
                               for k, t in self.edits())
            self.order_label.setText(f"applied in order: {steps}")


def _elide(label: QLabel, text: str) -> str:
    return label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, NAME_WIDTH)

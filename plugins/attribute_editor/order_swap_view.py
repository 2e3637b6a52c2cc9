"""Do two edits commute? Directions k and l applied both ways round, and the difference.

Each moves by its slider's amount; a slider at 0 moves by half its range instead (said in the
caption), so the view shows something before any slider is touched. The other sliders' edits are
applied first, in their order, so the pair is compared on the image being edited. Curvilinear
edits commute by construction (difference 0); warped ones in general do not.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from studio.ui.image_view import ImageView
from studio_plugins.attribute_editor.work import DIFF_GAIN, OrderSwap

VIEW_PIXELS = 128


class OrderSwapView(QWidget):
    """``pair_changed()`` when another pair of directions is chosen."""

    pair_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.result: OrderSwap | None = None
        self.first, self.second = QComboBox(), QComboBox()
        for combo, which in ((self.first, "first"), (self.second, "second")):
            combo.setToolTip(f"the {which} direction of the pair")
            combo.setMinimumContentsLength(12)
            combo.currentIndexChanged.connect(lambda _index: self.pair_changed.emit())
        self.amounts = QLabel()
        self.amounts.setWordWrap(True)
        group: list[ImageView] = []
        self.views = [ImageView("", VIEW_PIXELS, scale_group=group) for _ in range(3)]
        self.k_then_l, self.l_then_k, self.difference = self.views
        self.titles = [QLabel() for _ in range(3)]
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Swap"))
        pick.addWidget(self.first)
        pick.addWidget(QLabel("and"))
        pick.addWidget(self.second)
        pick.addStretch(1)
        grid = QGridLayout()
        for column, (title, view) in enumerate(zip(self.titles, self.views)):
            title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            title.setWordWrap(True)  # long factor names must not widen one column
            grid.addWidget(title, 0, column)
            grid.addWidget(view, 1, column)
            grid.setColumnStretch(column, 1)
        grid.setRowStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(pick)
        layout.addWidget(self.amounts)
        layout.addLayout(grid, 1)
        layout.addWidget(self.caption)
        self.set_directions([])

    def set_directions(self, labels: list[str]) -> None:
        """The model's directions by name; the pair chosen is kept where it still exists."""
        previous = self.pair()
        for combo in (self.first, self.second):
            combo.blockSignals(True)
            combo.clear()
            for k, label in enumerate(labels):
                numbered = label == f"direction {k}" or label.endswith(f"#{k}")
                combo.addItem(label if numbered else f"{label} #{k}", k)
        first, second = previous if previous and max(previous) < len(labels) else (0, 1)
        self.first.setCurrentIndex(min(first, len(labels) - 1))
        self.second.setCurrentIndex(min(second, len(labels) - 1))
        for combo in (self.first, self.second):
            combo.blockSignals(False)
            combo.setEnabled(len(labels) > 1)
        self._set_titles()

    def pair(self) -> tuple[int, int] | None:
        """The two directions chosen, or None when there are not two different ones."""
        k, l = self.first.currentData(), self.second.currentData()  # noqa: E741
        return (k, l) if k is not None and l is not None and k != l else None

    def _name(self, combo: QComboBox, fallback: str = "") -> str:
        return combo.currentText() or fallback

    def _set_titles(self) -> None:
        first, second = self._name(self.first, "k"), self._name(self.second, "l")
        texts = (f"<b>{first}</b> then <b>{second}</b>", f"<b>{second}</b> then <b>{first}</b>",
                 f"<b>|difference| × {DIFF_GAIN}</b>")
        for title, text in zip(self.titles, texts):
            title.setText(text)

    def show_swap(self, result: OrderSwap, fixed: tuple[bool, bool]) -> None:
        """``fixed``: which of the two amounts is the stand-in for a slider at 0."""
        self.result = result
        self._set_titles()
        parts = [f"{self._name(combo)} {amount:+.2f}{' (slider at 0: half its range)' if stand_in else ''}"
                 for combo, amount, stand_in in zip((self.first, self.second), result.amounts, fixed)]
        self.amounts.setText("amounts: " + ", ".join(parts) + "; the other edits are applied first")
        for view, image in zip(self.views, (result.k_then_l, result.l_then_k, result.difference)):
            view.set_image(image)
        verdict = "they commute here" if result.mean_difference < 1e-4 else "the order matters"
        self.caption.setText(f"mean |difference| <b>{result.mean_difference:.4f}</b> "
                             f"<span style='color:#777'>(pixels in [0, 1]): {verdict}</span>")

    def clear(self, message: str) -> None:
        self.result = None
        self._set_titles()
        self.amounts.setText("")
        for view in self.views:
            view.set_image(None)
        self.k_then_l.set_placeholder(message)
        self.caption.setText("")

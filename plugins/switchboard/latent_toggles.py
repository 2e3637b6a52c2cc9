"""Five switches latent1..latent5 and "All on": which latents reach the decoder."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QPushButton, QWidget

from studio.ml.models.unet import LATENTS, SKIPPABLE

# on: green, off: grey; a latent the model lacks: the style's plain disabled button
SWITCH_STYLE = ("QPushButton:checked:enabled { background: #2e7d32; color: white; font-weight: bold; }"
                "QPushButton:!checked:enabled { background: #d8d8d8; color: #707070; }")
TIPS = {
    **{f"latent{i}": f"the skip connection from encoder layer {i} ({64 >> i}x{64 >> i} at 64 px): off sends zeros"
       for i in SKIPPABLE},
    "latent5": "the bottleneck (2x2 at 64 px) the decoder starts from: off starts it from zeros",
}


class LatentToggles(QGroupBox):
    """``changed(keep)`` (five bools) after every switch; a latent the model was built without is
    shown disabled, since switching it changes nothing."""

    changed = Signal(tuple)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Latents", parent)
        self.buttons: list[QPushButton] = []
        grid = QGridLayout(self)
        for i, name in enumerate(LATENTS):
            button = QPushButton(name)
            button.setCheckable(True)
            button.setChecked(True)
            button.setStyleSheet(SWITCH_STYLE)
            button.setToolTip(TIPS[name])
            button.toggled.connect(self._emit)
            grid.addWidget(button, i // 3, i % 3)
            self.buttons.append(button)
        self.all_on = QPushButton("All on")
        self.all_on.setToolTip("switch every latent back on")
        self.all_on.clicked.connect(self.reset)
        grid.addWidget(self.all_on, 1, 2)

    def keep(self) -> tuple[bool, ...]:
        return tuple(button.isChecked() for button in self.buttons)

    def reset(self) -> None:
        """Every latent on, with one ``changed``."""
        self._set_all(True)

    def set_model_skips(self, skips: Sequence[int] | None) -> None:
        """Every latent on, without ``changed``; those of latent1..4 that are not among ``skips``
        disabled (None: no model, all disabled)."""
        for i, button in enumerate(self.buttons, start=1):
            present = skips is not None and (i not in SKIPPABLE or i in skips)
            button.setEnabled(present)
            button.setToolTip(TIPS[button.text()] if present or skips is None
                              else f"this model was trained without latent{i}")
        self.all_on.setEnabled(skips is not None)
        self._set_all(True, emit=False)  # the panel draws the new model anyway

    def set_keep(self, keep) -> None:
        """Set the switches of the latents the model has to ``keep`` (five bools), with one ``changed``."""
        for button, on in zip(self.buttons, keep):
            if button.isEnabled():
                button.blockSignals(True)
                button.setChecked(bool(on))
                button.blockSignals(False)
        self._emit()

    def set_skips(self, on: bool) -> None:
        """Every skip latent (latent1..4) the model has on, or off (the bottleneck alone); the
        bottleneck stays on. Nothing without a model."""
        if self.all_on.isEnabled():
            self.set_keep([on if i in SKIPPABLE else True for i in range(1, len(self.buttons) + 1)])

    def _set_all(self, on: bool, emit: bool = True) -> None:
        for button in self.buttons:
            button.blockSignals(True)
            button.setChecked(on)
            button.blockSignals(False)
        if emit:
            self._emit()

    def _emit(self, *_) -> None:
        self.changed.emit(self.keep())

"""The walk's keyframes in order, with a thumbnail of what the model draws at each one."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from studio.ui.image_view import to_qimage
from studio_plugins.z_walker.work import Keyframe

THUMBNAIL = 40  # pixels
EMPTY_HINT = "No keyframes yet: add a seed or a training image, or drop image files on this panel."


class KeyframeList(QWidget):
    """``changed()`` fires whenever keyframes are added, removed or reordered."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._keyframes: list[Keyframe] = []
        self._shown: list[Keyframe] = []  # the keyframes the list's rows show, for their thumbnails
        self.list = QListWidget()
        self.list.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.list.setToolTip(EMPTY_HINT)
        self.list.setMinimumHeight(3 * THUMBNAIL)
        self.hint = QLabel(EMPTY_HINT)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #777777;")
        self.up_button, self.down_button = QPushButton("Up"), QPushButton("Down")
        self.remove_button, self.clear_button = QPushButton("Remove"), QPushButton("Clear")
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))
        self.remove_button.clicked.connect(self._remove_selected)
        self.clear_button.clicked.connect(self.clear)
        self.list.currentRowChanged.connect(self._update_buttons)
        buttons = QHBoxLayout()
        for button in (self.up_button, self.down_button, self.remove_button, self.clear_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    # -- contents -----------------------------------------------------------------------------
    def keyframes(self) -> list[Keyframe]:
        return list(self._keyframes)

    def __len__(self) -> int:
        return len(self._keyframes)

    def latents(self) -> np.ndarray:
        """(K, nz) float32, in order."""
        return np.stack([k.z for k in self._keyframes]).astype(np.float32)

    def add(self, keyframes: list[Keyframe]) -> None:
        if keyframes:
            self._keyframes += keyframes
            self._rebuild(select=len(self._keyframes) - 1)

    def replace(self, keyframes: list[Keyframe]) -> None:
        """Swap in a new list (e.g. re-drawn for another model), firing ``changed`` once."""
        self._keyframes = list(keyframes)
        self._rebuild(select=min(self.list.currentRow(), len(keyframes) - 1))

    def clear(self) -> None:
        if self._keyframes:
            self.replace([])

    def set_thumbnails(self, images: torch.Tensor) -> None:
        """What the model draws at each keyframe, (K, C, H, W) uint8, in list order."""
        for row, image in enumerate(images[: self.list.count()]):
            self.list.item(row).setIcon(QIcon(QPixmap.fromImage(to_qimage(image))))

    # -- editing ------------------------------------------------------------------------------
    def _move(self, offset: int) -> None:
        row = self.list.currentRow()
        target = row + offset
        if 0 <= row < len(self._keyframes) and 0 <= target < len(self._keyframes):
            keys = self._keyframes
            keys[row], keys[target] = keys[target], keys[row]
            self._rebuild(select=target)

    def _remove_selected(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self._keyframes):
            del self._keyframes[row]
            self._rebuild(select=min(row, len(self._keyframes) - 1))

    def _rebuild(self, select: int) -> None:
        icons = {id(k): self.list.item(i).icon() for i, k in enumerate(self._shown)}
        self.list.clear()
        for index, keyframe in enumerate(self._keyframes):
            detail = f"  ({keyframe.detail})" if keyframe.detail else ""
            item = QListWidgetItem(f"{index + 1}. {keyframe.label}{detail}")
            item.setToolTip(keyframe.detail or keyframe.label)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            if id(keyframe) in icons:
                item.setIcon(icons[id(keyframe)])  # keep the old thumbnail until the new path arrives
            self.list.addItem(item)
        self._shown = list(self._keyframes)
        if select >= 0:
            self.list.setCurrentRow(select)
        self._update_buttons()
        self.changed.emit()

    def _update_buttons(self, *_) -> None:
        row, count = self.list.currentRow(), len(self._keyframes)
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < count - 1)
        self.remove_button.setEnabled(0 <= row < count)
        self.clear_button.setEnabled(count > 0)
        self.hint.setVisible(count == 0)

"""Dropping files from a file manager onto a widget: the window routes them to plugins, a panel
takes its own (images to encode, a checkpoint to load)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QDragEnterEvent, QDropEvent


class AcceptsFileDrops:
    """Mixin for a QWidget (list it before the Qt class, and call ``setAcceptDrops(True)``):
    local files dropped on the widget go to ``files_dropped(paths)``; other drags (text, remote
    URLs) are refused."""

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        event.acceptProposedAction()
        self.files_dropped(paths)

    def files_dropped(self, paths: list[Path]) -> None:
        raise NotImplementedError

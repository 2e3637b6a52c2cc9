"""Keyboard shortcuts: panels add theirs as QActions, Help > Keyboard shortcuts lists them all.

The list is collected from the window itself (every QAction with a shortcut on the window, its
menus and its panels), so a third-party panel's actions appear without registering anywhere:

    from studio.ui.shortcuts import add_shortcut

    add_shortcut(self, "Run", "Ctrl+Return", self.run)                       # while the panel has focus
    add_shortcut(self, "Start training", "F5", self.train, window_wide=True)  # anywhere in the window
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import shiboken6
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QHeaderView,
    QMainWindow,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

PANEL_SCOPE = "while the panel has focus"
WINDOW = "Window"


def add_shortcut(widget: QWidget, text: str, key: str | QKeySequence | QKeySequence.StandardKey,
                 slot: Callable[[], None], window_wide: bool = False, tip: str = "") -> QAction:
    """A QAction on ``widget`` that runs ``slot()`` on ``key``. By default it works while the focus
    is in ``widget`` (a key two panels share, such as Space, then reaches the panel you are in);
    ``window_wide`` for a key no other panel uses. Either way the widget must be on show."""
    action = QAction(text, widget)
    action.setShortcut(QKeySequence(key))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut if window_wide
                              else Qt.ShortcutContext.WidgetWithChildrenShortcut)
    if tip:
        action.setToolTip(tip)
    action.triggered.connect(lambda _checked=False: slot())
    widget.addAction(action)
    return action


@dataclass(frozen=True)
class ShortcutEntry:
    group: str  # the menu ("File"), the panel's dock title ("Trainer monitor") or "Window"
    text: str  # the action, without its mnemonic ampersand
    keys: str  # "Ctrl+S", several joined by ", "
    scope: str = ""  # PANEL_SCOPE for a panel-only shortcut

    def __str__(self) -> str:
        scope = f" ({self.scope})" if self.scope else ""
        return f"{self.group}: {self.text} = {self.keys}{scope}"


def list_shortcuts(window: QMainWindow) -> list[ShortcutEntry]:
    """Every action in ``window`` that has a shortcut: the menus first, in menu-bar order, then
    the panels by dock title, then actions on the window itself."""
    titles = [_plain(a.menu().title()) for a in window.menuBar().actions() if isinstance(a.menu(), QMenu)]
    menu_order = {title: i for i, title in reversed(list(enumerate(titles)))}  # the first of a title wins
    found: dict[int, tuple[tuple, ShortcutEntry]] = {}  # by the C++ action: its Python wrappers come and go
    for widget in [window, *window.findChildren(QWidget)]:
        for action in widget.actions():
            keys = [k for k in action.shortcuts() if not k.isEmpty()]
            pointer = shiboken6.getCppPointer(action)[0]
            if not keys or pointer in found or not action.isVisible():
                continue
            group, order = _group(widget, menu_order)
            scope = PANEL_SCOPE if action.shortcutContext() in (Qt.ShortcutContext.WidgetShortcut,
                                                                 Qt.ShortcutContext.WidgetWithChildrenShortcut) else ""
            text = _plain(action.text())
            entry = ShortcutEntry(group, text, ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                                                         for k in keys), scope)
            found[pointer] = ((order, group), entry)
    return [entry for _key, entry in sorted(found.values(), key=lambda item: item[0])]


def _group(widget: QWidget, menu_order: dict) -> tuple[str, tuple]:
    if isinstance(widget, QMenu):
        top = widget
        while isinstance(top.parent(), QMenu):
            top = top.parent()
        return _plain(widget.title()), (0, menu_order.get(_plain(top.title()), len(menu_order)))
    parent = widget
    while parent is not None and not isinstance(parent, QDockWidget):
        parent = parent.parentWidget()
    if parent is not None:
        return parent.windowTitle(), (1, 0)
    return WINDOW, (2, 0)


def _plain(text: str) -> str:
    """Menu text without its mnemonic: "&Save session" -> "Save session" ("&&" stays "&")."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


class ShortcutsDialog(QDialog):
    """The table of ``list_shortcuts``: where, what, which keys. ``refresh()`` collects it again.
    It closes with the main window (an open dialog would keep the application running)."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        window.installEventFilter(self)
        self.setWindowTitle("Keyboard shortcuts")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Where", "Action", "Shortcut"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 480)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Close:
            self.close()
        return False

    def refresh(self) -> list[ShortcutEntry]:
        entries = list_shortcuts(self.parentWidget())
        self.table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            keys = entry.keys + (f"  ({entry.scope})" if entry.scope else "")
            for column, text in enumerate((entry.group, entry.text, keys)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        return entries

    def rows(self) -> list[tuple[str, str, str]]:
        """What the table shows, row by row (for tests)."""
        return [tuple(self.table.item(row, column).text() for column in range(3))
                for row in range(self.table.rowCount())]


def show_shortcuts(window: QMainWindow) -> ShortcutsDialog:
    """Open (or raise) the window's shortcuts dialog, listing what is there now."""
    dialog = getattr(window, "_shortcuts_dialog", None)
    if dialog is None:
        dialog = window._shortcuts_dialog = ShortcutsDialog(window)
    dialog.refresh()
    dialog.show()
    dialog.raise_()
    return dialog

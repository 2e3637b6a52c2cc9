"""The main window: one dock per plugin panel, menus, status bar, file drops."""

from __future__ import annotations

import logging
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QMessageBox

from studio.contributions import DropHandler, MenuAction, PanelSpec
from studio.plugin_manager import Contribution, PluginProblem
from studio.runtime.studio import Studio
from studio.ui.about import about_text
from studio.ui.file_drops import AcceptsFileDrops
from studio.ui.getting_started import GettingStartedView
from studio.ui.job_status import JobStatusBar
from studio.ui.sessions import SessionController
from studio.ui.shortcuts import show_shortcuts

log = logging.getLogger(__name__)

DOCK_AREAS = {
    "left": Qt.DockWidgetArea.LeftDockWidgetArea,
    "right": Qt.DockWidgetArea.RightDockWidgetArea,
    "top": Qt.DockWidgetArea.TopDockWidgetArea,
    "bottom": Qt.DockWidgetArea.BottomDockWidgetArea,
}
GETTING_STARTED = "getting_started"  # the guide's dock id (not a plugin panel)
GUIDE_HEIGHT = 230  # pixels: the guide's table without scrolling, on a first launch
LAYOUT_VERSION = 1  # bump when dock object names change, so old saved layouts are ignored


class MainWindow(AcceptsFileDrops, QMainWindow):
    def __init__(self, studio: Studio):
        super().__init__()
        self.studio = studio
        studio.window = self
        self.setWindowTitle("latent-studio")
        self.setObjectName("latent-studio-main")
        self.setDockNestingEnabled(True)
        self.setAcceptDrops(True)
        self.resize(1400, 900)
        self.docks: dict[str, QDockWidget] = {}
        self.panel_plugins: dict[str, str] = {}  # panel id -> the plugin that contributed it

        file_menu = self.menuBar().addMenu("&File")
        self.sessions = SessionController(self)  # File > Open/Save session, autosaved on close
        self.sessions.install(file_menu)
        self._view_menu = self.menuBar().addMenu("&View")
        self._plugins_menu = self.menuBar().addMenu("&Plugins")
        self._menus: dict[str, QMenu] = {"File": file_menu, "View": self._view_menu, "Plugins": self._plugins_menu}
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("&Getting started", QKeySequence("F1"), self.show_getting_started)
        help_menu.addAction("&Keyboard shortcuts", QKeySequence("Ctrl+/"), lambda: show_shortcuts(self))
        help_menu.addAction("&About latent-studio", self.show_about)

        self.job_status = JobStatusBar(studio.jobs)  # the running job: progress and Cancel
        self.statusBar().addPermanentWidget(self.job_status)
        self._device_label = QLabel(f"device: {studio.models.device}")
        self.statusBar().addPermanentWidget(self._device_label)
        studio.message.connect(self._show_message)

        panels = studio.plugins.call("register_panels")
        self._add_panels(panels)
        self._add_getting_started([c.item for c in panels if c.item.id in self.docks])
        self._add_menu_actions(studio.plugins.call("register_menu_actions"))
        self._drop_handlers = studio.plugins.call("register_drop_handlers")
        self._restore_layout()
        self._refresh_plugins_menu()
        for problem in studio.plugins.problems:
            self._report(problem)

    # -- panels -------------------------------------------------------------------------------
    def _add_panels(self, contributions: list[Contribution]) -> None:
        for contribution in contributions:
            spec: PanelSpec = contribution.item
            if spec.id in self.docks:
                log.warning("panel id %r of plugin %r is taken; skipped", spec.id, contribution.plugin)
                continue
            try:
                widget = spec.factory(self.studio)
            except Exception as exc:
                self._report(self.studio.plugins.disable(contribution.plugin, f"panel {spec.id}", exc))
                continue
            dock = QDockWidget(spec.title, self)
            dock.setObjectName(f"dock:{spec.id}")  # saveState/restoreState key
            dock.setWidget(widget)
            if spec.description:
                dock.setToolTip(spec.description)
            area = DOCK_AREAS.get(spec.area, Qt.DockWidgetArea.RightDockWidgetArea)
            self.addDockWidget(area, dock)
            first_here = next((d for d in self.docks.values() if self.dockWidgetArea(d) == area), None)
            if first_here is not None:  # panels sharing an area start as tabs: each keeps its room
                self.tabifyDockWidget(first_here, dock)
                first_here.raise_()
            self._view_menu.addAction(dock.toggleViewAction())
            self.docks[spec.id] = dock
            self.panel_plugins[spec.id] = contribution.plugin
            self.studio.panels[spec.id] = widget

    def _add_getting_started(self, panels: list[PanelSpec]) -> None:
        """A compact guide along the bottom (shown on a first launch; the saved layout decides after)."""
        dock = QDockWidget("Getting started", self)
        dock.setObjectName(f"dock:{GETTING_STARTED}")
        dock.setWidget(GettingStartedView(panels, self.studio.bundle))
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        self._view_menu.addAction(dock.toggleViewAction())
        self.getting_started = dock

    def show_getting_started(self) -> None:
        dock = self.getting_started
        dock.show()
        dock.raise_()

    def _add_menu_actions(self, contributions: list[Contribution]) -> None:
        for contribution in contributions:
            item: MenuAction = contribution.item
            menu = self._menus.get(item.menu)
            if menu is None:
                menu = self._menus[item.menu] = QMenu(item.menu, self)
                self.menuBar().insertMenu(self._view_menu.menuAction(), menu)
            action = menu.addAction(item.text)
            if item.shortcut:
                action.setShortcut(QKeySequence(item.shortcut))
            action.triggered.connect(
                lambda _=False, c=contribution: self._guarded(c.plugin, c.item.text, c.item.callback)
            )

    def _guarded(self, plugin: str, what: str, callback, *args) -> None:
        """Run a plugin callback; an exception becomes a message naming the plugin."""
        try:
            callback(self.studio, *args)
        except Exception as exc:
            log.exception("plugin %r failed in %s", plugin, what)
            self.studio.show_message(f"plugin {plugin!r} failed in {what}: {type(exc).__name__}: {exc}", 0)

    # -- plugins menu and messages --------------------------------------------------------------
    def _refresh_plugins_menu(self) -> None:
        menu = self._plugins_menu
        for action in [a for a in menu.actions() if a.data() == "generated"]:
            menu.removeAction(action)
        problems = {p.plugin: p for p in self.studio.plugins.problems}
        for name in self.studio.plugins.plugin_names:
            self._add_plugin_entry(name, "loaded")
        for name, problem in problems.items():
            self._add_plugin_entry(name, f"disabled: {problem.message}", problem.details)
        for name in self.studio.plugins.skipped:
            self._add_plugin_entry(name, "not loaded (allow/deny list)")

    def _add_plugin_entry(self, name: str, status: str, details: str = "") -> None:
        action = QAction(f"{name} — {status}", self)
        action.setData("generated")
        if details:
            action.triggered.connect(
                lambda: QMessageBox.warning(self, f"Plugin {name}", details)
            )
        else:
            action.setEnabled(False)
        self._plugins_menu.addAction(action)

    def _report(self, problem: PluginProblem) -> None:
        self._show_message(str(problem), 0)
        self._refresh_plugins_menu()

    def _show_message(self, text: str, timeout_ms: int) -> None:
        log.info("%s", text)
        self.statusBar().showMessage(text, timeout_ms)

    def show_about(self) -> None:
        QMessageBox.about(self, "About latent-studio", about_text(self.studio.models.device))

    # -- layout persistence -------------------------------------------------------------------
    def _restore_layout(self) -> None:
        settings = self.studio.settings
        geometry = settings.value("window/geometry")
        state = settings.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        self._first_launch = not (isinstance(state, QByteArray) and self.restoreState(state, LAYOUT_VERSION))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._first_launch:  # docks take sizes once shown: give the guide room for its table
            self._first_launch = False
            QTimer.singleShot(0, self, self._size_guide)

    def _size_guide(self) -> None:
        self.resizeDocks([self.getting_started], [GUIDE_HEIGHT], Qt.Orientation.Vertical)

    def save_layout(self) -> None:
        settings = self.studio.settings
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self.sessions.autosave()  # File > Reopen last session; before the panels stop
        self.studio.plugins.call("studio_stopping", studio=self.studio)
        # pyqtgraph views must be closed before Qt deletes them, or a late paint event can segfault
        for view in self.findChildren(pg.GraphicsView):
            view.close()
        super().closeEvent(event)

    # -- file drops ---------------------------------------------------------------------------
    def files_dropped(self, paths: list[Path]) -> None:
        self.route_files(paths)

    def route_files(self, paths: list[Path]) -> None:
        """Hand each file to every drop handler that accepts it; report files nobody takes."""
        taken: set[Path] = set()
        for contribution in self._drop_handlers:
            handler: DropHandler = contribution.item
            if contribution.plugin not in self.studio.plugins.plugin_names:
                continue  # disabled since
            mine = [p for p in paths if handler.accepts(p)]
            if mine:
                taken.update(mine)
                self._guarded(contribution.plugin, f"drop handler {handler.name}", handler.handle, mine)
        for path in paths:
            if path not in taken:
                self.studio.show_message(f"no panel takes {path.name}", 8000)

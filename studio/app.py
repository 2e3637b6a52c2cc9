"""Builds the Qt application, the shared services and the main window."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from studio import paths
from studio.plugin_manager import PluginManager
from studio.runtime.bundled_models import load_bundled_models, read_bundle
from studio.runtime.studio import Studio
from studio.ui.main_window import MainWindow

FIRST_PAINT_TIMEOUT_MS = 1000


def open_settings() -> QSettings:
    paths.config_dir().mkdir(parents=True, exist_ok=True)
    return QSettings(str(paths.settings_file()), QSettings.Format.IniFormat)


def build_studio(device: str | None = None, plugins: PluginManager | None = None,
                 bundle: bool = False) -> tuple[Studio, MainWindow]:
    """The studio and its main window, not yet shown (tests and embedding use this). With ``bundle``
    it knows the bundled models (checkpoints/); ``load_bundled_models(studio)`` then loads them."""
    studio = Studio.create(open_settings(), device, plugins)
    if bundle:
        studio.bundle = read_bundle(studio)
    window = MainWindow(studio)
    studio.plugins.call("studio_started", studio=studio)
    return studio, window


def start_gui(device: str | None = None, reset_layout: bool = False,
              bundle: bool = True) -> tuple[QApplication, Studio, MainWindow]:
    """The application and the studio's window, shown, with the bundled models loading (unless
    ``bundle`` is false: a session opened at launch brings its own models)."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("latent-studio")
    app.setOrganizationName("latent-studio")
    if reset_layout:
        settings = open_settings()
        settings.remove("window")
        settings.sync()
    studio, window = build_studio(device, bundle=bundle)
    # The loading job holds the GIL much of the time: start it once the window has painted, so a
    # launch shows the window first.
    window.installEventFilter(_AfterFirstPaint(window, lambda: load_bundled_models(studio)))
    window.show()
    return app, studio, window


class _AfterFirstPaint(QObject):
    """Calls ``then()`` once, after ``window``'s first paint (or after a second without one: a
    window that opens minimised)."""

    def __init__(self, window: QWidget, then: Callable[[], object]):
        super().__init__(window)
        self._then: Callable[[], object] | None = then
        QTimer.singleShot(FIRST_PAINT_TIMEOUT_MS, self, self._fire)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._then is not None:
            QTimer.singleShot(0, self, self._fire)  # after this paint is on screen
        return False

    def _fire(self) -> None:
        then, self._then = self._then, None
        if then is not None:
            self.parent().removeEventFilter(self)
            then()


def run_gui(device: str | None = None, reset_layout: bool = False, session: str | None = None) -> int:
    """``session``: a session file to open once the window is up (``latent-studio gui --session``)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app, studio, window = start_gui(device, reset_layout, bundle=not session)
    if session:
        window.sessions.open(session)  # a bad file is named in the status bar; the studio opens anyway
    try:
        return app.exec()
    finally:
        studio.shutdown()

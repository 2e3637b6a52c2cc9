"""Builds the Qt application, the shared services and the main window."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from studio import paths
from studio.plugin_manager import PluginManager
from studio.runtime.studio import Studio
from studio.ui.main_window import MainWindow


def open_settings() -> QSettings:
    paths.config_dir().mkdir(parents=True, exist_ok=True)
    return QSettings(str(paths.settings_file()), QSettings.Format.IniFormat)


def build_studio(device: str | None = None, plugins: PluginManager | None = None) -> tuple[Studio, MainWindow]:
    """The studio and its main window, not yet shown (tests and embedding use this)."""
    studio = Studio.create(open_settings(), device, plugins)
    window = MainWindow(studio)
    studio.plugins.call("studio_started", studio=studio)
    return studio, window


def run_gui(device: str | None = None, reset_layout: bool = False) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("latent-studio")
    app.setOrganizationName("latent-studio")
    if reset_layout:
        settings = open_settings()
        settings.remove("window")
        settings.sync()
    studio, window = build_studio(device)
    window.show()
    try:
        return app.exec()
    finally:
        studio.shutdown()

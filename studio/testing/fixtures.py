"""pytest fixtures for plugin authors, registered through the ``pytest11`` entry point.

    def test_my_panel(make_studio):
        studio = make_studio(my_plugin_module)        # a real studio window with your plugin
        panel = studio.panels["my_panel"]

Qt and torch are imported inside the fixtures, so installing latent-studio does not slow down
unrelated test suites. Run Qt tests with ``QT_QPA_PLATFORM=offscreen`` on machines without a display.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def studio_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private settings/data folder for this test (``LATENT_STUDIO_HOME``)."""
    from studio.paths import HOME_ENV

    home = tmp_path / "studio-home"
    monkeypatch.setenv(HOME_ENV, str(home))
    return home


@pytest.fixture
def make_studio(qtbot, studio_home):
    """Factory: ``make_studio(*plugins, discover=True, device="cpu")`` -> a :class:`Studio` whose
    main window (``studio.window``) is built with the installed plugins (unless ``discover`` is
    false) plus ``plugins`` (modules or objects with hookimpls). Shut down after the test."""
    from studio.app import build_studio
    from studio.plugin_manager import PluginManager

    made = []

    def factory(*plugins, discover: bool = True, device: str = "cpu"):
        manager = PluginManager()
        if discover:
            manager.discover()
        for plugin in plugins:  # named after the module, or the class of a plugin object
            manager.register(plugin, getattr(plugin, "__name__", None) or type(plugin).__name__)
        studio, window = build_studio(device, manager)
        qtbot.addWidget(window)
        made.append(studio)
        return studio

    yield factory
    for studio in made:
        studio.window.close()  # as a user would: saves the layout, tells plugins
        studio.shutdown()

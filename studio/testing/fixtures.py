"""pytest fixtures for plugin authors, registered through the ``pytest11`` entry point.

    import pytest
    import my_package.studio_plugin as my_plugin

    @pytest.mark.studio_plugins(my_plugin)
    def test_my_panel(studio_window):                # a real main window with your plugin
        panel = studio_window.studio.panels["my_panel"]

- ``studio_window``: the shown main window of a studio built with the plugins of the test's
  ``studio_plugins(*plugins, builtins=True, discover=False)`` marker (modules or objects with
  hookimpls), plus the built-in model kinds and datasets unless ``builtins=False``, plus every
  installed plugin if ``discover=True``.
- ``make_studio(*plugins, discover=True, device="cpu")``: a factory for one or more studios.
- ``studio_home``: a private settings and data folder (``LATENT_STUDIO_HOME``) for the test.

After the test every window is closed and every studio shut down, then the leak check
(:mod:`studio.testing.leaks`) fails the test's teardown if threads, windows, a running training
worker, or the studio and its panels outlived it.

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
def make_studio(request, qtbot, studio_home):
    """Factory: ``make_studio(*plugins, discover=True, device="cpu")`` -> a :class:`Studio` whose
    main window (``studio.window``) is built with the installed plugins (unless ``discover`` is
    false) plus ``plugins`` (modules or objects with hookimpls). Shut down after the test."""
    from studio.app import build_studio
    from studio.plugin_manager import PluginManager
    from studio.testing.leaks import LeakWatch

    watch = request.node.stash[_LEAK_WATCH] = LeakWatch()  # before anything is built
    made = []

    def factory(*plugins, discover: bool = True, device: str = "cpu"):
        manager = PluginManager()
        if discover:
            manager.discover()
        for plugin in plugins:  # named after the module, or the class of a plugin object
            if not manager.is_registered(plugin):  # an installed plugin is discovered already
                manager.register(plugin, getattr(plugin, "__name__", None) or type(plugin).__name__)
        studio, window = build_studio(device, manager)
        qtbot.addWidget(window)
        watch.watch(studio)
        made.append(studio)
        return studio

    yield factory
    while made:
        _close(made.pop(0), watch)


def _close(studio, watch) -> None:
    import shiboken6

    if shiboken6.isValid(studio.window):
        studio.window.close()  # as a user would: saves the layout, tells plugins
    studio.shutdown()
    watch.shut_down(studio)


@pytest.fixture
def studio_window(request, make_studio):
    """The main window of a studio with the plugins of the test's ``studio_plugins`` marker,
    shown; ``studio_window.studio`` is the :class:`Studio`, ``.studio.panels`` its panels."""
    marker = request.node.get_closest_marker("studio_plugins")
    if marker is None:
        pytest.fail("studio_window needs the plugins to load: @pytest.mark.studio_plugins(my_plugin)", pytrace=False)
    plugins, builtins, discover = _marker_options(*marker.args, **marker.kwargs)
    if builtins:
        import studio_plugins.builtins

        plugins = (studio_plugins.builtins, *plugins)
    window = make_studio(*plugins, discover=discover).window
    window.show()
    return window


def _marker_options(*plugins, builtins: bool = True, discover: bool = False):
    return plugins, builtins, discover


# -- pytest hooks -----------------------------------------------------------------------------
_LEAK_WATCH = pytest.StashKey()
_CALL_PASSED = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "studio_plugins(*plugins, builtins=True, discover=False): the plugins that the studio_window "
        "fixture loads (modules or objects with hookimpls); builtins: also the built-in model kinds and "
        "datasets; discover: also every installed plugin",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    report = yield
    if report.when == "call":
        item.stash[_CALL_PASSED] = report.passed
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem):
    """After every fixture is torn down (windows closed, studios shut down): the leak check."""
    result = yield
    watch = item.stash.get(_LEAK_WATCH, None)
    # a failed test keeps its frames (sys.last_traceback), and with them what it held: one
    # failure is enough
    if watch is not None and item.stash.get(_CALL_PASSED, False):
        del item.stash[_LEAK_WATCH]
        getattr(item, "funcargs", {}).clear()  # pytest lets go of the fixture values only after teardown
        leaks = watch.leaks()
        if leaks:
            pytest.fail("the test left behind:\n  " + "\n  ".join(leaks), pytrace=False)
    return result

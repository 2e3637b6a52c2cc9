"""Discovery, allow/deny lists and isolation of a failing plugin (no Qt needed)."""

from importlib.metadata import EntryPoint

import pytest

import studio.plugin_manager as pm_module
from studio import hookimpl
from studio.contributions import DatasetSpec
from studio.plugin_manager import PluginManager


def _dataset(name):
    return DatasetSpec(name, name.title(), lambda size, channels, path, seed: None)


class GoodPlugin:
    @hookimpl
    def register_datasets(self):
        return [_dataset("good")]


class RaisingPlugin:
    @hookimpl
    def register_datasets(self):
        raise RuntimeError("boom in register_datasets")


@pytest.fixture
def fake_entry_points(monkeypatch):
    """Replace the installed entry points with the given ones."""

    def install(*eps):
        monkeypatch.setattr(pm_module, "entry_points", lambda group: [ep for ep in eps if ep.group == group])

    return install


def ep(name, value):
    return EntryPoint(name, value, "latent_studio")


def test_bundled_plugins_are_discovered_through_entry_points():
    manager = PluginManager()
    manager.discover()
    assert {"builtins", "trainer_monitor"} <= set(manager.plugin_names)
    assert not manager.problems


def test_broken_plugin_at_discovery_is_reported_and_others_load(fake_entry_points):
    fake_entry_points(ep("broken", "no_such_module_for_latent_studio"), ep("builtins", "studio_plugins.builtins"))
    manager = PluginManager()
    manager.discover()
    assert manager.plugin_names == ["builtins"]
    [problem] = manager.problems
    assert problem.plugin == "broken" and problem.stage == "discovery"
    assert "no_such_module_for_latent_studio" in problem.message
    assert "broken" in str(problem)


def test_plugin_raising_in_a_hook_is_disabled_and_others_still_contribute():
    manager = PluginManager()
    manager.register(GoodPlugin(), "good")
    manager.register(RaisingPlugin(), "raising")
    names = [c.item.name for c in manager.call("register_datasets")]
    assert names == ["good"]
    assert "raising" not in manager.plugin_names
    [problem] = manager.problems
    assert (problem.plugin, problem.stage) == ("raising", "register_datasets")
    assert "boom in register_datasets" in problem.message
    # disabled for good: a second call does not raise again or report twice
    assert [c.item.name for c in manager.call("register_datasets")] == ["good"]
    assert len(manager.problems) == 1


def test_contributions_carry_their_plugin_name():
    manager = PluginManager()
    manager.register(GoodPlugin(), "good")
    [contribution] = manager.call("register_datasets")
    assert contribution.plugin == "good"


def test_allow_list(monkeypatch, fake_entry_points):
    fake_entry_points(ep("builtins", "studio_plugins.builtins"), ep("trainer_monitor", "studio_plugins.trainer_monitor"))
    monkeypatch.setenv(pm_module.ALLOW_ENV, "builtins")
    manager = PluginManager()
    manager.discover()
    assert manager.plugin_names == ["builtins"]
    assert manager.skipped == ["trainer_monitor"]


def test_deny_list(monkeypatch, fake_entry_points):
    fake_entry_points(ep("builtins", "studio_plugins.builtins"), ep("trainer_monitor", "studio_plugins.trainer_monitor"))
    monkeypatch.setenv(pm_module.DENY_ENV, " trainer_monitor , other")
    manager = PluginManager()
    manager.discover()
    assert manager.plugin_names == ["builtins"]


def test_hookimpl_with_unknown_argument_is_refused_with_a_message():
    class Bad:
        @hookimpl
        def register_panels(self, not_an_argument):
            return []

    manager = PluginManager()
    manager.register(Bad(), "bad")
    assert "bad" not in manager.plugin_names
    assert manager.problems[0].plugin == "bad"


def test_trace_logs_hook_calls(monkeypatch, caplog):
    monkeypatch.setenv(pm_module.TRACE_ENV, "1")
    manager = PluginManager()
    manager.register(GoodPlugin(), "good")
    with caplog.at_level("INFO", logger="studio.plugin_manager"):
        manager.call("register_datasets")
    assert "register_datasets -> good" in caplog.text


def test_entry_point_modules_stay_light():
    """Discovering the bundled plugins must not import torch, Qt widgets or scikit-learn."""
    import subprocess
    import sys

    code = (
        "import sys; from studio.plugin_manager import PluginManager; m = PluginManager(); m.discover();"
        "m.call('register_panels'); m.call('register_model_kinds'); m.call('register_datasets');"
        "heavy = [n for n in ('torch', 'PySide6.QtWidgets', 'sklearn', 'pyqtgraph') if n in sys.modules];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_origin_of_a_discovered_plugin_names_its_distribution_and_file():
    import studio_plugins.builtins

    from studio import __version__
    from studio.plugin_manager import PluginOrigin

    manager = PluginManager()
    manager.discover()
    expected = PluginOrigin("studio_plugins.builtins", "latent-studio", __version__, studio_plugins.builtins.__file__)
    assert manager.origin("builtins") == expected
    assert str(expected) == f"latent-studio {__version__}, entry point studio_plugins.builtins"


def test_origin_of_broken_and_skipped_entry_points(monkeypatch, fake_entry_points):
    fake_entry_points(ep("broken", "no_such_module_for_latent_studio"), ep("builtins", "studio_plugins.builtins"),
                      ep("trainer_monitor", "studio_plugins.trainer_monitor"))
    monkeypatch.setenv(pm_module.DENY_ENV, "trainer_monitor")
    manager = PluginManager()
    manager.discover()
    broken, skipped = manager.origin("broken"), manager.origin("trainer_monitor")
    assert (broken.entry_point, broken.distribution) == ("no_such_module_for_latent_studio", None)
    assert broken.location is None  # no such module, so no file
    assert str(broken) == "an unknown distribution, entry point no_such_module_for_latent_studio"
    assert skipped.entry_point == "studio_plugins.trainer_monitor"
    assert skipped.location is None  # a skipped plugin is not imported, not even to find its file
    assert manager.origin("never_heard_of") is None


def test_a_plugin_registered_by_hand_says_so_and_where_its_class_lives():
    manager = PluginManager()
    manager.register(GoodPlugin(), "good")
    manager.register(RaisingPlugin(), "good")  # refused (the name is taken): the first keeps its origin
    origin = manager.origin("good")
    assert str(origin) == "registered by hand" and origin.entry_point is None
    assert origin.location == __file__
    assert manager.problems[0].plugin == "good"

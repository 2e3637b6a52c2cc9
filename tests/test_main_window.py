"""The main window: panels from plugins, isolation, View menu, layout restore, drops, About."""

from pathlib import Path

from studio import hookimpl
from studio.contributions import DropHandler, MenuAction, PanelSpec


class BrokenPanelPlugin:
    @hookimpl
    def register_panels(self):
        def factory(studio):
            raise ValueError("panel factory exploded")

        return [PanelSpec("broken_panel", "Broken", factory)]


class RaisingHookPlugin:
    @hookimpl
    def register_panels(self):
        raise RuntimeError("register_panels exploded")


class ToolPlugin:
    """A well-behaved third-party plugin: a panel, a menu entry that fails, a drop handler."""

    def __init__(self):
        self.dropped: list[Path] = []

    @hookimpl
    def register_panels(self):
        from PySide6.QtWidgets import QLabel

        return [PanelSpec("tool_panel", "Tool", lambda studio: QLabel("tool"), area="bottom")]

    @hookimpl
    def register_menu_actions(self):
        def fail(studio):
            raise KeyError("menu callback exploded")

        return [MenuAction("Tools", "Explode", fail)]

    @hookimpl
    def register_drop_handlers(self):
        return [DropHandler("pngs", lambda studio, paths: self.dropped.extend(paths), extensions=(".png",))]


def test_bundled_trainer_monitor_is_docked(make_studio):
    studio = make_studio()
    assert "trainer_monitor" in studio.window.docks
    assert studio.window.docks["trainer_monitor"].widget() is studio.panels["trainer_monitor"]
    view = [a.text() for a in studio.window._view_menu.actions()]
    assert "Trainer monitor" in view


def test_failing_panel_factory_disables_only_that_plugin(make_studio):
    studio = make_studio(BrokenPanelPlugin(), RaisingHookPlugin(), ToolPlugin())
    window = studio.window
    assert {"trainer_monitor", "tool_panel"} <= set(window.docks)
    assert "broken_panel" not in window.docks
    problems = {p.plugin: p for p in studio.plugins.problems}
    assert "panel factory exploded" in problems["BrokenPanelPlugin"].message
    assert "register_panels exploded" in problems["RaisingHookPlugin"].message
    # visible to the user: the Plugins menu names both, the status bar shows a message
    menu_text = " ".join(a.text() for a in window._plugins_menu.actions())
    assert "BrokenPanelPlugin — disabled" in menu_text and "RaisingHookPlugin — disabled" in menu_text
    assert "disabled" in window.statusBar().currentMessage()


def test_failing_menu_action_is_reported_and_studio_goes_on(make_studio):
    studio = make_studio(ToolPlugin())
    tools = studio.window._menus["Tools"]
    [action] = tools.actions()
    action.trigger()
    message = studio.window.statusBar().currentMessage()
    assert "ToolPlugin" in message and "menu callback exploded" in message


def test_dropped_files_go_to_the_plugins_that_take_them(make_studio, tmp_path):
    plugin = ToolPlugin()
    studio = make_studio(plugin)
    png, txt = tmp_path / "a.PNG", tmp_path / "notes.txt"
    png.write_bytes(b"x")
    txt.write_text("x")
    studio.window.route_files([png, txt])
    assert plugin.dropped == [png]
    assert "no panel takes notes.txt" in studio.window.statusBar().currentMessage()


def test_folder_drop_selects_folder_dataset(make_studio, tmp_path):
    studio = make_studio()
    studio.window.route_files([tmp_path])
    form = studio.panels["trainer_monitor"].form
    assert form.dataset.currentData() == "folder"
    assert form.folder.text() == str(tmp_path)


def test_layout_and_open_panels_are_restored(make_studio, qtbot):
    first = make_studio(ToolPlugin())
    first.window.show()
    first.window.docks["tool_panel"].close()
    first.window.close()  # saves the layout
    second = make_studio(ToolPlugin())
    second.window.show()
    qtbot.waitExposed(second.window)
    assert not second.window.docks["tool_panel"].isVisible()
    assert second.window.docks["trainer_monitor"].isVisible()


def test_about_names_versions_and_device(make_studio):
    from studio.runtime.openmp import background_threads
    from studio.ui.about import about_text

    studio = make_studio(discover=False)
    text = about_text(studio.models.device)
    for expected in ("torch", "PySide6", "Compute device", "cpu"):
        assert expected in text
    # the threads training and inference get, not the UI thread's one (studio/runtime/openmp.py)
    assert f"cpu ({background_threads()} threads)" in text


class TwoBottomPanels:
    @hookimpl
    def register_panels(self):
        from PySide6.QtWidgets import QLabel

        return [PanelSpec(f"bottom_{i}", f"Bottom {i}", lambda studio: QLabel("x"), area="bottom") for i in (1, 2)]


def test_panels_sharing_an_area_start_as_tabs(make_studio):
    studio = make_studio(TwoBottomPanels(), discover=False)
    window = studio.window
    first, second = window.docks["bottom_1"], window.docks["bottom_2"]
    assert window.tabifiedDockWidgets(first) == [second]

"""Keyboard shortcuts: the panels' actions, Help > Keyboard shortcuts, and keys reaching the panel
that has the focus."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu, QPushButton, QVBoxLayout, QWidget

import studio_plugins.attribute_editor as attribute_editor
import studio_plugins.builtins as builtins
import studio_plugins.loop_player as loop_player
import studio_plugins.phase_plot as phase_plot
import studio_plugins.switchboard as switchboard
import studio_plugins.trainer_monitor as trainer_monitor
import studio_plugins.z_walker as z_walker
from studio import hookimpl
from studio.contributions import MenuAction, PanelSpec
from studio.ml.models.dcgan import Generator
from studio.ml.models.vaegan import Encoder, VAEGANModel
from studio.ui.shortcuts import PANEL_SCOPE, ShortcutEntry, add_shortcut, list_shortcuts

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py

PANELS = (builtins, trainer_monitor, z_walker, phase_plot, loop_player, switchboard, attribute_editor)


class Counter(QWidget):
    """A third-party panel with Space, which other panels use too, and (``own``) a window-wide
    key of its own, made as a plain QAction."""

    def __init__(self, own: bool):
        super().__init__()
        self.hits = {"space": 0, "own": 0}
        self.button = QPushButton("focus me")
        QVBoxLayout(self).addWidget(self.button)
        add_shortcut(self, "Count", "Space", lambda: self.hits.__setitem__("space", self.hits["space"] + 1))
        if own:
            action = QAction("Do the &thing", self)
            action.setShortcut(QKeySequence("Ctrl+Alt+T"))
            action.triggered.connect(lambda: self.hits.__setitem__("own", self.hits["own"] + 1))
            self.addAction(action)


class ThirdParty:
    @hookimpl
    def register_panels(self):
        return [PanelSpec("counter_a", "Counter A", lambda studio: Counter(own=True), area="bottom"),
                PanelSpec("counter_b", "Counter B", lambda studio: Counter(own=False), area="top")]

    @hookimpl
    def register_menu_actions(self):
        return [MenuAction("Tools", "Tidy up", lambda studio: None, shortcut="Ctrl+Alt+U")]


def test_help_lists_every_shortcut_of_the_window_grouped(make_studio):
    studio = make_studio(*PANELS, ThirdParty(), discover=False)
    entries = list_shortcuts(studio.window)
    for expected in [
        ShortcutEntry("File", "Open session…", "Ctrl+O"),
        ShortcutEntry("File", "Save session", "Ctrl+S"),
        ShortcutEntry("File", "Save session as…", "Ctrl+Shift+S"),
        ShortcutEntry("File", "Quit", "Ctrl+Q"),
        ShortcutEntry("Tools", "Tidy up", "Ctrl+Alt+U"),
        ShortcutEntry("Trainer monitor", "Train / Continue", "F5"),
        ShortcutEntry("Trainer monitor", "Pause / Resume training", "F6"),
        ShortcutEntry("Trainer monitor", "Stop training", "Shift+F5"),
        ShortcutEntry("z-space walker", "Play / pause the walk", "Space", PANEL_SCOPE),
        ShortcutEntry("Closed loop", "Run the closed loop", "Ctrl+Return", PANEL_SCOPE),
        ShortcutEntry("Loop player", "Play / Stop", "Space", PANEL_SCOPE),
        ShortcutEntry("Concat switchboard", "All skips on", "Ctrl+Shift+A"),
        ShortcutEntry("Concat switchboard", "All skips off (bottleneck only)", "Ctrl+Shift+N"),
        ShortcutEntry("Attribute editor", "Reset sliders", "Ctrl+R", PANEL_SCOPE),
        ShortcutEntry("Attribute editor", "Undo the last slider change", "Ctrl+Z", PANEL_SCOPE),
        ShortcutEntry("Attribute editor", "Save PNG…", "Ctrl+E", PANEL_SCOPE),
        ShortcutEntry("Counter A", "Do the thing", "Ctrl+Alt+T"),  # a plugin's own QAction
        ShortcutEntry("Counter B", "Count", "Space", PANEL_SCOPE),
    ]:
        assert expected in entries, expected
    groups = [entry.group for entry in entries]
    assert groups.index("File") < groups.index("Tools") < groups.index("Help") < groups.index("Trainer monitor")
    window_wide = {}  # a key used window-wide by two actions would be ambiguous: Qt runs neither
    for entry in entries:
        if not entry.scope:
            assert entry.keys not in window_wide, (entry, window_wide.get(entry.keys))
            window_wide[entry.keys] = entry

    [help_menu] = [menu for menu in studio.window.findChildren(QMenu) if menu.title() == "&Help"]
    [action] = [a for a in help_menu.actions() if a.text() == "&Keyboard shortcuts"]
    action.trigger()
    dialog = studio.window._shortcuts_dialog
    assert dialog.isVisible()
    rows = dialog.rows()
    assert ("Attribute editor", "Reset sliders", f"Ctrl+R  ({PANEL_SCOPE})") in rows
    assert ("Help", "Keyboard shortcuts", "Ctrl+/") in rows
    assert len(rows) == len(entries)


def show_active(window, qtbot) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)


def test_a_shared_key_reaches_only_the_panel_with_the_focus(make_studio, qtbot):
    studio = make_studio(ThirdParty(), discover=False)
    show_active(studio.window, qtbot)
    a, b = studio.panels["counter_a"], studio.panels["counter_b"]
    a.button.setFocus()
    qtbot.keyClick(a.button, Qt.Key.Key_Space)
    assert a.hits["space"] == 1 and b.hits["space"] == 0
    b.button.setFocus()
    qtbot.keyClick(b.button, Qt.Key.Key_Space)
    assert a.hits["space"] == 1 and b.hits["space"] == 1
    qtbot.keyClick(b.button, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    assert a.hits["own"] == 1 and a.hits["space"] == 1  # A's window-wide key works from B


def test_ctrl_return_runs_the_closed_loop_of_the_focused_panel(make_studio, qtbot):
    studio = make_studio(phase_plot, trainer_monitor, builtins, discover=False)
    torch.manual_seed(0)
    model = VAEGANModel(Encoder(4, 8, 1, 32), Generator(4, 8, 1, 32)).eval().requires_grad_(False)
    panel = studio.panels["phase_plot"]
    studio.models.publish("tiny vaegan", model, {"kind": "vaegan", "step": 0})
    qtbot.waitUntil(lambda: panel.picker.current_name() == "tiny vaegan", timeout=5000)
    panel.form.count.setValue(4)
    panel.form.steps.setValue(10)
    show_active(studio.window, qtbot)
    studio.window.docks["phase_plot"].raise_()

    trainer = studio.panels["trainer_monitor"]
    trainer.form.steps.setFocus()  # the focus in another panel: its key does nothing there
    qtbot.keyClick(trainer.form.steps, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert panel._job is None and panel.result is None

    panel.run_bar.run_button.setFocus()
    qtbot.keyClick(panel.run_bar.run_button, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert panel._job is not None  # the job is on its way
    qtbot.waitUntil(lambda: panel.result is not None, timeout=30_000)
    assert panel.result.steps == 10 and len(panel.result.starts) == 4

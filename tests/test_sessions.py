"""Studio sessions: the file format, a save and restore of every bundled panel's state through real
checkpoint files, and what happens with a damaged file, a panel that raises, a missing checkpoint;
ModelPicker.choose, which a restored panel uses to pick its model once it is loaded."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtWidgets import QWidget
from torch import nn

import studio_plugins.attribute_editor as attribute_editor
import studio_plugins.builtins as builtins
import studio_plugins.loop_player as loop_player
import studio_plugins.phase_plot as phase_plot
import studio_plugins.switchboard as switchboard
import studio_plugins.trainer_monitor as trainer_monitor
import studio_plugins.z_walker as z_walker
from studio import hookimpl
from studio.catalog import Catalog, RunSetup
from studio.cli import build_parser
from studio.contributions import DatasetSpec, PanelSpec
from studio.ml.checkpoints import save_checkpoint
from studio.ml.data.audio import make_sine_tones
from studio.ml.data.heads import make_heads
from studio.ml.data.shapes import make_shapes
from studio.ml.training.run import checkpoint_meta
from studio.runtime.session import VERSION, Session, SessionError, last_session_path, read_session, save_session
from studio.testing.signals import SignalRecorder
from studio.ui.model_picker import ModelPicker, model_name_for
from studio_plugins.z_walker.work import Keyframe

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py

NZ = 8


class TinyData:
    """Small image, pair and sound sets: checkpoints of every panel's kind that load in a moment."""

    @hookimpl
    def register_datasets(self):
        return [
            DatasetSpec("tiny_shapes", "Tiny shapes", lambda size, channels, path, seed:
                        make_shapes(48, size, channels or 3, seed)),
            DatasetSpec("tiny_heads", "Tiny heads", lambda size, channels, path, seed:
                        make_heads(size=size, channels=channels or 3, identities=10, seed=seed), modality="paired"),
            DatasetSpec("tiny_tones", "Tiny tones", lambda rate, duration, path, seed:
                        make_sine_tones(8, rate, duration or 1.0, seed), modality="audio"),
        ]


PANELS = (builtins, trainer_monitor, z_walker, phase_plot, loop_player, switchboard, attribute_editor)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Untrained checkpoints, saved as a training run saves them: a VAE-GAN (walker, closed loop), a
    spectrogram GAN (loop player), a U-Net (switchboard) and linear directions of a DCGAN (editor)."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("session-models")
    catalog = Catalog(builtins.register_model_kinds(), TinyData().register_datasets())

    def save(folder: str, setup: RunSetup):
        trainer, data = catalog.build_trainer(setup, "cpu")
        return save_checkpoint(root / folder / "last.safetensors", trainer.state_tensors(),
                               checkpoint_meta(trainer, setup.dataset_info(data), {}))

    tiny = {"nz": NZ, "ngf": 8, "ndf": 8, "batch_size": 8}
    paths = {
        "vaegan": save("vaegan-run", RunSetup("vaegan", "tiny_shapes", image_size=32, channels=3,
                                              config={**tiny, "nef": 8})),
        "cq_dcgan": save("cq-run", RunSetup("cq_dcgan", "tiny_tones", sample_rate=3840, duration=1.0,
                                            config={**tiny, "batch_size": 4})),
        "unet": save("unet-run", RunSetup("unet", "tiny_heads", image_size=32, channels=3,
                                          config={"width": 4, "batch_size": 8})),
        "dcgan": save("dcgan-run", RunSetup("dcgan", "tiny_shapes", image_size=32, config=tiny)),
    }
    config = {"generator": str(paths["dcgan"]), "method": "linear", "directions": 4, "max_shift": 3.0}
    paths["directions"] = save("directions-run", RunSetup("directions", "tiny_shapes", image_size=32, seed=3,
                                                          config=config))
    return paths


def states(studio) -> dict:
    return {panel_id: panel.session_state() for panel_id, panel in studio.panels.items()
            if hasattr(panel, "session_state")}


def load(panel, qtbot, path, kind) -> str:
    name = model_name_for(path, kind)
    panel.picker.load_checkpoint(path)
    qtbot.waitUntil(lambda: panel.picker.current_name() == name, timeout=30_000)
    return name


def set_up_every_panel(studio, qtbot, checkpoints, tmp_path) -> None:
    """Change every panel away from its defaults, as a user would."""
    panels = studio.panels
    trainer = panels["trainer_monitor"]
    trainer.form.show_setup(RunSetup("dcgan", "tiny_shapes", image_size=64, channels=1, seed=7,
                                     config={"nz": 12, "ngf": 16}))
    trainer.form.steps.setValue(1234)
    trainer.form.sample_every.setValue(50)
    trainer.form.checkpoint_every.setValue(250)

    walker = panels["z_walker"]
    load(walker, qtbot, checkpoints["vaegan"], "vaegan")
    walker.walk.frames.setValue(9)
    walker.walk.mode.setCurrentIndex(walker.walk.mode.findData("linear"))
    walker.scrubber.fps.setValue(20)
    walker.scrubber.loop.setChecked(False)
    walker.walk.export_scale.setValue(3)
    for seed in (3, 5):
        walker.sources.seed.setValue(seed)
        walker.sources.add_seed_button.click()
    walker.keyframes.add([Keyframe("cat.png", np.linspace(-1, 1, NZ, dtype=np.float32), "encoder, RMS 0.1")])
    walker.scrubber.slider.setValue(3 * 16 + 5)  # between frames 4 and 5

    closed_loop = panels["phase_plot"]  # took the VAE-GAN when it was published: it has a closed loop
    qtbot.waitUntil(lambda: closed_loop.picker.current_name() == walker.picker.current_name(), timeout=5000)
    start_image = tmp_path / "start.png"
    Image.fromarray(np.full((32, 32, 3), 200, np.uint8)).save(start_image)
    form = closed_loop.form
    form.count.setValue(5)
    form.seed.setValue(7)
    form.steps.setValue(33)
    form.method.setCurrentText("exact")
    form.add_files([start_image])

    player = panels["loop_player"]
    load(player, qtbot, checkpoints["cq_dcgan"], "cq_dcgan")
    player.latent.set_values(4, 9, 30, "linear")
    player.transport.volume.setValue(40)

    board = panels["switchboard"]
    shown = SignalRecorder(board, "output_shown")
    load(board, qtbot, checkpoints["unet"], "unet")
    shown.wait(qtbot, "output_shown", timeout=30_000)  # its pairs loaded, the first one translated
    board.toggles.buttons[1].setChecked(False)  # latent2 off
    board.source.probe.setCurrentText("R only")
    board.source.split.setCurrentText("train")
    board.source.position.setValue(2)
    for skips, box in board.ablation.checks.items():
        box.setChecked(skips in ("none", "2"))
    board.ablation.steps.setValue(700)

    editor = panels["attribute_editor"]
    load(editor, qtbot, checkpoints["directions"], "directions")
    editor.source.seed.setValue(5)  # the start: seed 5
    editor.sliders.set_edits([(1, 1.5), (0, -0.5)])
    editor.tabs.setCurrentIndex(1)

    studio.window.docks["loop_player"].close()


def test_a_session_restores_every_panel_in_a_new_studio(make_studio, qtbot, checkpoints, tmp_path):
    first = make_studio(*PANELS, TinyData(), discover=False)
    second = make_studio(*PANELS, TinyData(), discover=False)  # built now: it cannot read the first's settings
    untouched = states(second)
    set_up_every_panel(first, qtbot, checkpoints, tmp_path)
    saved = states(first)
    assert set(saved) == {"trainer_monitor", "z_walker", "phase_plot", "loop_player", "switchboard",
                          "attribute_editor"}
    for panel_id, state in untouched.items():
        assert state != saved[panel_id], panel_id  # each panel really changed

    path = first.window.sessions.save(tmp_path / "work.json")
    assert path == tmp_path / "work.json" and first.window.sessions.problems == []
    assert "work.json" in first.window.windowTitle()
    on_disk = json.loads(path.read_text())
    assert on_disk["format"] == "latent-studio-session" and on_disk["version"] == VERSION
    assert on_disk["models"] == {model_name_for(checkpoints[kind], kind): str(checkpoints[kind])
                                 for kind in ("vaegan", "cq_dcgan", "unet", "directions")}
    assert "loop_player" not in on_disk["open_panels"] and "z_walker" in on_disk["open_panels"]
    assert on_disk["panels"] == json.loads(json.dumps(saved))

    assert second.window.sessions.open(path)
    assert second.window.sessions.problems == []
    assert second.window.docks["loop_player"].isHidden() and not second.window.docks["z_walker"].isHidden()
    for panel_id, panel in second.panels.items():  # models load as jobs; each panel catches up
        qtbot.waitUntil(lambda: panel.session_state() == saved[panel_id], timeout=60_000)
    assert sorted(second.models.names()) == sorted(on_disk["models"])
    walker = second.panels["z_walker"]
    assert [k.label for k in walker.keyframes.keyframes()] == ["seed 3", "seed 5", "cat.png"]
    qtbot.waitUntil(lambda: walker._path is not None, timeout=20_000)  # and the walk is drawn again
    editor = second.panels["attribute_editor"]
    qtbot.waitUntil(lambda: editor.edited is not None and editor.edited.edits == ((1, 1.5), (0, -0.5)),
                    timeout=20_000)
    assert second.window.sessions.problems == []


def test_closing_the_window_keeps_the_last_session(make_studio, qtbot):
    studio = make_studio(GoodPanelPlugin(), discover=False)
    studio.panels["good_panel"].value = 41
    studio.window.close()
    assert read_session(last_session_path()).panels == {"good_panel": {"value": 41}}
    again = make_studio(GoodPanelPlugin(), discover=False)
    again.window.sessions.reopen_last()
    assert again.panels["good_panel"].value == 41


# -- the file ------------------------------------------------------------------------------------
def test_the_file_round_trips_and_is_written_atomically(tmp_path):
    session = Session(b"\x01geometry", b"\x00state\xff", ["a"], {"m": "/x/last.safetensors"}, {"a": {"k": [1, 2.5]}})
    path = save_session(tmp_path / "s.json", session)
    assert read_session(path) == session
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]  # no temporary file left behind
    with pytest.raises(ValueError):  # NaN is not JSON: nothing is written, the old file stays whole
        save_session(path, Session(panels={"a": {"bad": float("nan")}}))
    assert read_session(path) == session and [p.name for p in tmp_path.iterdir()] == ["s.json"]


@pytest.mark.parametrize("text, expected", [
    ("", "is empty"),
    ('{"format": "latent-studio-session", "version": 1, "panels": {"a": ', "damaged or truncated"),
    ('{"format": "something else", "version": 1}', "not a usable latent-studio session"),
    ('{"format": "latent-studio-session", "version": 99}', "version 99 session"),
    ('{"format": "latent-studio-session", "version": 1, "panels": {"a": 3}}', "\"panels\""),
    ('{"format": "latent-studio-session", "version": 1, "window": {"state": "%%%"}}', "not base64"),
])
def test_a_bad_file_is_refused_with_its_name(tmp_path, text, expected):
    path = tmp_path / "broken session.json"
    path.write_text(text)
    with pytest.raises(SessionError) as caught:
        read_session(path)
    assert str(path) in str(caught.value) and expected in str(caught.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(SessionError, match="nowhere.json does not exist"):
        read_session(tmp_path / "nowhere.json")


def test_opening_a_truncated_session_changes_nothing_and_says_why(make_studio, tmp_path):
    studio = make_studio(GoodPanelPlugin(), discover=False)
    panel = studio.panels["good_panel"]
    panel.value = 3
    path = studio.window.sessions.save(tmp_path / "cut.json")
    path.write_text(path.read_text()[:40])  # a crash or a bad copy cut it short
    panel.value = 5
    assert not studio.window.sessions.open(path)
    assert panel.value == 5
    message = studio.window.statusBar().currentMessage()
    assert str(path) in message and "truncated" in message


# -- isolation -----------------------------------------------------------------------------------
class GoodPanel(QWidget):
    def __init__(self):
        super().__init__()
        self.value = 0

    def session_state(self):
        return {"value": self.value}

    def restore_session(self, state):
        self.value = state["value"]


class BadPanel(QWidget):
    def session_state(self):
        raise RuntimeError("cannot say its state")

    def restore_session(self, state):
        raise RuntimeError("cannot take its state")


class NotJsonPanel(QWidget):
    def session_state(self):
        return {"frames": {1, 2}}  # a set


class GoodPanelPlugin:
    @hookimpl
    def register_panels(self):
        return [PanelSpec("good_panel", "Good", lambda studio: GoodPanel())]


class BadPanelPlugin:
    @hookimpl
    def register_panels(self):
        return [PanelSpec("bad_panel", "Bad", lambda studio: BadPanel()),
                PanelSpec("odd_panel", "Odd", lambda studio: NotJsonPanel())]


def test_a_panel_that_raises_is_named_and_the_others_are_saved_and_restored(make_studio, tmp_path):
    studio = make_studio(GoodPanelPlugin(), BadPanelPlugin(), discover=False)
    sessions = studio.window.sessions
    studio.panels["good_panel"].value = 7
    path = sessions.save(tmp_path / "s.json")
    assert read_session(path).panels == {"good_panel": {"value": 7}}
    assert len(sessions.problems) == 2
    assert "plugin 'BadPanelPlugin' (panel 'bad_panel') failed in session_state" in sessions.problems[0]
    assert "cannot say its state" in sessions.problems[0]
    assert "'odd_panel'" in sessions.problems[1] and "JSON" in sessions.problems[1]

    session = read_session(path)
    session.panels["bad_panel"] = {"anything": 1}
    session.panels["good_panel"] = {"value": 11}
    save_session(path, session)
    assert sessions.open(path)
    assert studio.panels["good_panel"].value == 11
    assert len(sessions.problems) == 1 and "BadPanelPlugin" in sessions.problems[0]
    assert "cannot take its state" in studio.window.statusBar().currentMessage()


def test_missing_and_broken_checkpoints_are_named_and_the_rest_is_restored(make_studio, qtbot, tmp_path):
    studio = make_studio(GoodPanelPlugin(), discover=False)
    torn = tmp_path / "torn.safetensors"
    torn.write_bytes(b"\x10\x00\x00\x00")
    missing = tmp_path / "gone" / "last.safetensors"
    path = save_session(tmp_path / "s.json", Session(
        models={"gone model": str(missing), "torn model": str(torn)}, panels={"good_panel": {"value": 9}}))
    sessions = studio.window.sessions
    assert sessions.open(path)
    assert studio.panels["good_panel"].value == 9
    assert not studio.window.docks["good_panel"].isHidden()  # the session names no open panels: kept
    assert any(str(missing) in problem and "missing" in problem for problem in sessions.problems)
    qtbot.waitUntil(lambda: not sessions.loading, timeout=20_000)
    assert any("torn.safetensors" in problem and "torn model" in problem for problem in sessions.problems)
    assert studio.models.names() == []


# -- choosing a model by name ----------------------------------------------------------------------
class Looping(nn.Identity):
    def loop(self, z):
        return z


def test_choose_waits_for_the_model_and_yields_to_the_user(make_studio, qtbot):
    studio = make_studio(discover=False)
    picker = ModelPicker(studio)
    qtbot.addWidget(picker)
    calls = []
    assert not picker.choose("later", then=lambda: calls.append(picker.current_name()))
    assert picker.wanted == "later"
    studio.models.publish("other", nn.Identity())
    qtbot.waitUntil(lambda: picker.current_name() == "other", timeout=5000)  # the first model, meanwhile
    studio.models.publish("later", nn.Identity())
    qtbot.waitUntil(lambda: picker.current_name() == "later", timeout=5000)
    assert calls == ["later"] and picker.wanted == ""

    assert picker.choose("other", then=lambda: calls.append("now"))  # held already: chosen at once
    assert picker.current_name() == "other" and calls == ["later", "now"]

    picker.choose("third", then=lambda: calls.append("third"))
    picker.combo.activated.emit(picker.combo.findText("later"))  # the user picks a model meanwhile
    picker.combo.setCurrentText("later")
    studio.models.publish("third", nn.Identity())
    qtbot.waitUntil(lambda: picker.combo.findText("third") >= 0, timeout=5000)
    assert picker.current_name() == "later" and calls == ["later", "now"]


def test_choose_leaves_a_model_that_does_not_fit(make_studio, qtbot):
    studio = make_studio(discover=False)
    picker = ModelPicker(studio, accepts=lambda module: hasattr(module, "loop"))
    qtbot.addWidget(picker)
    studio.models.publish("plain", nn.Identity())
    assert not picker.choose("plain") and picker.current_name() == ""
    studio.models.publish("looping", Looping())
    qtbot.waitUntil(lambda: picker.current_name() == "looping", timeout=5000)


def test_gui_takes_a_session_file():
    from studio.plugin_manager import PluginManager

    args = build_parser(Catalog.from_plugins(PluginManager())).parse_args(["gui", "--session", "work.json"])
    assert args.command == "gui" and args.session == "work.json"

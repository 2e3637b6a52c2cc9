"""The sample sketchbook as a user drives it, in a real studio window (the ``studio_window``
fixture that latent-studio installs for plugin tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMenu

import studio_example.plugin as sketchbook
from studio import hookimpl
from studio.contributions import PanelSpec
from studio.ml.models.dcgan import Generator
from studio.runtime.training_worker import live_model_name
from studio.testing.signals import SignalRecorder
from studio_example.panel import SAMPLES_PER_DRAW
from studio_example.work import draw_samples

pytestmark = pytest.mark.studio_plugins(sketchbook)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from more threads, and busy machines lose a lot to them."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def panel_of(window):
    return window.studio.panels[sketchbook.PANEL_ID]


def publish_generator(studio, name: str, kind: str = "dcgan") -> Generator:
    torch.manual_seed(0)
    generator = Generator(nz=8, ngf=8, channels=3, image_size=32).eval().requires_grad_(False)
    studio.models.publish(name, generator, {"kind": kind, "config": {"nz": 8}, "step": 0})
    return generator


def write_png(path: Path, colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", (40, 30), colour).save(path)
    return path


def drop_on(widget, files: list[Path]) -> None:
    """As a file manager drops files: the drag enters (and is accepted), then the drop with their
    URLs. Handed to the widget's handlers: Qt delivers a drop only at the end of a real drag."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPoint(5, 5), *args)
    widget.dragEnterEvent(enter)
    assert enter.isAccepted()
    widget.dropEvent(QDropEvent(QPointF(5, 5), *args))


def test_the_panel_is_docked_and_listed_in_the_view_menu(studio_window):
    dock = studio_window.docks[sketchbook.PANEL_ID]
    assert dock.widget() is panel_of(studio_window) and dock.isVisible()
    [view] = [menu for menu in studio_window.findChildren(QMenu) if menu.title() == "&View"]
    assert dock.toggleViewAction() in view.actions() and dock.windowTitle() == "Sample sketchbook"
    assert not studio_window.studio.plugins.problems


def test_samples_of_a_published_generator_are_drawn_off_the_ui_thread(studio_window, qtbot):
    panel, studio = panel_of(studio_window), studio_window.studio
    shown = SignalRecorder(panel, "samples_shown")
    publish_generator(studio, "tones", kind="cq_dcgan")  # draws spectrograms: not for this panel
    generator = publish_generator(studio, "faces")
    assert shown.wait(qtbot, "samples_shown", timeout=20_000) == ("faces",)
    assert [panel.picker.combo.itemText(i) for i in range(panel.picker.combo.count())] == ["faces"]
    expected = draw_samples(SAMPLES_PER_DRAW, 0)(generator, torch.device("cpu"))
    assert np.array_equal(panel.samples, expected) and expected.shape == (4 * 34 + 2, 4 * 34 + 2, 3)
    assert panel.view.has_image

    panel.seed.setValue(7)  # another seed draws other samples
    shown.wait(qtbot, "samples_shown", count=2, timeout=20_000)
    assert not np.array_equal(panel.samples, expected)


def test_dropped_images_become_thumbnails_and_a_corrupt_one_is_named(studio_window, qtbot, tmp_path):
    panel = panel_of(studio_window)
    read = SignalRecorder(panel, "images_read")
    red = write_png(tmp_path / "red.png", (200, 0, 0))
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not the rest of a JPEG")
    studio_window.route_files([red, corrupt])  # dropped on the main window: our drop handler
    assert read.wait(qtbot, "images_read", timeout=20_000) == (1,)
    assert panel.thumbnails.paths() == [red]
    assert "corrupt.jpg" in panel.status.text()
    assert "corrupt.jpg" in studio_window.statusBar().currentMessage()

    blue = write_png(tmp_path / "blue.bmp", (0, 0, 200))
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    drop_on(panel, [blue, notes])  # dropped on the panel itself
    assert read.wait(qtbot, "images_read", count=2, timeout=20_000) == (1,)
    assert panel.thumbnails.paths() == [red, blue]
    assert "notes.txt" in panel.status.text()


def train_sketch(panel, qtbot, steps: int) -> str:
    studio = panel.studio
    finished = SignalRecorder(studio.training, "finished")
    panel.steps.setValue(steps)
    panel.train_button.click()
    out_dir = finished.wait(qtbot, "finished", timeout=120_000)[0]
    qtbot.waitUntil(lambda: panel.picker.current_name() == live_model_name("dcgan"), timeout=10_000)
    qtbot.waitUntil(lambda: panel.progress.value() == steps, timeout=10_000)
    return out_dir


def test_a_sketch_trains_on_the_shapes_and_appears_in_the_picker(studio_window, qtbot, studio_home):
    panel = panel_of(studio_window)
    shown = SignalRecorder(panel, "samples_shown")
    out_dir = Path(train_sketch(panel, qtbot, steps=3))
    assert out_dir.is_relative_to(studio_home) and (out_dir / "last.safetensors").is_file()
    meta = studio_window.studio.models.get(live_model_name("dcgan")).meta
    assert meta["step"] == 3 and meta["setup"]["dataset"] == "shapes"
    shown.wait(qtbot, "samples_shown", where=lambda name: name == live_model_name("dcgan"), timeout=20_000)
    assert panel.train_button.isEnabled() and "sketch done" in panel.status.text()


def test_a_sketch_trains_on_the_dropped_images(studio_window, qtbot, tmp_path):
    panel = panel_of(studio_window)
    read = SignalRecorder(panel, "images_read")
    panel.add_images([write_png(tmp_path / "red.png", (200, 0, 0)), write_png(tmp_path / "green.png", (0, 200, 0))])
    read.wait(qtbot, "images_read", timeout=20_000)
    out_dir = Path(train_sketch(panel, qtbot, steps=2))
    setup = studio_window.studio.models.get(live_model_name("dcgan")).meta["setup"]
    assert setup["dataset"] == "folder" and Path(setup["dataset_path"]) == out_dir / "images"
    assert sorted(p.name for p in (out_dir / "images").iterdir()) == ["000-red.png", "001-green.png"]


class BrokenSketchbook:
    """A copy of the plugin with a bug in its panel factory."""

    @hookimpl
    def register_panels(self):
        def explode(studio):
            raise RuntimeError("the broken sketchbook cannot build its panel")

        return [PanelSpec("broken_sketchbook", "Broken sketchbook", explode)]


@pytest.mark.studio_plugins(sketchbook, BrokenSketchbook())
def test_a_broken_copy_is_disabled_and_the_sketchbook_still_works(studio_window, qtbot):
    studio = studio_window.studio
    assert "broken_sketchbook" not in studio_window.docks
    [problem] = studio.plugins.problems
    assert (problem.plugin, problem.stage) == ("BrokenSketchbook", "panel broken_sketchbook")
    assert "the broken sketchbook cannot build its panel" in problem.message
    assert "BrokenSketchbook" in studio_window.statusBar().currentMessage()

    panel = panel_of(studio_window)
    shown = SignalRecorder(panel, "samples_shown")
    publish_generator(studio, "faces")
    assert shown.wait(qtbot, "samples_shown", timeout=20_000) == ("faces",)

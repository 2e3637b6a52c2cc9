"""The z-space walker panel as a user drives it: keyframes, scrubbing, playback, drops, export."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from torch import nn

import studio_plugins.z_walker as z_walker
from studio_plugins.z_walker.panel import DETAILS_MS
from studio.catalog import RunSetup
from studio.ml.data.base import ImageDataset
from studio.testing.signals import SignalRecorder

CONFIG = {"image_size": 32, "channels": 3, "nz": 8, "nef": 8, "ngf": 8, "ndf": 8, "batch_size": 8}
MODEL = "vaegan: tiny"
FRAMES = 9


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py


class StubVAEGAN(nn.Module):
    """What the panel needs of a VAE-GAN (``nz``, ``model(z)``, ``encode``), as two random linear
    maps: images that change visibly with z (an untrained DCGAN draws near-constant gray), built
    in milliseconds."""

    nz = 8

    def __init__(self):
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            self.decoder = nn.Sequential(nn.Linear(8, 3 * 32 * 32), nn.Tanh())
            self.encoder = nn.Linear(3 * 32 * 32, 8)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z).reshape(len(z), 3, 32, 32)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images.flatten(1))


@pytest.fixture
def walker(make_studio, qtbot):
    """The panel with a stub VAE-GAN published and its 40 training images indexed."""
    studio = make_studio(z_walker, discover=False)
    images = torch.randint(0, 256, (40, 3, 32, 32), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    setup = RunSetup("vaegan", "shapes", image_size=32, channels=3, seed=0, config=CONFIG).to_dict()
    studio.datasets.put(setup, ImageDataset("tiny", images))  # as a loaded checkpoint leaves it
    model = StubVAEGAN().eval()
    panel = studio.panels[z_walker.PANEL_ID]
    panel.walk.frames.setValue(FRAMES)
    studio.models.publish(MODEL, model, {"kind": "vaegan", "config": CONFIG, "step": 0, "setup": setup})
    qtbot.waitUntil(lambda: panel.picker.current_name() == MODEL, timeout=5000)
    qtbot.waitUntil(lambda: panel.sources.add_dataset_button.isEnabled(), timeout=10_000)  # indexed
    return studio, panel


def add_seeds(panel, qtbot, *seeds: int) -> None:
    for seed in seeds:
        panel.sources.seed.setValue(seed)
        panel.sources.add_seed_button.click()
    qtbot.waitUntil(lambda: panel._path is not None and panel.walk.view.has_image, timeout=10_000)


def image_of(panel) -> np.ndarray:
    return panel._point.image.numpy()


def test_panel_without_a_model_says_so(make_studio):
    studio = make_studio(z_walker, discover=False)
    panel = studio.panels[z_walker.PANEL_ID]
    assert "No model yet" in panel.walk.view.text()
    assert not panel.sources.add_seed_button.isEnabled() and not panel.walk.export_gif_button.isEnabled()


def test_seed_keyframes_make_a_path_with_novelty(walker, qtbot):
    studio, panel = walker
    assert "Add keyframes" in panel.walk.view.text()
    add_seeds(panel, qtbot, 0, 1, 2)
    assert [k.label for k in panel.keyframes.keyframes()] == ["seed 0", "seed 1", "seed 2"]
    path = panel._path
    assert path.frames.shape == (FRAMES, 3, 32, 32) and path.keyframe_images.shape == (3, 3, 32, 32)
    assert len(path.neighbours.index) == FRAMES and path.xy.shape == (FRAMES, 2)
    assert panel.keyframes.list.item(0).icon().isNull() is False  # thumbnails of what the model draws
    # the slider starts at s = 0: the first frame, whose nearest training image came with the path
    qtbot.waitUntil(lambda: "distance" in panel.novelty.distance.text(), timeout=5000)
    assert panel.novelty.nearest_caption.text() == f"nearest training image #{path.neighbours.index[0]}"
    assert "from their nearest other training image" in panel.novelty.distance.text()


def test_dragging_the_slider_updates_the_image(walker, qtbot):
    studio, panel = walker
    add_seeds(panel, qtbot, 0, 1)
    first = image_of(panel)
    slider = panel.scrubber.slider
    results = SignalRecorder(studio.models, "result_ready")
    slider.setSliderDown(True)  # the user holds the handle...
    for value in (5, 23, slider.maximum() - 3):  # ...and drags it, between frames too
        s = value / slider.maximum()
        slider.setSliderPosition(value)
        results.wait(qtbot, "result_ready", where=lambda requester, stamp, result, s=s: requester == z_walker.PANEL_ID
                     and abs(result.s - s) < 1e-9)
        qtbot.waitUntil(lambda s=s: abs(panel._point.s - s) < 1e-9, timeout=5000)
    assert slider.isSliderDown() and not np.array_equal(image_of(panel), first)
    # between frames the nearest training image is searched once the slider rests
    found = results.wait(qtbot, "result_ready", where=lambda requester, *_: requester == f"{z_walker.PANEL_ID}/nearest")
    index = int(found[2].index[0])
    qtbot.waitUntil(lambda: panel.novelty.nearest_caption.text() == f"nearest training image #{index}", timeout=5000)
    assert f"distance {found[2].distance[0]:.3f}" in panel.novelty.distance.text()
    slider.setSliderDown(False)
    # the end of the path is the last keyframe
    slider.setValue(slider.maximum())
    qtbot.waitUntil(lambda: panel._point.s == 1.0, timeout=5000)
    assert np.array_equal(image_of(panel), panel._path.frames[-1].numpy())


def star_xy(panel) -> np.ndarray:
    x, y = panel.pca.current.getData()
    return np.array([x[0], y[0]]) if len(x) else np.full(2, np.nan)


def test_while_the_slider_is_held_the_map_follows_the_image_a_little_later(walker, qtbot):
    """Repainting the PCA map and the novelty costs as much as drawing the point: while the handle
    moves they follow at most every DETAILS_MS; a single move updates them with the image."""
    studio, panel = walker
    add_seeds(panel, qtbot, 0, 1)
    slider = panel.scrubber.slider
    shown = SignalRecorder(panel, "point_shown")
    slider.setSliderDown(True)
    slider.setSliderPosition(23)
    shown.wait(qtbot, "point_shown")
    point = panel._point
    assert not np.allclose(star_xy(panel), point.xy)  # the image is new, the star not yet
    qtbot.waitUntil(lambda: np.allclose(star_xy(panel), point.xy), timeout=2 * DETAILS_MS + 1000)
    assert f"s = {point.s:.3f}" in panel.novelty.generated_caption.text()
    slider.setSliderDown(False)
    slider.setValue(slider.maximum())
    shown.wait(qtbot, "point_shown", where=lambda s: s == 1.0)
    assert np.allclose(star_xy(panel), panel._point.xy)  # at rest: at once


def test_play_without_loop_stops_at_the_end(walker, qtbot):
    studio, panel = walker
    add_seeds(panel, qtbot, 3, 4)
    panel.scrubber.fps.setValue(60)
    panel.scrubber.loop.setChecked(False)
    panel.scrubber.play_button.click()
    qtbot.waitUntil(lambda: not panel.scrubber.play_button.isChecked(), timeout=5000)
    assert panel.scrubber.position() == 1.0 and panel.scrubber.frame() == FRAMES - 1


def drop(panel, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    panel.dropEvent(event)


@pytest.mark.parametrize("name, content", [
    ("x.png", b"this is a text file, not a picture\n"),
    ("cut.png", "truncated"),
    ("empty.jpg", b""),
])
def test_dropping_a_bad_file_names_it_and_changes_nothing(walker, qtbot, tmp_path, name, content):
    studio, panel = walker
    add_seeds(panel, qtbot, 0, 1)
    path_before, keys_before = panel._path, panel.keyframes.keyframes()
    bad = tmp_path / name
    if content == "truncated":
        Image.new("RGB", (64, 64), (200, 30, 30)).save(tmp_path / "whole.png")
        data = (tmp_path / "whole.png").read_bytes()
        bad.write_bytes(data[: len(data) // 2])
    else:
        bad.write_bytes(content)
    drop(panel, bad)
    qtbot.waitUntil(lambda: not panel.message.isHidden() and name in panel.message.text(), timeout=10_000)
    assert "Nothing was added" in panel.message.text()
    assert panel.keyframes.keyframes() == keys_before and panel._path is path_before


def test_dropped_image_and_training_image_become_keyframes(walker, qtbot, tmp_path):
    studio, panel = walker
    Image.new("RGB", (80, 60), (20, 120, 220)).save(tmp_path / "blue.png")
    drop(panel, tmp_path / "blue.png")
    qtbot.waitUntil(lambda: len(panel.keyframes) == 1, timeout=10_000)
    panel.sources.index.setValue(7)
    panel.sources.add_dataset_button.click()
    qtbot.waitUntil(lambda: len(panel.keyframes) == 2, timeout=10_000)
    labels = [k.label for k in panel.keyframes.keyframes()]
    assert labels == ["blue.png", "shapes #7"]
    assert all(k.detail.startswith("encoder, RMS") for k in panel.keyframes.keyframes())
    assert panel.message.isHidden()


def test_export_writes_a_strip_and_a_gif(walker, qtbot, tmp_path):
    studio, panel = walker
    add_seeds(panel, qtbot, 0, 1, 2)
    panel.walk.export_scale.setValue(2)
    strip = panel.export_strip(tmp_path / "walk.png")
    gif = panel.export_gif(tmp_path / "walk.gif")
    with Image.open(strip) as picture:
        assert picture.size == (2 * (FRAMES * 34 + 2), 2 * 36)  # 32 px frames, 2 px gutters, doubled
    with Image.open(gif) as animation:
        assert animation.n_frames == FRAMES and animation.info["loop"] == 0
        assert animation.size == (64, 64)


def test_mode_and_frames_are_remembered(walker, qtbot):
    studio, panel = walker
    panel.walk.mode.setCurrentIndex(panel.walk.mode.findData("linear"))
    panel.walk.frames.setValue(12)
    settings = studio.settings
    assert settings.value(f"{z_walker.PANEL_ID}/mode") == "linear"
    assert int(settings.value(f"{z_walker.PANEL_ID}/frames")) == 12


class StubGAN(StubVAEGAN):
    """A generator without an encoder: images become keyframes by optimising z."""

    encode = None


def test_a_gan_inverts_dropped_images_and_can_cancel(make_studio, qtbot, tmp_path):
    studio = make_studio(z_walker, discover=False)
    panel = studio.panels[z_walker.PANEL_ID]
    studio.models.publish("gan", StubGAN().eval(), {"config": CONFIG})  # no training data recorded
    qtbot.waitUntil(lambda: panel.picker.current_name() == "gan", timeout=5000)
    assert "does not record its training data" in panel.novelty.nearest.text()
    Image.new("RGB", (32, 32), (200, 40, 40)).save(tmp_path / "red.png")
    panel.take_files([tmp_path / "red.png"])
    panel.job_status.cancel_all()  # at once: the job stops at its next step, having added nothing
    qtbot.waitUntil(lambda: "cancelled" in panel.message.text(), timeout=10_000)
    assert len(panel.keyframes) == 0 and panel.job_status.isHidden()
    panel.take_files([tmp_path / "red.png"])
    assert not panel.job_status.isHidden()  # progress and Cancel while it runs
    qtbot.waitUntil(lambda: len(panel.keyframes) == 1, timeout=20_000)
    keyframe = panel.keyframes.keyframes()[0]
    assert keyframe.label == "red.png" and keyframe.detail.startswith("optimised z, RMS")

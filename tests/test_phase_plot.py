"""The Closed loop panel as a user drives it: run from random starts, pick a trajectory, drop files."""

import json

import numpy as np
import pytest
import torch

import studio_plugins.phase_plot as plugin
from studio.ml.models.dcgan import Generator
from studio.ml.models.vaegan import Encoder, VAEGANModel
from studio.testing.signals import SignalRecorder

NZ = 4


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py


@pytest.fixture
def panel(make_studio, qtbot):
    studio = make_studio(plugin, discover=False)
    torch.manual_seed(0)
    model = VAEGANModel(Encoder(NZ, 8, 1, 32), Generator(NZ, 8, 1, 32)).eval().requires_grad_(False)
    studio.models.publish("tiny vaegan", model, {"kind": "vaegan", "step": 0})
    panel = studio.panels["phase_plot"]
    qtbot.waitUntil(lambda: panel.picker.current_name() == "tiny vaegan", timeout=5000)
    return panel


def run_and_wait(panel, qtbot, count=8, steps=20):
    panel.form.count.setValue(count)
    panel.form.steps.setValue(steps)
    jobs = SignalRecorder(panel.studio.jobs, "finished", "failed")
    frames = SignalRecorder(panel.studio.models, "result_ready")
    panel.run_bar.run_button.click()
    jobs.wait(qtbot, "finished", timeout=30_000)
    assert not jobs.args("failed")
    frames.wait(qtbot, "result_ready", timeout=10_000)  # the first trajectory's filmstrip
    return frames


def test_a_run_from_random_starts_shows_counts_and_a_filmstrip(panel, qtbot):
    run_and_wait(panel, qtbot)
    result = panel.result
    assert result.states.shape == (21, 8, NZ)
    shown = {kind: int(label.text().split()[0]) for kind, label in panel.counts.numbers.items()}
    assert shown == result.counts and sum(shown.values()) == 8
    assert panel.run_bar.run_button.isEnabled() and panel.run_bar.bar.value() == panel.run_bar.bar.maximum()
    assert panel.phase.points.shape == (21, 8, 2) and panel.return_map.values.shape == (21, 8)
    qtbot.waitUntil(lambda: panel.filmstrip.images is not None, timeout=5000)
    assert panel.filmstrip.images.shape[1:] == (1, 32, 32) and panel.selected == 0
    panel.return_map.choose("latent", 1)  # the return map of another coordinate
    assert np.array_equal(panel.return_map.values, result.states[..., 1])
    assert panel.return_map.coordinate.currentText() == "z[1]"


def test_clicking_near_a_trajectory_picks_it_and_shows_its_filmstrip(panel, qtbot):
    frames = run_and_wait(panel, qtbot)
    points = panel.phase.points
    # the midpoint of trajectory 5's first segment, where no other trajectory is likely drawn
    target = points[0, 5] + 0.5 * (points[1, 5] - points[0, 5])
    picked = panel.phase.trajectory_near(*target)
    assert picked is not None
    panel.phase.trajectory_picked.emit(picked)
    frames.wait(qtbot, "result_ready", count=2, timeout=10_000)
    qtbot.waitUntil(lambda: panel.selected == picked and panel.filmstrip.images is not None, timeout=5000)
    assert f"#{picked}" in panel.filmstrip.caption.text()
    assert panel.result.orbits[picked].kind in panel.filmstrip.caption.text()
    film = panel.filmstrip
    expected = panel.result.images(picked, film.steps).numpy()
    assert np.array_equal(film.images, expected)
    far = points[..., 0].max() + 100.0, points[..., 1].max() + 100.0
    assert panel.phase.trajectory_near(*far) is None


def test_cancel_shows_the_partial_run(panel, qtbot):
    panel.form.count.setValue(4)
    panel.form.steps.setValue(20_000)
    jobs = SignalRecorder(panel.studio.jobs, "progress", "finished")
    panel.run_bar.run_button.click()
    assert panel.run_bar.cancel_button.isEnabled() and not panel.run_bar.run_button.isEnabled()
    jobs.wait(qtbot, "progress", timeout=10_000)
    panel.run_bar.cancel_button.click()
    jobs.wait(qtbot, "finished", timeout=10_000)
    assert panel.result.cancelled and 0 < panel.result.steps < 20_000
    assert panel.run_bar.status.text().startswith(f"cancelled at step {panel.result.steps}")
    assert panel.run_bar.run_button.isEnabled()


def test_a_file_that_is_no_image_is_named_and_changes_nothing(panel, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("no pixels here")
    panel.drop_files([notes])
    assert "notes.txt" in panel.alert.text() and not panel.alert.isHidden()
    assert panel.form.files == [] and panel.form.source() == "random"


def test_dropped_images_become_start_points(panel, qtbot, tmp_path):
    from PIL import Image

    paths = []
    for i in range(2):
        paths.append(tmp_path / f"view{i}.png")
        Image.fromarray(np.full((48, 48, 3), 60 * i, np.uint8)).save(paths[-1])
    panel.drop_files(paths)
    assert panel.form.files == paths and panel.form.source() == "images"
    run_and_wait(panel, qtbot, steps=10)
    assert panel.result.starts.labels == ["view0.png", "view1.png"]


def test_export_writes_the_plots_and_the_summary(panel, qtbot, tmp_path):
    run_and_wait(panel, qtbot, steps=10)
    qtbot.waitUntil(lambda: panel.filmstrip.images is not None, timeout=5000)
    written = panel.export(tmp_path / "out")
    assert sorted(p.name for p in written) == ["filmstrip.png", "phase.png", "returnmap.png", "summary.json"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["counts"] == panel.result.counts and summary["model"]["name"] == "tiny vaegan"

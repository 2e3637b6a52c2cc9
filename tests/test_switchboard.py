"""The Concat switchboard panel as a user drives it: a published U-Net on its own pairs, latents
switched off, colour probes, the one-on grid, dropped files, and a two-variant skip ablation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import studio_plugins.builtins as builtins
import studio_plugins.switchboard as plugin
from studio import hookimpl
from studio.catalog import RunSetup
from studio.contributions import DatasetSpec
from studio.ml.analysis.switchboard import grid_channel_map
from studio.ml.data.heads import make_heads
from studio.ml.models.unet import UNet
from studio.runtime.training_worker import RunRequest
from studio.testing.signals import SignalRecorder

SIZE, WIDTH = 32, 4
TINY = {"width": WIDTH, "batch_size": 8}

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py


class TinyHeads:
    """10 heads at 32 px (60 pairs, 12 of them test pairs): the heads, small enough to train on."""

    @hookimpl
    def register_datasets(self):
        def build(size, channels, path, seed):
            return make_heads(size=size, channels=channels or 3, identities=10, seed=seed)

        return [DatasetSpec("tiny_heads", "Tiny heads", build, modality="paired")]


def publish_unet(studio, name: str, skips=(1, 2, 3, 4)) -> UNet:
    torch.manual_seed(0)
    model = UNet(3, SIZE, WIDTH, skips).eval().requires_grad_(False)
    config = dict(TINY, skips="".join(map(str, skips)) or "none")
    setup = RunSetup("unet", "tiny_heads", image_size=SIZE, channels=3, config=config)
    meta = {"kind": "unet", "config": {**config, "image_size": SIZE, "channels": 3}, "step": 0,
            "setup": setup.to_dict()}
    studio.models.publish(name, model, meta)
    return model


@pytest.fixture
def studio(make_studio):
    return make_studio(builtins, plugin, TinyHeads(), discover=False)


@pytest.fixture
def panel(studio, qtbot):
    panel = studio.panels["switchboard"]
    shown = SignalRecorder(panel, "output_shown")
    publish_unet(studio, "full u-net")
    qtbot.waitUntil(lambda: panel.picker.current_name() == "full u-net", timeout=5000)
    shown.wait(qtbot, "output_shown", timeout=20_000)  # the pairs loaded, the first pair translated
    return panel


def switch(panel, qtbot, latent: int, on: bool):
    """Set latent ``latent``'s switch (as a click would, also on a disabled one) and wait for the output."""
    shown = SignalRecorder(panel, "output_shown")
    panel.toggles.buttons[latent - 1].setChecked(on)
    shown.wait(qtbot, "output_shown", timeout=10_000)
    return panel.translation


def test_a_published_unet_translates_a_test_pair_of_its_own_data(panel, studio):
    from studio.ml.models.dcgan import Generator

    studio.models.publish("a gan", Generator(4, 8, 3, 32).eval(), {"kind": "dcgan", "step": 0})
    assert [panel.picker.combo.itemText(i) for i in range(panel.picker.combo.count())] == ["full u-net"]
    source, index = panel.source, panel.source.pair_index()
    assert source.split.currentText() == "test" and source.pairs.test[index]
    assert source.pairs.labels[index] in source.pair_label.text()  # "head 0, yaw -90°"
    result = panel.translation
    assert result.keep == (True,) * 5 and result.output.shape == (3, SIZE, SIZE)
    expected = ((panel.shown.input_image().float() - source.pairs.inputs[index].float()).abs().max())
    assert float(expected) == 0  # no probe: the input is the pair's input
    assert 0 < result.mse < 1 and f"MSE {result.mse:.4f}" in panel.comparison.difference_caption.text()
    assert panel.comparison.output.has_image and panel.comparison.difference.has_image
    assert panel.comparison.target.has_image


def test_switching_latent1_off_changes_the_output_and_a_missing_skip_changes_nothing(panel, studio, qtbot):
    before = panel.translation.output
    off = switch(panel, qtbot, 1, False)
    assert off.keep == (False, True, True, True, True) and not torch.equal(off.output, before)
    assert "-latent1" in panel.comparison.output_caption.text()

    publish_unet(studio, "concat2", skips=(2,))
    shown = SignalRecorder(panel, "output_shown")
    panel.picker.combo.setCurrentText("concat2")
    shown.wait(qtbot, "output_shown", timeout=10_000)
    buttons = panel.toggles.buttons
    assert panel.toggles.keep() == (True,) * 5  # a new model: every switch back on
    assert [b.isEnabled() for b in buttons] == [False, True, False, False, True]
    assert buttons[0].toolTip() == "this model was trained without latent1"
    full = panel.translation.output
    assert torch.equal(switch(panel, qtbot, 1, False).output, full)  # latent1 never reaches its decoder
    assert not torch.equal(switch(panel, qtbot, 2, False).output, full)


def test_probes_keep_their_channels_in_input_and_target(panel, qtbot):
    index = panel.source.pair_index()
    pair_input, pair_target = panel.source.pairs.inputs[index], panel.source.pairs.targets[index]
    shown = SignalRecorder(panel, "output_shown")
    panel.source.probe.setCurrentText("G only")
    shown.wait(qtbot, "output_shown", timeout=10_000)
    image, target = panel.shown.input_image(), panel.shown.target_image()
    assert torch.equal(image[1], pair_input[1]) and torch.equal(target[1], pair_target[1])
    assert image[[0, 2]].max() == 0 and target[[0, 2]].max() == 0  # black: -1 -> 0
    assert "G only" in panel.comparison.input_caption.text()

    panel.source.probe.setCurrentText("colour grid")
    shown.wait(qtbot, "output_shown", count=2, timeout=10_000)
    image, channel = panel.shown.input_image(), grid_channel_map(SIZE)
    for c in range(3):
        assert torch.equal(image[c][channel == c], pair_input[c][channel == c])
        assert image[c][channel != c].max() == 0
    assert panel.translation.separation.shape == (3, 3)
    assert "colour separation: mean" in panel.comparison.output_caption.text()


def test_one_on_grid_has_seven_columns_and_exports(panel, qtbot, tmp_path):
    from PIL import Image

    results = SignalRecorder(panel.studio.models, "result_ready")
    panel.grid_buttons.buttons["one-on"].click()
    results.wait(qtbot, "result_ready", where=lambda requester, *_: requester.endswith(".grid"), timeout=20_000)
    grid = panel.grid_view.grid
    assert grid.columns == ["input", "all", *(f"only latent{i}" for i in range(1, 6))]
    assert len(grid.rows) == 4 and grid.images.shape == (4 * 7, 3, SIZE, SIZE)
    assert torch.equal(grid.images[0], panel.shown.input_image())  # the input on show comes first
    assert torch.equal(grid.images[1], panel.translation.output)  # "all" is what the panel shows
    assert panel.tabs.currentWidget() is panel.grid_view
    written = panel.export_grid(tmp_path / "one-on.png")
    assert Image.open(written).size[0] > 7 * SIZE


def test_a_dropped_corrupt_file_is_named_and_a_good_image_has_no_target(panel, qtbot, tmp_path):
    from PIL import Image

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    before = panel.translation
    panel.files_dropped([broken])
    assert "broken.png" in panel.alert.text() and not panel.alert.isHidden()
    assert "broken.png" in panel.studio.window.statusBar().currentMessage()
    assert panel.translation is before and panel.source.dropped_name is None

    face = tmp_path / "face.jpg"
    Image.fromarray(np.full((80, 60, 3), (200, 120, 40), np.uint8)).save(face)
    shown = SignalRecorder(panel, "output_shown")
    panel.files_dropped([face])
    shown.wait(qtbot, "output_shown", timeout=10_000)
    assert panel.alert.isHidden() and "face.jpg" in panel.source.file_label.text()
    assert panel.shown.target is None and panel.translation.mse is None
    assert not panel.comparison.target.has_image and "no target" in panel.comparison.target_caption.text()
    assert tuple(panel.shown.input_image().shape) == (3, SIZE, SIZE)

    panel.source.back_button.click()  # back to the pair, with its target
    shown.wait(qtbot, "output_shown", count=2, timeout=10_000)
    assert panel.dropped is None and panel.translation.mse is not None and panel.comparison.target.has_image


def test_an_ablation_of_two_variants_fills_two_rows(panel, qtbot):
    box = panel.ablation
    assert "tiny_heads" in box.data.text()  # the model's own data
    for skips, check in box.checks.items():
        check.setChecked(skips in ("none", "2"))
    box.steps.setValue(3)
    done = SignalRecorder(box.runner, "finished", "variant_failed")
    box.run_button.click()
    assert not box.run_button.isEnabled() and box.table.rowCount() == 2
    rows = done.wait(qtbot, "finished", timeout=60_000)[0]
    assert not done.args("variant_failed")
    assert [(r.label, r.steps) for r in rows] == [("AE", 3), ("Concat2", 3)]
    for index, row in enumerate(rows):
        assert math.isfinite(row.train_mse) and math.isfinite(row.test_mse)
        assert box.table.item(index, 3).text() == f"{row.train_mse:.4f}"
        assert box.table.item(index, 0).text() == row.label
    assert (box.runner.plan.out_dir / "mse.md").exists() and (box.runner.plan.out_dir / "concat2").is_dir()
    assert "unet: concat2/last" in panel.studio.models.names()  # each variant can be looked at
    assert box.run_button.isEnabled()


def test_the_ablation_waits_for_a_busy_worker(panel, studio, qtbot, tmp_path):
    setup = RunSetup("unet", "tiny_heads", image_size=SIZE, channels=3, config=TINY)
    worker = SignalRecorder(studio.training, "run_started", "finished")
    studio.training.start(RunRequest(10**6, tmp_path / "other", setup))
    worker.wait(qtbot, "run_started", timeout=20_000)
    panel.ablation.run_button.click()
    assert "busy" in panel.ablation.status.text() and panel.ablation.table.rowCount() == 0
    studio.training.stop()
    worker.wait(qtbot, "finished", timeout=20_000)


def test_failing_variants_are_reported_in_their_rows_and_the_next_one_still_runs(panel, qtbot, tmp_path):
    from studio_plugins.switchboard.ablation_run import AblationPlan

    box = panel.ablation
    setup = RunSetup("unet", "tiny_heads", image_size=SIZE, channels=3, config={"wdth": 4})  # a typo: no such parameter
    done = SignalRecorder(box.runner, "finished", "variant_failed")
    assert box.runner.start(AblationPlan(("none", "2"), 2, setup, tmp_path / "ablation")) is None
    rows = done.wait(qtbot, "finished", timeout=20_000)[0]
    assert [index for index, _message in done.args("variant_failed")] == [0, 1]
    assert all(math.isnan(row.train_mse) for row in rows)
    assert box.table.item(1, 3).text().startswith("failed: could not start training")
    assert "0 of 2 variant(s) evaluated" in box.status.text() and box.run_button.isEnabled()

"""The shared model picker: lists the models that fit a panel, loads checkpoints in the background."""

import pytest
from torch import nn

from studio.catalog import RunSetup
from studio.testing.signals import SignalRecorder
from studio.ui.model_picker import ModelPicker

TINY = {"nz": 4, "nef": 8, "ngf": 8, "ndf": 8, "batch_size": 4}


class WithLoop(nn.Identity):
    def loop(self, z):
        return z


@pytest.fixture
def studio(make_studio):
    return make_studio(discover=False)


def tiny_checkpoint(studio, out_dir):
    from studio.ml.training.run import RunSettings, TrainingRun

    setup = RunSetup("vaegan", "walk", image_size=32, channels=3, seed=0, config=TINY)
    trainer, dataset = studio.catalog.build_trainer(setup, "cpu")
    run = TrainingRun(trainer, RunSettings(out_dir, total_steps=1), setup.dataset_info(dataset))
    run.advance()
    return run.close(save=True)


def test_only_models_that_fit_are_offered(studio, qtbot):
    studio.models.publish("plain", nn.Identity())
    picker = ModelPicker(studio, accepts=lambda module: hasattr(module, "loop"))
    qtbot.addWidget(picker)
    seen = SignalRecorder(picker, "model_changed")
    assert picker.current_name() == "" and picker.current() is None
    studio.models.publish("looping", WithLoop())
    qtbot.waitUntil(lambda: picker.current_name() == "looping", timeout=5000)
    assert [picker.combo.itemText(i) for i in range(picker.combo.count())] == ["looping"]
    studio.models.publish("looping", WithLoop())  # a newer snapshot of the model on show
    seen.wait(qtbot, "model_changed", count=2, timeout=5000)


def test_a_checkpoint_loads_in_the_background_with_its_data(make_studio, qtbot, tmp_path):
    import studio_plugins.builtins

    studio = make_studio(studio_plugins.builtins, discover=False)  # the built-in kinds and datasets
    path = tiny_checkpoint(studio, tmp_path / "walk-run")
    picker = ModelPicker(studio, accepts=lambda module: hasattr(module, "encode"))
    qtbot.addWidget(picker)
    picker.load_checkpoint(path)
    qtbot.waitUntil(lambda: picker.current_name() == "vaegan: walk-run/last", timeout=30_000)
    loaded = picker.current()
    assert loaded.meta["step"] == 1 and loaded.meta["setup"]["dataset"] == "walk"
    assert len(studio.datasets.get(loaded.meta["setup"])) == 1024  # cached by the load, not rebuilt


def test_a_broken_checkpoint_is_reported_by_name(studio, qtbot, tmp_path):
    bad = tmp_path / "torn.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00")
    picker = ModelPicker(studio)
    qtbot.addWidget(picker)
    messages = SignalRecorder(studio, "message")
    picker.load_checkpoint(bad)
    (text, _) = messages.wait(qtbot, "message", timeout=10_000)
    assert "torn.safetensors" in text
    qtbot.waitUntil(picker.load_button.isEnabled, timeout=5000)
    assert picker.current_name() == ""

"""The trainer monitor panel as a user drives it: train, load, continue, save, open a log."""


import pytest

from studio.catalog import RunSetup
from studio.runtime.training_worker import RunRequest
from studio.testing.signals import SignalRecorder

TINY = {"nz": 16, "ngf": 8, "ndf": 8, "batch_size": 8, "lr": 2e-4, "beta1": 0.5}


@pytest.fixture
def finished_run(make_studio, qtbot, tmp_path):
    studio = make_studio()
    setup = RunSetup("dcgan", "digits", image_size=32, channels=1, seed=0, config=TINY)
    seen = SignalRecorder(studio.training, "finished")
    studio.training.start(RunRequest(12, tmp_path / "run", setup, sample_every=4, checkpoint_every=100))
    seen.wait(qtbot, "finished", timeout=60_000)
    return studio, tmp_path / "run"


def test_panel_follows_a_run(finished_run, qtbot):
    studio, run_dir = finished_run
    panel = studio.panels["trainer_monitor"]
    qtbot.waitUntil(lambda: panel.samples.steps == [0, 4, 8, 12], timeout=5000)
    series = panel.loss_plot.series
    assert set(series) == {"loss_D", "loss_G"} and series["loss_G"].steps.tolist() == list(range(1, 13))
    assert panel.progress.bar.value() == 12 and panel.train_button.isEnabled()
    # stepping back through earlier grids
    panel.samples.slider.setValue(1)
    assert panel.samples.caption.text().startswith("step 4")


def test_load_checkpoint_then_continue(finished_run, qtbot):
    studio, run_dir = finished_run
    panel = studio.panels["trainer_monitor"]
    panel.form.param_forms["dcgan"].set_values({})  # the form no longer shows the run's settings
    panel.load_checkpoint(run_dir / "last.safetensors")
    assert panel.form.dataset.currentData() == "digits"
    assert panel.form.param_forms["dcgan"].values()["nz"] == 16
    assert panel.loss_plot.series["loss_D"].steps.tolist() == list(range(1, 13))
    assert panel.train_button.text() == "Continue"
    panel.form.steps.setValue(15)
    seen = SignalRecorder(studio.training, "finished")
    panel.train()
    seen.wait(qtbot, "finished", timeout=60_000)
    qtbot.waitUntil(lambda: panel.loss_plot.series["loss_D"].steps[-1] == 15, timeout=5000)
    assert panel.loss_plot.series["loss_D"].steps.tolist() == list(range(1, 16))


def test_save_checkpoint_where_the_user_asks(finished_run, qtbot, tmp_path):
    studio, run_dir = finished_run
    target = tmp_path / "elsewhere" / "mine.safetensors"
    seen = SignalRecorder(studio.training, "checkpoint_saved")
    studio.training.save_checkpoint(target)
    assert seen.wait(qtbot, "checkpoint_saved", timeout=10_000) == (str(target), 12)
    from studio.ml.checkpoints import read_checkpoint_meta

    assert read_checkpoint_meta(target)["step"] == 12


def test_bad_checkpoint_and_log_are_reported_by_name(make_studio, tmp_path):
    studio = make_studio()
    panel = studio.panels["trainer_monitor"]
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    panel.load_checkpoint(bad)
    assert "broken.safetensors" in panel.alert.text()
    assert panel.train_button.text() == "Train"  # nothing half-loaded


def test_open_metrics_log(finished_run):
    studio, run_dir = finished_run
    panel = studio.panels["trainer_monitor"]
    panel.loss_plot.clear()
    studio.window.route_files([run_dir / "metrics.jsonl"])  # dropped on the window
    assert panel.loss_plot.series["loss_G"].steps.tolist() == list(range(1, 13))


def test_an_audio_kind_trains_on_audio_from_the_form_and_the_loop_player_gets_it(make_studio, qtbot):
    studio = make_studio()
    panel, form = studio.panels["trainer_monitor"], studio.panels["trainer_monitor"].form
    form.kind.setCurrentIndex(form.kind.findData("cq_dcgan"))
    assert {form.dataset.itemData(i) for i in range(form.dataset.count())} == {"sine_tones", "bass_loops",
                                                                               "audio_folder"}
    assert form.sample_rate.isVisibleTo(form) and not form.image_size.isVisibleTo(form)
    form.param_forms["cq_dcgan"].set_values({"nz": 8, "ngf": 4, "ndf": 4, "batch_size": 4})
    form.steps.setValue(2)
    seen = SignalRecorder(studio.training, "finished")
    panel.train()
    seen.wait(qtbot, "finished", timeout=60_000)
    player = studio.panels["loop_player"]
    qtbot.waitUntil(lambda: player.picker.current_name() != "", timeout=10_000)
    meta = player.picker.current().meta
    assert meta["kind"] == "cq_dcgan" and meta["config"]["sample_rate"] == 3840
    assert meta["setup"]["dataset"] == "sine_tones"
    form.kind.setCurrentIndex(form.kind.findData("dcgan"))  # and back: image datasets again
    assert form.dataset.findData("shapes") >= 0 and form.dataset.findData("sine_tones") < 0
    assert form.image_size.isVisibleTo(form) and not form.sample_rate.isVisibleTo(form)


def test_the_unet_trains_on_heads_from_the_form(make_studio, qtbot):
    studio = make_studio()
    panel, form = studio.panels["trainer_monitor"], studio.panels["trainer_monitor"].form
    form.kind.setCurrentIndex(form.kind.findData("unet"))
    assert {form.dataset.itemData(i) for i in range(form.dataset.count())} == {"heads", "heads_plain", "paired_folder"}
    assert form.image_size.isVisibleTo(form) and not form.sample_rate.isVisibleTo(form)
    form.image_size.setCurrentIndex(form.image_size.findData(32))
    form.param_forms["unet"].set_values({"skips": "2", "width": 4, "batch_size": 4})
    form.steps.setValue(3)
    seen = SignalRecorder(studio.training, "finished", "samples")
    panel.train()
    seen.wait(qtbot, "finished", timeout=60_000)
    assert set(panel.loss_plot.series) >= {"loss_mse", "loss_test_mse"}
    step, grid = seen.args("samples")[-1]
    assert grid.shape[:2] == (6 * 34 + 2, 6 * 34 + 2)  # (input, output, target) x 2 per row, 6 rows


def test_a_run_started_by_another_panel_starts_the_curves_afresh(make_studio, qtbot, tmp_path):
    studio = make_studio()
    panel = studio.panels["trainer_monitor"]
    seen = SignalRecorder(studio.training, "finished")
    for count, name in ((1, "first"), (2, "second")):
        setup = RunSetup("dcgan", "digits", image_size=32, channels=1, seed=count, config=TINY)
        studio.training.start(RunRequest(3 * count, tmp_path / name, setup, sample_every=100))
        seen.wait(qtbot, "finished", count=count, timeout=60_000)
    qtbot.waitUntil(lambda: len(panel.loss_plot.series["loss_G"].steps) == 6)
    assert panel.loss_plot.series["loss_G"].steps.tolist() == list(range(1, 7))  # the second run's only


def test_directions_train_on_a_generator_checkpoint_from_the_form(finished_run, qtbot):
    studio, run_dir = finished_run
    panel, form = studio.panels["trainer_monitor"], studio.panels["trainer_monitor"].form
    form.kind.setCurrentIndex(form.kind.findData("directions"))
    form.dataset.setCurrentIndex(form.dataset.findData("digits"))  # the generator's own data
    form.image_size.setCurrentIndex(form.image_size.findData(32))
    form.param_forms["directions"].set_values({"generator": str(run_dir / "last.safetensors"), "method": "warped",
                                                "directions": 3, "batch_size": 4})
    form.steps.setValue(3)
    seen = SignalRecorder(studio.training, "finished", "samples")
    panel.train()
    seen.wait(qtbot, "finished", timeout=60_000)
    assert set(panel.loss_plot.series) >= {"loss_total", "loss_direction", "loss_shift"}
    step, grid = seen.args("samples")[-1]
    assert grid.shape[:2] == (8 * 34 + 2, 8 * 34 + 2)  # eight fixed z, each along one direction
    published = [studio.models.get(name) for name in studio.models.names()]
    assert [m.module.method for m in published if m.meta["kind"] == "directions"] == ["warped"]

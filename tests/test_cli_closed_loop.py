"""``latent-studio closed-loop`` on a tiny VAE-GAN checkpoint: the summary and the three figures."""

import json

import pytest
from PIL import Image

from studio.catalog import Catalog, RunSetup
from studio.cli import main
from studio.commands.closed_loop import parse_coordinate
from studio.plugin_manager import PluginManager

TINY = {"nz": 4, "nef": 8, "ngf": 8, "ndf": 8, "batch_size": 4}


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from studio.ml.training.run import RunSettings, TrainingRun

    plugins = PluginManager()
    plugins.discover()
    catalog = Catalog.from_plugins(plugins)
    setup = RunSetup("vaegan", "walk", image_size=32, channels=3, seed=0, config=TINY)
    trainer, dataset = catalog.build_trainer(setup, "cpu")
    run = TrainingRun(trainer, RunSettings(tmp_path_factory.mktemp("run"), total_steps=1), setup.dataset_info(dataset))
    run.advance()
    return run.close(save=True)


@pytest.mark.parametrize("starts", ["random", "dataset"])
def test_writes_summary_and_figures(checkpoint, tmp_path, capsys, starts):
    out = tmp_path / "loop"
    code = main(["closed-loop", str(checkpoint), "--out", str(out), "--starts", starts, "--count", "6",
                 "--steps", "16", "--seed", "3", "--coordinate", "z1", "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert sum(summary["counts"].values()) == 6 and len(summary["trajectories"]) == 6
    settings = summary["settings"]
    assert (settings["steps"], settings["starts"], settings["count"], settings["start_seed"]) == (16, starts, 6, 3)
    assert summary["model"]["kind"] == "vaegan" and summary["model"]["step"] == 1
    assert {"total", "iterate", "per_step_ms"} <= set(summary["timings"])
    if starts == "dataset":
        assert all(t["start"].startswith("walk #") for t in summary["trajectories"])
    for name in ("phase.png", "returnmap.png", "filmstrip.png"):
        with Image.open(out / name) as image:
            assert image.width > 100 and image.height > 60
    with Image.open(out / "filmstrip.png") as film:  # one row of frames per class found
        kinds = sum(1 for n in summary["counts"].values() if n)
        assert film.height >= kinds * 64
    assert "trajectories x 16 steps" in capsys.readouterr().out


def test_errors_name_the_problem(checkpoint, tmp_path, capsys):
    missing = tmp_path / "nowhere.safetensors"
    assert main(["closed-loop", str(missing), "--out", str(tmp_path)]) == 2
    assert "nowhere.safetensors" in capsys.readouterr().err
    assert main(["closed-loop", str(checkpoint), "--out", str(tmp_path), "--coordinate", "z9"]) == 2
    assert "z9" in capsys.readouterr().err


def test_parse_coordinate():
    assert parse_coordinate("PC1") == ("pca", 0) and parse_coordinate("z3") == ("latent", 3)
    for bad in ("pc0", "x1", "z"):
        with pytest.raises(ValueError):
            parse_coordinate(bad)

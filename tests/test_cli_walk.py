"""`latent-studio walk` on tiny checkpoints: strip, GIF, novelty report and PCA map."""

import json

import numpy as np
import pytest
from PIL import Image

from studio.cli import main

TINY = ["--nz", "8", "--ngf", "8", "--ndf", "8", "--batch-size", "8"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """A VAE-GAN and a DCGAN trained for 2 steps on a folder of 24 small images."""
    root = tmp_path_factory.mktemp("walk-cli")
    images = root / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(24):
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(images / f"im{i:02d}.png")
    made = {}
    for kind, extra in (("vaegan", ["--nef", "8"]), ("dcgan", [])):
        out = root / kind
        code = main(["train", kind, "--dataset", "folder", "--data-path", str(images), "--steps", "2",
                     "--out", str(out), "--sample-every", "100", *TINY, *extra])
        assert code == 0
        made[kind] = out / "last.safetensors"
    made["images"] = images
    return made


def test_walk_between_seeds_writes_every_output(checkpoints, tmp_path, capsys):
    out = tmp_path / "walk"
    code = main(["walk", str(checkpoints["vaegan"]), "--out", str(out), "--seeds", "0,1,2", "--frames", "7",
                 "--mode", "linear", "--scale", "2"])
    assert code == 0, capsys.readouterr().err
    report = json.loads((out / "novelty.json").read_text())
    assert report["keyframes"] == ["seed 0", "seed 1", "seed 2"] and report["mode"] == "linear"
    assert [f["frame"] for f in report["frames"]] == list(range(7))
    assert report["frames"][0]["s"] == 0.0 and report["frames"][-1]["s"] == 1.0
    assert all(0 <= f["nearest_index"] < 24 and 0 <= f["distance"] <= 1 for f in report["frames"])
    assert set(report["training_nn_distance"]) == {"median", "p10", "p90", "sampled"}
    assert "[0, 1]" in report["distance"]
    with Image.open(out / "strip.png") as strip:
        assert strip.size == (2 * (7 * 34 + 2), 2 * 36)
    with Image.open(out / "path.gif") as gif:
        assert gif.n_frames == 7 and gif.size == (64, 64)
    with Image.open(out / "pca.png") as pca:
        assert pca.size[0] > 200
    assert "7 frames through 3 keyframes" in capsys.readouterr().out


def test_walk_from_images_optimises_z_for_a_gan(checkpoints, tmp_path, capsys):
    files = [checkpoints["images"] / "im03.png", checkpoints["images"] / "im11.png"]
    out = tmp_path / "walk"
    code = main(["walk", str(checkpoints["dcgan"]), "--out", str(out), "--images", *map(str, files),
                 "--frames", "4", "--invert-steps", "5"])
    assert code == 0, capsys.readouterr().err
    labels = json.loads((out / "novelty.json").read_text())["keyframes"]
    assert labels[0].startswith("im03.png (optimised, RMS") and labels[1].startswith("im11.png")


def test_walk_from_training_images_uses_the_encoder(checkpoints, tmp_path, capsys):
    out = tmp_path / "walk"
    code = main(["walk", str(checkpoints["vaegan"]), "--out", str(out), "--dataset-indices", "3,20",
                 "--frames", "3"])
    assert code == 0, capsys.readouterr().err
    labels = json.loads((out / "novelty.json").read_text())["keyframes"]
    assert labels[0].startswith("folder #3 (encoder, RMS")


def test_bad_inputs_are_reported_by_name(checkpoints, tmp_path, capsys):
    fake = tmp_path / "x.png"
    fake.write_text("not a picture")
    out = tmp_path / "walk"
    assert main(["walk", str(checkpoints["vaegan"]), "--out", str(out), "--images", str(fake)]) == 2
    assert "x.png" in capsys.readouterr().err and not out.exists()
    assert main(["walk", str(checkpoints["vaegan"]), "--out", str(out), "--dataset-indices", "99"]) == 2
    assert "index 99 is out of range" in capsys.readouterr().err
    missing = tmp_path / "none.safetensors"
    assert main(["walk", str(missing), "--out", str(out)]) == 2
    assert "none.safetensors" in capsys.readouterr().err

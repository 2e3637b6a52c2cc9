"""`latent-studio unet-ablation` and `latent-studio switchboard` on a tiny paired folder."""

import csv
import json
import math

import numpy as np
import pytest
from PIL import Image

from studio.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py

TINY = ["--size", "32", "--width", "4", "--batch-size", "4", "--count", "2"]


@pytest.fixture(scope="module")
def ablation(tmp_path_factory):
    """Two variants trained for 3 steps on 10 pairs: mirrored colour blobs."""
    root = tmp_path_factory.mktemp("unet-cli")
    rng = np.random.default_rng(0)
    for side in ("input", "target"):
        (root / "pairs" / side).mkdir(parents=True)
    for i in range(10):
        image = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
        Image.fromarray(image).save(root / "pairs" / "input" / f"p{i}.png")
        Image.fromarray(image[:, ::-1]).save(root / "pairs" / "target" / f"p{i}.jpg")
    args = ["unet-ablation", "--out", str(root / "abl"), "--dataset", "paired_folder", "--data-path",
            str(root / "pairs"), "--variants", "none,2", "--steps", "3", *TINY]
    assert main(args) == 0
    return root, args


def test_the_ablation_writes_a_row_per_variant_and_the_outputs_figure(ablation):
    root, _ = ablation
    rows = list(csv.DictReader(open(root / "abl" / "mse.csv")))
    assert [(r["label"], r["skips"], r["steps"]) for r in rows] == [("AE", "none", "3"), ("Concat2", "2", "3")]
    assert all(math.isfinite(float(r["train_mse"])) and math.isfinite(float(r["test_mse"])) for r in rows)
    assert rows[0]["paper_test_mse"] == "0.0488"
    assert "| AE | none | 3 |" in (root / "abl" / "mse.md").read_text()
    assert (root / "abl" / "ae" / "last.safetensors").exists() and (root / "abl" / "concat2" / "metrics.jsonl").exists()
    assert Image.open(root / "abl" / "outputs.png").size[0] > 4 * 32  # input, target and two variants


def test_a_second_ablation_reuses_finished_runs_and_refuses_other_settings(ablation, capsys):
    root, args = ablation
    before = (root / "abl" / "ae" / "last.safetensors").stat().st_mtime_ns
    assert main(args) == 0
    assert (root / "abl" / "ae" / "last.safetensors").stat().st_mtime_ns == before  # evaluated, not retrained
    capsys.readouterr()
    assert main([*args[:-len(TINY)], "--size", "32", "--width", "8", "--batch-size", "4"]) == 2
    assert "other settings" in capsys.readouterr().err


def test_the_switchboard_command_writes_tables_and_figures(ablation, capsys):
    root, _ = ablation
    out = root / "switchboard"
    assert main(["switchboard", str(root / "abl" / "concat2" / "last.safetensors"), "--out", str(out),
                 "--count", "2"]) == 0
    rows = list(csv.DictReader(open(out / "zeroing.csv")))
    assert len(rows) == 11 and rows[0]["mask"] == "all"
    by_mask = {r["mask"]: float(r["mse"]) for r in rows}
    assert by_mask["-latent1"] == by_mask["all"]  # Concat2 has no latent1 skip: zeroing it changes nothing
    assert by_mask["-latent2"] != by_mask["all"]
    for figure in ("one-on.png", "one-off.png", "probes.png"):
        assert Image.open(out / figure).size[0] > 32
    report = json.loads((out / "probes.json").read_text())
    probes = report["probes (train pairs, share of light kept in the probe's channel)"]
    assert set(probes) == {"R only", "G only", "B only", "colour grid", "colour grid, worst cell"}
    assert "without latent2" in capsys.readouterr().out


def test_a_checkpoint_of_another_kind_is_refused(tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    for i in range(4):
        Image.fromarray(np.full((32, 32, 3), 40 * i, dtype=np.uint8)).save(images / f"{i}.png")
    assert main(["train", "dcgan", "--dataset", "folder", "--data-path", str(images), "--steps", "1",
                 "--out", str(tmp_path / "run"), "--nz", "4", "--ngf", "4", "--ndf", "4", "--batch-size", "2"]) == 0
    assert main(["switchboard", str(tmp_path / "run" / "last.safetensors"), "--out", str(tmp_path / "sw")]) == 2
    assert "not an image-to-image U-Net" in capsys.readouterr().err


def test_an_unknown_skip_set_is_refused_before_anything_runs(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["unet-ablation", "--out", str(tmp_path), "--variants", "1234,5"])
    assert "not a skip set" in capsys.readouterr().err

"""`latent-studio train` and `latent-studio plugins` without a window."""

import json

from studio.cli import main

TINY = ["--nz", "16", "--ngf", "8", "--ndf", "8", "--batch-size", "8"]


def test_train_writes_checkpoint_metrics_and_samples(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "dcgan", "--dataset", "digits", "--steps", "6", "--out", str(out),
                 "--sample-every", "3", "--checkpoint-every", "4", *TINY])
    assert code == 0
    from studio.ml.checkpoints import read_checkpoint_meta

    meta = read_checkpoint_meta(out / "last.safetensors")
    assert meta["kind"] == "dcgan" and meta["step"] == 6
    assert meta["config"]["nz"] == 16 and meta["dataset"]["name"] == "digits"
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3, 4, 5, 6]
    assert sorted(p.name for p in (out / "samples").glob("*.png")) == [
        "step_000000.png", "step_000003.png", "step_000006.png"]

    assert main(["train", "dcgan", "--resume", str(out / "last.safetensors"), "--steps", "8"]) == 0
    assert read_checkpoint_meta(out / "last.safetensors")["step"] == 8
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps[-2:] == [7, 8]


def test_train_reports_an_unknown_folder(tmp_path, capsys):
    missing = tmp_path / "no-such-folder"
    code = main(["train", "dcgan", "--dataset", "folder", "--data-path", str(missing), "--steps", "1", *TINY])
    assert code == 2
    assert str(missing) in capsys.readouterr().err


def test_plugins_lists_contributions(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "trainer_monitor" in out and "panels: trainer_monitor" in out
    assert "model kinds: dcgan" in out and "datasets: shapes, digits, folder" in out

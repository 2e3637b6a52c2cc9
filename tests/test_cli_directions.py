"""`latent-studio train directions` and `latent-studio directions-eval` on a tiny generator."""

import csv
import json

import pytest

from studio.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py


@pytest.fixture(scope="module")
def direction_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("directions-cli")
    assert main(["train", "dcgan", "--dataset", "shapes", "--nz", "6", "--ngf", "8", "--ndf", "8", "--batch-size", "8",
                 "--steps", "2", "--out", str(root / "gan")]) == 0
    for method in ("linear", "warped"):
        assert main(["train", "directions", "--generator", str(root / "gan" / "last.safetensors"), "--method", method,
                     "--directions", "3", "--batch-size", "8", "--steps", "2", "--out", str(root / method)]) == 0
    return root


def evaluate(root, *extra) -> int:
    return main(["directions-eval", str(root / "linear" / "last.safetensors"), str(root / "warped" / "last.safetensors"),
                 "--out", str(root / "eval"), "--regressor-steps", "5", "--latents", "8", *extra])


def test_the_evaluation_writes_its_tables_figures_and_names(direction_runs, capsys):
    root = direction_runs
    assert evaluate(root) == 0
    rows = list(csv.DictReader(open(root / "eval" / "editing.csv")))
    assert [r["method"] for r in rows] == ["linear", "warped"]
    assert float(rows[0]["commutativity_latent"]) < 1e-5 < float(rows[1]["commutativity_latent"])
    for name in ("editing.md", "effects.md", "side_effects.md", "edits-linear.png", "edits-warped.png",
                 "order-swap.png", "regressor.safetensors"):
        assert (root / "eval" / name).stat().st_size > 0, name
    names = json.loads((root / "linear" / "factors.json").read_text())
    assert len(names["directions"]) == 3 and all("factor" in entry for entry in names["directions"])
    report = json.loads((root / "eval" / "editing.json").read_text())
    assert report["models"][1]["method"] == "warped" and "regressor_accuracy" in report

    assert evaluate(root) == 0  # the regressors are reused, not trained again
    assert "reusing" in capsys.readouterr().out


def test_a_model_that_is_not_a_direction_model_is_named(direction_runs, capsys):
    root = direction_runs
    assert main(["directions-eval", str(root / "gan" / "last.safetensors"), "--out", str(root / "bad")]) == 2
    assert "holds a dcgan model, not a direction model" in capsys.readouterr().err

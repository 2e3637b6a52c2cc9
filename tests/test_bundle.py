"""The bundled models in checkpoints/: the manifest matches the files, and every model loads and
draws what its panel shows, at the right shape."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from studio.bundle import BUNDLE_ENV, MANIFEST_NAME, BundleError, bundle_dir, check_file, read_manifest
from studio.catalog import Catalog
from studio.ml.audio.codec import codec_for_model
from studio.plugin_manager import PluginManager

ROOT = Path(__file__).resolve().parents[1]
SIX_PANELS = {"trainer_monitor", "z_walker", "phase_plot", "loop_player", "switchboard", "attribute_editor"}
MAX_BUNDLE_BYTES = 30 * 2**20


@pytest.fixture(scope="module")
def bundle():
    folder = ROOT / "checkpoints"
    return read_manifest(folder)


@pytest.fixture(scope="module")
def catalog():
    plugins = PluginManager()
    plugins.discover()
    return Catalog.from_plugins(plugins)


def test_manifest_matches_the_files_and_stays_lean(bundle):
    for model in bundle:
        check_file(model)  # size and SHA-256
        assert model.command.startswith("latent-studio train ") and model.steps > 0 and model.training_seconds > 0
        assert model.metrics, model.name
    on_disk = {p.name for p in (ROOT / "checkpoints").glob("*.safetensors")}
    assert on_disk == {m.file for m in bundle}, "every shipped file is in the manifest and no more"
    assert sum(m.bytes for m in bundle) < MAX_BUNDLE_BYTES
    assert SIX_PANELS <= {panel for m in bundle for panel in m.panels}


def test_bundle_is_found_in_the_source_tree_and_can_be_turned_off(monkeypatch):
    monkeypatch.delenv(BUNDLE_ENV, raising=False)
    assert bundle_dir() == ROOT / "checkpoints"
    monkeypatch.setenv(BUNDLE_ENV, "none")
    assert bundle_dir() is None


def _output_shape(kind, module, meta, n=3) -> tuple[tuple, tuple]:
    """(what the model makes, what it should make) for one bundled model."""
    config = meta["config"]
    output = kind.output
    if output == "translation":
        images = torch.zeros(n, config["channels"], config["image_size"], config["image_size"])
        return tuple(module(images).shape), tuple(images.shape)
    z = torch.randn(n, module.nz)
    if output == "edit":
        drawn = module.render(z, [(0, 1.5), (1, -1.0)])
        return tuple(drawn.shape), (n, config["channels"], config["image_size"], config["image_size"])
    drawn = module(z)
    if output == "spectrogram":
        return tuple(drawn.shape), (n, 1, *codec_for_model(config).image_shape)
    return tuple(drawn.shape), (n, config["channels"], config["image_size"], config["image_size"])


def test_every_bundled_model_loads_and_draws_the_right_shape(bundle, catalog):
    for model in bundle:
        module, meta, _ = catalog.load_model(model.path, torch.device("cpu"))
        assert meta["kind"] == model.kind and meta["step"] == model.steps
        with torch.inference_mode():
            got, expected = _output_shape(catalog.model_kind(model.kind), module, meta)
        assert got == expected, model.name


def test_an_altered_file_is_named(tmp_path, bundle):
    model = min(bundle, key=lambda m: m.bytes)
    shutil.copy(model.path, tmp_path / model.file)
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(
        {"format": "latent-studio-bundle/1", "models": [model.to_json()]}))
    copied = read_manifest(tmp_path)[0]
    check_file(copied)
    with open(copied.path, "r+b") as f:
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 1]))
    with pytest.raises(BundleError, match=model.file):
        check_file(copied)
    (tmp_path / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(BundleError, match=MANIFEST_NAME):
        read_manifest(tmp_path)


def test_bundled_direction_models_carry_their_slider_names(bundle):
    """NAME.factors.json beside each (directions-eval's factors.json of its run): three models share
    the folder, so the plain factors.json of a run folder would not do."""
    from studio_plugins.attribute_editor.factors import read_factors

    for model in (m for m in bundle if m.kind == "directions"):
        names = read_factors(model.path, 8)
        assert names.problem == "" and names.source == model.path.with_suffix(".factors.json")
        assert any(factor is not None for factor in names.factors), model.name

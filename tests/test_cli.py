"""`latent-studio train` and `latent-studio plugins` without a window."""

import json
import sys
from pathlib import Path

import pytest

from studio import __version__, hookimpl
from studio.cli import list_plugins, main
from studio.contributions import DatasetSpec
from studio.plugin_manager import DENY_ENV, PluginManager

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


@pytest.fixture
def install_plugin(tmp_path, monkeypatch):
    """``install_plugin(dist, version, module, source)``: a one-module distribution on sys.path,
    laid out as pip installs it (a dist-info with METADATA and a ``latent_studio`` entry point)."""
    modules = []

    def install(dist: str, version: str, module: str, source: str) -> Path:
        site = tmp_path / "site"
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[latent_studio]\n{module} = {module}\n")
        (site / f"{module}.py").write_text(source)
        monkeypatch.syspath_prepend(str(site))
        modules.append(module)
        return site / f"{module}.py"

    yield install
    for module in modules:
        sys.modules.pop(module, None)


def details(lines: list[str], header: str) -> list[str]:
    """The indented lines under ``header`` in the output of ``latent-studio plugins``."""
    at = lines.index(header) + 1
    end = next((i for i in range(at, len(lines)) if not lines[i].startswith("    ")), len(lines))
    return lines[at:end]


def test_plugins_says_where_each_plugin_comes_from(capsys):
    import studio_plugins.z_walker

    assert main(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert details(lines, "z_walker  loaded") == [
        f"    from: latent-studio {__version__}, entry point studio_plugins.z_walker",
        f"    file: {studio_plugins.z_walker.__file__}",
        "    panels: z_walker",
    ]


def test_plugins_reports_a_broken_entry_point_with_its_distribution(install_plugin, capsys):
    file = install_plugin("sketchy-tools", "1.2", "sketchy_tools_for_test",
                          "raise ImportError('sketchy_tools needs a driver that is not installed')\n")
    assert main(["plugins"]) == 1
    lines = capsys.readouterr().out.splitlines()
    header = ("sketchy_tools_for_test  DISABLED (discovery): "
              "ImportError: sketchy_tools needs a driver that is not installed")
    assert details(lines, header) == ["    from: sketchy-tools 1.2, entry point sketchy_tools_for_test",
                                      f"    file: {file}"]
    assert "trainer_monitor  loaded" in lines  # the others load as before


def test_plugins_lists_skipped_plugins_without_importing_them(monkeypatch, capsys):
    monkeypatch.setenv(DENY_ENV, "z_walker")
    assert main(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # no file: finding it could import the package, and a plugin may be denied because importing it fails
    assert details(lines, "z_walker  not loaded (allow/deny list)") == [
        f"    from: latent-studio {__version__}, entry point studio_plugins.z_walker"]


def test_plugins_registered_by_hand_and_disabled_by_a_hook(capsys):
    class Good:
        @hookimpl
        def register_datasets(self):
            return [DatasetSpec("pebbles", "Pebbles", lambda size, channels, path, seed: None)]

    class Raising:
        @hookimpl
        def register_panels(self):
            raise RuntimeError("no panels today")

    manager = PluginManager()
    manager.register(Good(), "good")
    manager.register(Raising(), "raising")
    assert list_plugins(manager) == 1
    assert capsys.readouterr().out.splitlines() == [
        "good  loaded",
        "    from: registered by hand",
        f"    file: {__file__}",
        "    datasets: pebbles",
        "raising  DISABLED (register_panels): RuntimeError: no panels today",
        "    from: registered by hand",
        f"    file: {__file__}",
    ]

"""pyproject lists packages by hand (plugins/ is mapped to studio_plugins): keep the list whole."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_directory_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    for import_root, folder in config["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((import_root, *relative)))
    assert found == listed


def test_bundled_plugins_use_the_public_entry_point_group():
    entry_points = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    assert set(entry_points["latent_studio"]) == {"builtins", "trainer_monitor", "z_walker", "phase_plot",
                                                 "loop_player", "switchboard", "attribute_editor"}

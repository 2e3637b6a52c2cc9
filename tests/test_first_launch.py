"""A first launch: the bundled models load in the background and every panel shows its main view
with one; a bundled file that was altered is named and skipped while the others load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtGui import QAction

from studio.bundle import BUNDLE_ENV, MANIFEST_NAME, read_manifest
from studio.testing.first_launch import MAIN_VIEWS, panels_showing

ROOT = Path(__file__).resolve().parents[1]
LOAD_TIMEOUT_MS = 120_000  # ten models on a busy 2-core CI machine, then a closed-loop run


@pytest.fixture
def launch(qtbot, studio_home):
    """build_studio with the bundle, shown, loading: as `latent-studio` starts."""
    from studio.app import build_studio
    from studio.runtime.bundled_models import load_bundled_models

    made = []

    def start(messages: list[str] | None = None):
        studio, window = build_studio("cpu", bundle=True)
        qtbot.addWidget(window)
        made.append(studio)
        if messages is not None:
            studio.message.connect(lambda text, _ms: messages.append(text))
        window.show()
        return studio, load_bundled_models(studio)

    yield start
    for studio in made:
        studio.window.close()
        studio.shutdown()


def test_every_panel_shows_its_bundled_model(qtbot, studio_home):
    from studio.app import start_gui

    _app, studio, window = start_gui("cpu")  # as `latent-studio` starts: loading begins once it has painted
    qtbot.addWidget(window)
    assert len(studio.bundle) == len(read_manifest(ROOT / "checkpoints"))
    qtbot.waitUntil(lambda: bool(studio.models.names()), timeout=LOAD_TIMEOUT_MS)
    try:
        _shows_every_panel(studio, qtbot)
    finally:
        window.close()
        studio.shutdown()


def _shows_every_panel(studio, qtbot) -> None:
    guide = studio.window.getting_started
    assert guide.isVisible()
    text = guide.widget().toPlainText()
    assert all(dock.windowTitle() in text for dock in studio.window.docks.values())
    guide.close()
    help_action = next(a for a in studio.window.findChildren(QAction) if a.text() == "&Getting started")
    assert help_action.shortcut().toString() == "F1"
    help_action.trigger()
    assert guide.isVisible()

    qtbot.waitUntil(lambda: panels_showing(studio) == set(MAIN_VIEWS), timeout=LOAD_TIMEOUT_MS)
    panels = studio.panels
    monitor, walker, loop = panels["trainer_monitor"], panels["z_walker"], panels["phase_plot"]
    editor = panels["attribute_editor"]
    assert len(walker.keyframes) == 4 and monitor.samples.steps == [4000]
    assert "bundled" in loop.picker.current().meta and "walk-next" in loop.picker.current_name()
    assert "dcgan-shapes" in walker.picker.current_name()
    assert "curvilinear" in editor.picker.current_name()
    assert not monitor.worker.busy  # showing the bundled run trains nothing


def test_an_altered_bundled_file_is_named_and_the_rest_load(launch, qtbot, tmp_path, monkeypatch):
    source = ROOT / "checkpoints"
    models = [m for m in read_manifest(source) if m.kind == "dcgan"]
    for model in models:
        shutil.copy(model.path, tmp_path / model.file)
    broken = models[0].to_json() | {"name": "broken", "file": "broken.safetensors"}
    (tmp_path / "broken.safetensors").write_bytes(models[0].path.read_bytes()[:-100])
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(
        {"format": "latent-studio-bundle/1", "models": [broken] + [m.to_json() for m in models]}))
    monkeypatch.setenv(BUNDLE_ENV, str(tmp_path))
    messages = []
    studio, job = launch(messages)
    qtbot.waitUntil(lambda: len(studio.models.names()) == len(models), timeout=LOAD_TIMEOUT_MS)
    assert any("broken.safetensors" in m for m in messages)

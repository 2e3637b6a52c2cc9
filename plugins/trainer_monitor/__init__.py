"""Trainer monitor: train a model in the background and watch it learn.

Registered as the ``trainer_monitor`` plugin. The widgets are imported when the panel is built.
"""

from __future__ import annotations

from pathlib import Path

from studio import hookimpl
from studio.contributions import DropHandler, PanelSpec

PANEL_ID = "trainer_monitor"


def _make_panel(studio):
    from studio_plugins.trainer_monitor.panel import TrainerMonitorPanel

    return TrainerMonitorPanel(studio)


def _panel(studio):
    return studio.panels[PANEL_ID]


def _open_checkpoints(studio, paths: list[Path]) -> None:
    _panel(studio).load_checkpoint(paths[-1])


def _use_folder(studio, paths: list[Path]) -> None:
    """A run folder (run.json, metrics.jsonl or last.safetensors in it) is followed; any other
    folder is the training images."""
    from studio.ml.training.run_folder import is_run_folder

    folder = paths[-1]
    if is_run_folder(folder):
        _panel(studio).attach_run(folder)
    else:
        _panel(studio).use_image_folder(folder)


def _open_metrics(studio, paths: list[Path]) -> None:
    _panel(studio).open_metrics_log(paths[-1])


@hookimpl
def register_panels() -> list[PanelSpec]:
    return [
        PanelSpec(
            PANEL_ID,
            "Trainer monitor",
            _make_panel,
            area="left",
            description="Train a model in the background, or follow a run folder another process writes: "
            "live losses, fixed-z samples, checkpoints.",
        )
    ]


@hookimpl
def register_drop_handlers() -> list[DropHandler]:
    return [
        DropHandler("trainer checkpoint", _open_checkpoints, extensions=(".safetensors",)),
        DropHandler("trainer metrics log", _open_metrics, extensions=(".jsonl",)),
        DropHandler("run folder to follow, or training image folder", _use_folder, folders=True),
    ]

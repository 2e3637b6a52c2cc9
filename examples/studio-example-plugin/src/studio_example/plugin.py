"""The entry-point module of the ``sample_sketchbook`` plugin.

The studio imports it to discover the plugin, so it stays light: the panel (Qt widgets, torch)
is imported when the studio builds it.
"""

from __future__ import annotations

from pathlib import Path

from studio import hookimpl
from studio.contributions import DropHandler, PanelSpec

PANEL_ID = "sample_sketchbook"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")


def _make_panel(studio):
    from studio_example.panel import SketchbookPanel

    return SketchbookPanel(studio)


def _take_dropped_images(studio, paths: list[Path]) -> None:
    """Images dropped anywhere on the main window go to the sketchbook."""
    panel = studio.panels.get(PANEL_ID)
    if panel is None:  # another plugin's panel took our id
        studio.show_message(f"the sample sketchbook is not open: {len(paths)} dropped image(s) ignored")
        return
    panel.add_images(paths)


@hookimpl
def register_panels() -> list[PanelSpec]:
    return [
        PanelSpec(
            PANEL_ID,
            "Sample sketchbook",
            _make_panel,
            area="right",
            description="Draw samples from an image model, train a short DCGAN sketch on the shapes "
                        "or on images dropped here.",
        )
    ]


@hookimpl
def register_drop_handlers() -> list[DropHandler]:
    return [DropHandler("sketchbook images", _take_dropped_images, extensions=IMAGE_EXTENSIONS)]

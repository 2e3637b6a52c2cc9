"""The curvilinear attribute editor: move an image along the directions a direction model found in
a generator's latent space (linear, warped or curvilinear; seed paper 004), see whether two edits
commute, compare the three methods on one edit, and save the edit as a recipe that replays.

Registered as the ``attribute_editor`` plugin. The widgets and torch are imported when the panel
is built.
"""

from __future__ import annotations

from studio import hookimpl
from studio.contributions import PanelSpec

PANEL_ID = "attribute_editor"


def _make_panel(studio):
    from studio_plugins.attribute_editor.panel import AttributeEditorPanel

    return AttributeEditorPanel(studio)


@hookimpl
def register_panels() -> list[PanelSpec]:
    return [
        PanelSpec(
            PANEL_ID,
            "Attribute editor",
            _make_panel,
            area="right",
            description="Edit a seed, a training image or your own image along a direction model's directions, "
            "live; order swaps (do two edits commute?), the linear, warped and curvilinear methods side by "
            "side, Undo/Reset, and PNG plus a replayable edit recipe.",
        )
    ]


@hookimpl
def studio_stopping(studio) -> None:
    """Stop listening before the window closes: a late result or job must not reach the panel."""
    panel = studio.panels.get(PANEL_ID)
    if panel is not None:
        panel.stop()

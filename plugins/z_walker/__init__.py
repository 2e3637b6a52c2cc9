"""z-space walker: walk between keyframes in a generator's latent space and ask whether what it
draws is new or remembered.

Registered as the ``z_walker`` plugin. The widgets (and torch) are imported when the panel is
built; ``latent-studio walk`` is the same walk without a window.
"""

from __future__ import annotations

from studio import hookimpl
from studio.contributions import PanelSpec

PANEL_ID = "z_walker"


def _make_panel(studio):
    from studio_plugins.z_walker.panel import ZWalkerPanel

    return ZWalkerPanel(studio)


@hookimpl
def register_panels() -> list[PanelSpec]:
    return [
        PanelSpec(
            PANEL_ID,
            "z-space walker",
            _make_panel,
            area="right",
            description="Walk through z between seeds, training images or your own images; "
                        "nearest training image and a PCA map for every frame; export PNG strip and GIF.",
        )
    ]


@hookimpl
def studio_stopping(studio) -> None:
    """Stop listening before the window closes its plots: a late result must not draw on them."""
    panel = studio.panels.get(PANEL_ID)
    if panel is not None:
        panel.stop()

"""The U-Net concat switchboard: switch each skip connection of a side -> frontal U-Net on and off,
probe it with single colours, and train the skip ablation (seed paper 001).

Registered as the ``switchboard`` plugin. The widgets and torch are imported when the panel is built.
"""

from __future__ import annotations

from studio import hookimpl
from studio.contributions import PanelSpec

PANEL_ID = "switchboard"


def _make_panel(studio):
    from studio_plugins.switchboard.panel import SwitchboardPanel

    return SwitchboardPanel(studio)


@hookimpl
def register_panels() -> list[PanelSpec]:
    return [
        PanelSpec(
            PANEL_ID,
            "Concat switchboard",
            _make_panel,
            area="right",
            description="A side -> frontal U-Net with its skips latent1..latent5 switched on and off live: "
            "output, target and difference, colour probes, one-on/one-off grids, and the skip ablation.",
        )
    ]

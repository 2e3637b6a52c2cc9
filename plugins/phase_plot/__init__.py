"""Closed loop: iterate a VAE-GAN's loop z -> Enc(Gen(z)) from many start points and look at the
orbits (phase plot, return map, filmstrip, counts per class).

Registered as the ``phase_plot`` plugin. The widgets, torch and pyqtgraph are imported when the
panel is built.
"""

from __future__ import annotations

from studio import hookimpl
from studio.contributions import PanelSpec

PANEL_ID = "phase_plot"


def _make_panel(studio):
    from studio_plugins.phase_plot.panel import ClosedLoopPanel

    return ClosedLoopPanel(studio)


@hookimpl
def register_panels() -> list[PanelSpec]:
    return [
        PanelSpec(
            PANEL_ID,
            "Closed loop",
            _make_panel,
            area="right",  # a tab beside the walker: the plots need the full height
            description="Iterate a VAE-GAN's closed loop from many start points: phase plot, return map, "
            "fixed points, cycles and chaos, a filmstrip along an orbit.",
        )
    ]

"""Spectrogram loop player: generate loops from an audio GAN's z, see their constant-Q
spectrograms, play them gaplessly (switching and morphing at the loop seam), export them, and map
generated loops against the training loops.

Registered as the ``loop_player`` plugin. The widgets, torch and sounddevice are imported when the
panel is built.
"""

from __future__ import annotations

from studio import hookimpl
from studio.contributions import PanelSpec

PANEL_ID = "loop_player"


def _make_panel(studio):
    from studio_plugins.loop_player.panel import LoopPlayerPanel

    return LoopPlayerPanel(studio)


@hookimpl
def studio_stopping(studio) -> None:
    """Silence, and stop listening before the window closes its plots: a late loop must not draw."""
    panel = studio.panels.get(PANEL_ID)
    if panel is not None:
        panel.stop()


@hookimpl
def register_panels() -> list[PanelSpec]:
    return [
        PanelSpec(
            PANEL_ID,
            "Loop player",
            _make_panel,
            area="right",
            description="Play an audio GAN's loops live: choose or morph z, hear the change at the next loop "
            "seam, export WAV/FLAC, drop a sound file to compare, map generated loops against the training loops.",
        )
    ]

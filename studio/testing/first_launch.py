"""What "every bundled panel shows its main view" means, for the first-launch test and
benchmarks/startup.py: per built-in panel, whether its main view holds a result."""

from __future__ import annotations

MAIN_VIEWS = {
    "trainer_monitor": lambda panel: bool(panel.samples.steps and panel.loss_plot.series),  # samples, losses
    "z_walker": lambda panel: panel._path is not None,  # a walk
    "phase_plot": lambda panel: panel.result is not None,  # a phase plot
    "loop_player": lambda panel: panel.shown is not None,  # a loop
    "switchboard": lambda panel: panel.translation is not None,  # a translation
    "attribute_editor": lambda panel: panel.edited is not None,  # an edited image
}


def panels_showing(studio) -> set[str]:
    """The built-in panels whose main view shows a result."""
    return {pid for pid, shows in MAIN_VIEWS.items() if pid in studio.panels and shows(studio.panels[pid])}

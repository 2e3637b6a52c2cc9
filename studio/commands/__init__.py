"""Headless analysis commands of ``latent-studio`` (besides ``train`` and ``plugins``).

Each module listed in ``COMMANDS`` defines ``add_parser(commands)`` (register a sub-command on the
argparse sub-parsers object) and ``run(args, catalog) -> int``. Keep torch and Qt imports inside
``run``: building the parser must stay fast and must work without a display.
"""

from __future__ import annotations

import importlib
from types import ModuleType

COMMANDS = {
    "walk": "studio.commands.walk",
    "closed-loop": "studio.commands.closed_loop",
    "loops": "studio.commands.loops",
    "switchboard": "studio.commands.switchboard",
    "unet-ablation": "studio.commands.unet_ablation",
    "directions-eval": "studio.commands.directions_eval",
}


def command_modules() -> dict[str, ModuleType]:
    return {name: importlib.import_module(module) for name, module in COMMANDS.items()}

"""Runs these tests against the installed example, or straight from a latent-studio checkout
(whose own test run includes them) with ``src/`` on the path."""

import importlib.util
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no windows popping up while tests run

if importlib.util.find_spec("studio_example") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

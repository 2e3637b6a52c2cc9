"""Where the studio keeps its settings and runs. ``LATENT_STUDIO_HOME`` moves all of it (tests,
portable installs); otherwise the platform's user directories are used."""

from __future__ import annotations

import os
import time
from pathlib import Path

import platformdirs

HOME_ENV = "LATENT_STUDIO_HOME"


def _home() -> Path | None:
    home = os.environ.get(HOME_ENV)
    return Path(home).expanduser() if home else None


def data_dir() -> Path:
    home = _home()
    return home / "data" if home else Path(platformdirs.user_data_dir("latent-studio", False))


def config_dir() -> Path:
    home = _home()
    return home / "config" if home else Path(platformdirs.user_config_dir("latent-studio", False))


def settings_file() -> Path:
    return config_dir() / "settings.ini"


def new_run_dir(kind: str, dataset: str) -> Path:
    """A fresh folder for one training run: runs/<kind>-<dataset>-<date-time>."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = data_dir() / "runs" / f"{kind}-{dataset}-{stamp}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path

"""Versions and compute device, for the About box and bug reports."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

PACKAGES = ("latent-studio", "torch", "numpy", "PySide6-Essentials", "pyqtgraph", "pluggy", "safetensors")


def versions() -> dict[str, str]:
    found = {"Python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def about_text(device) -> str:
    from studio.ml.device import describe_device
    from studio.runtime.openmp import background_threads

    rows = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in versions().items())
    return (
        "<h3>latent-studio</h3><p>Train small generative models and look inside them.</p>"
        f"<p><b>Compute device:</b> {describe_device(device, background_threads())}</p><table>{rows}</table>"
    )

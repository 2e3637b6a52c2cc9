"""The "getting started" view: what each panel is for, the model it shows on a first launch, and
how to train on your own data. Built from the registered panels, so a plugin's panel is listed
with its own description."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QTextBrowser

if TYPE_CHECKING:  # pragma: no cover - typing only
    from studio.bundle import BundledModel
    from studio.contributions import PanelSpec

OWN_DATA = (
    "<b>Your own data.</b> In the <i>Trainer monitor</i> pick a dataset ending in “…”: "
    "<i>Image folder</i> (any images, for the DCGAN, the VAE-GAN or latent directions), "
    "<i>Paired folder</i> (input/ and target/ images matched by name, for the U-Net), "
    "<i>Audio folder</i> (WAV, FLAC, OGG, for the audio GANs) or <i>Ordered frame folder</i> (a video as "
    "images, for the predictive VAE-GAN); choose the folder with Browse…, or drop it on the window, and "
    "press Train. The model appears in every panel's <b>Model</b> box while it trains; checkpoints go to "
    "its run folder. Headless: <code>latent-studio train dcgan --dataset folder --data-path ~/faces</code>. "
    "Drop images on the z-space walker or the attribute editor to encode and edit them; drop a "
    "<code>.safetensors</code> checkpoint on a panel to load it."
)
OWN_PANEL = (
    "<b>Your own panel.</b> Every panel is a plugin; docs/plugins.md walks through writing one "
    "(examples/ has an installable example). <code>latent-studio plugins</code> lists what is installed."
)


def getting_started_html(panels: list[PanelSpec], bundle: list[BundledModel]) -> str:
    rows = []
    for spec in panels:
        models = [m for m in bundle if spec.id in m.panels]
        shown = "; ".join(escape(f"{m.name} ({m.steps} steps)") for m in models) or "—"
        rows.append(f"<tr><td><b>{escape(spec.title)}</b></td><td>{escape(spec.description)}</td>"
                    f"<td>{shown}</td></tr>")
    bundled = ("Every panel opens with a small model trained on built-in data (checkpoints/, no download)."
               if bundle else
               "No bundled models are loaded: train one in the Trainer monitor, or load a checkpoint.")
    return (
        f"<p>{bundled} Panels are tabs (or the View menu); F1 shows this guide again.</p>"
        "<table cellspacing='0' cellpadding='3'>"
        "<tr><th align='left'>Panel</th><th align='left'>What it is for</th><th align='left'>Bundled model</th></tr>"
        + "".join(rows) + "</table>"
        f"<p>{OWN_DATA}</p><p>{OWN_PANEL}</p>"
    )


class GettingStartedView(QTextBrowser):
    def __init__(self, panels: list[PanelSpec], bundle: list[BundledModel], parent=None):
        super().__init__(parent)
        self.setOpenExternalLinks(True)
        self.setHtml(getting_started_html(panels, bundle))

"""A generator from its checkpoint, with nothing else of its run: for models built on top of a
frozen generator (the direction models of the attribute editor).

Only the networks are rebuilt, from the checkpoint's config: no dataset, no optimiser.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from studio.ml.checkpoints import CheckpointError, load_checkpoint, load_module_state
from studio.ml.models.dcgan import Generator
from studio.ml.models.vaegan import Encoder, VAEGANModel
from studio.ml.training.dcgan_params import DCGAN_PARAMS
from studio.ml.training.vaegan_params import VAEGAN_PARAMS


def _dcgan(config: dict) -> tuple[nn.Module, dict[str, nn.Module]]:
    cfg = {k: p.default for k, p in DCGAN_PARAMS.items()} | config
    g = Generator(cfg["nz"], cfg["ngf"], cfg["channels"], cfg["image_size"], cfg["g_upsample"])
    return g, {"G.": g}


def _vaegan(config: dict) -> tuple[nn.Module, dict[str, nn.Module]]:
    cfg = {k: p.default for k, p in VAEGAN_PARAMS.items()} | config
    e = Encoder(cfg["nz"], cfg["nef"], cfg["channels"], cfg["image_size"])
    g = Generator(cfg["nz"], cfg["ngf"], cfg["channels"], cfg["image_size"], cfg["g_upsample"])
    return VAEGANModel(e, g), {"E.": e, "G.": g}


# kind -> config -> (the generator as panels use it, {checkpoint prefix: network})
GENERATOR_BUILDERS: dict[str, Callable[[dict], tuple[nn.Module, dict[str, nn.Module]]]] = {
    "dcgan": _dcgan,
    "vaegan": _vaegan,
}


def load_generator(path: Path | str, device: torch.device | str = "cpu") -> tuple[nn.Module, dict]:
    """The eval-mode, frozen generator saved in ``path`` (``model(z)`` draws images; a VAE-GAN's
    also has ``encode``) and the checkpoint's metadata. CheckpointError naming the file when it is
    missing, unreadable or not of a generator kind."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(f"generator checkpoint {path} not found")
    ckpt = load_checkpoint(path)
    kind = ckpt.meta.get("kind")
    if kind not in GENERATOR_BUILDERS:
        raise CheckpointError(f"{path} holds a {kind!r} model, not a generator "
                              f"({' or '.join(GENERATOR_BUILDERS)})")
    model, parts = GENERATOR_BUILDERS[kind](dict(ckpt.meta["config"]))
    for prefix, network in parts.items():
        load_module_state(network, ckpt.tensors, prefix, path)
    return model.to(device).eval().requires_grad_(False), ckpt.meta

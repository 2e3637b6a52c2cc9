"""The U-Net of seed paper 001 (side-view face -> frontal face), and its plain autoencoder.

Five stride-2 convolutions take a 64x64 image down to a 2x2 map; five stride-2 transposed
convolutions take it back up. The paper names the encoder's outputs: ``latent1`` (32x32, nearest
the image) to ``latent4`` (4x4) travel to the decoder through skip connections ("Concat"), and
``latent5`` (2x2) is the bottleneck the decoder starts from::

    image -> down1 -> latent1 ---------------------------------------> cat -> up5 -> output
                      down2 -> latent2 --------------------> cat -> up4
                               down3 -> latent3 ------> cat -> up3
                                        down4 -> latent4 -> cat -> up2
                                                 down5 -> latent5 -> up1

Two masks, both over the five latents:

- ``skips`` (a model's structure, fixed at construction): which of latent1..4 the decoder is
  built to concatenate. A skip left out is not there at all (its decoder layer has fewer input
  channels); no skips is the paper's autoencoder ("AE"), trained as its own model.
- ``keep`` (per call, at inference): the paper's zeroing study. A latent that is not kept reaches
  the decoder as zeros: latent1..4 only along their skip (the encoder still feeds the next layer
  from them), latent5 as the decoder's starting map. Toggling a skip the model does not have
  changes nothing.

Widths follow pix2pix's U-Net: ``width`` channels at the first layer, doubling to at most 8x;
batch norm everywhere but the first and last layer; LeakyReLU(0.2) down, ReLU up, tanh out.
The image size must be a multiple of 32 (64 gives the paper's 2x2 bottleneck, 32 a 1x1 one).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

LATENTS = ("latent1", "latent2", "latent3", "latent4", "latent5")
SKIPPABLE = (1, 2, 3, 4)  # latent5 is the bottleneck, not a skip
DEPTH = 5
ALL_KEPT = (True,) * DEPTH


def parse_skips(text: str) -> tuple[int, ...]:
    """"1234" -> (1, 2, 3, 4); "2" -> (2,); "none" or "" -> () (the autoencoder)."""
    text = text.strip().lower()
    if text in ("", "none", "ae"):
        return ()
    skips = sorted({int(c) for c in text if c.isdigit()})
    if not skips or any(s not in SKIPPABLE for s in skips) or any(not (c.isdigit() or c in " ,+") for c in text):
        raise ValueError(f"skips must name some of the skip connections 1-4 (e.g. '1234', '2', '12'), "
                         f"or 'none' for the autoencoder; not {text!r}")
    return tuple(skips)


def skips_label(skips: Sequence[int]) -> str:
    """The paper's names: () -> "AE", (1, 2, 3, 4) -> "U-Net", (2,) -> "Concat2", (1, 2) -> "Concat1,2"."""
    if not skips:
        return "AE"
    if tuple(skips) == SKIPPABLE:
        return "U-Net"
    return "Concat" + ",".join(str(s) for s in skips)


def layer_widths(width: int) -> list[int]:
    """Channels of latent1..latent5: width, 2w, 4w, 8w, 8w."""
    return [width * min(2**i, 8) for i in range(DEPTH)]


def _down(c_in: int, c_out: int, norm: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not norm)]
    layers += [nn.BatchNorm2d(c_out)] if norm else []
    return nn.Sequential(*layers, nn.LeakyReLU(0.2, inplace=True))


def _up(c_in: int, c_out: int, last: bool) -> nn.Sequential:
    if last:
        return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.Tanh())
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True))


class UNet(nn.Module):
    """``model(images, keep)``: images (N, C, S, S) in [-1, 1] -> translated images, same shape.

    ``keep`` has five booleans, one per latent (default: all kept); see the module docstring.
    """

    def __init__(self, channels: int = 3, image_size: int = 64, width: int = 32, skips: Sequence[int] = SKIPPABLE):
        super().__init__()
        if image_size < 32 or image_size % 32:
            raise ValueError(f"the U-Net needs an image size that is a multiple of 32, not {image_size}")
        if width < 1:
            raise ValueError(f"the U-Net width must be a positive integer, not {width}")
        self.channels, self.image_size, self.width = channels, image_size, width
        self.skips = tuple(sorted(set(skips)))
        if any(s not in SKIPPABLE for s in self.skips):
            raise ValueError(f"the U-Net's skips are among {SKIPPABLE}, not {skips}")
        widths = layer_widths(width)
        ins = [channels, *widths[:-1]]
        self.down = nn.ModuleList(_down(ins[i], widths[i], norm=0 < i < DEPTH - 1) for i in range(DEPTH))
        # up[j] makes the map of latent(DEPTH - 1 - j)'s size; up[0] starts from latent5
        self.up = nn.ModuleList()
        for j in range(DEPTH):
            level = DEPTH - j  # the latent this layer reads: 5, 4, 3, 2, 1
            c_in = widths[level - 1] + (widths[level - 1] if level in self.skips else 0)
            if level == DEPTH:
                c_in = widths[-1]  # the bottleneck itself, no skip
            c_out = widths[level - 2] if level > 1 else channels
            self.up.append(_up(c_in, c_out, last=level == 1))

    def encode(self, images: torch.Tensor) -> list[torch.Tensor]:
        """latent1..latent5, nearest the image first."""
        latents, x = [], images
        for layer in self.down:
            x = layer(x)
            latents.append(x)
        return latents

    def decode(self, latents: Sequence[torch.Tensor], keep: Sequence[bool] = ALL_KEPT) -> torch.Tensor:
        """The output from the five latents, those not kept replaced by zeros."""
        keep = _check_keep(keep)
        bottleneck = latents[-1] if keep[-1] else torch.zeros_like(latents[-1])
        x = self.up[0](bottleneck)
        for j in range(1, DEPTH):
            level = DEPTH - j
            if level in self.skips:
                skip = latents[level - 1]
                x = torch.cat([x, skip if keep[level - 1] else torch.zeros_like(skip)], dim=1)
            x = self.up[j](x)
        return x

    def forward(self, images: torch.Tensor, keep: Sequence[bool] = ALL_KEPT) -> torch.Tensor:
        return self.decode(self.encode(images), keep)


def _check_keep(keep: Sequence[bool]) -> tuple[bool, ...]:
    keep = tuple(bool(k) for k in keep)
    if len(keep) != DEPTH:
        raise ValueError(f"keep needs {DEPTH} flags (latent1..latent5), got {len(keep)}")
    return keep


def init_unet_weights(module: nn.Module) -> None:
    """pix2pix's init: conv weights N(0, 0.02), batch-norm scales N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)

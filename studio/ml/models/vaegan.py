"""VAE-GAN (Larsen et al. 2015): an encoder in front of the DCGAN generator, and the DCGAN
discriminator, whose last hidden layer is where reconstructions are compared.

The decoder is :class:`studio.ml.models.dcgan.Generator` and the discriminator is
:class:`studio.ml.models.dcgan.Discriminator` (its ``features``/``classify`` split); only the
encoder is new. It mirrors the discriminator's conv stack (4x4 stride-2 convs, batch norm,
LeakyReLU 0.2) down to 4x4 and ends in two linear heads, the posterior's mean and log-variance.
"""

from __future__ import annotations

import torch
from torch import nn

from studio.ml.models.dcgan import _check_positive, init_weights, stride2_layers


class Encoder(nn.Module):
    """Images (N, channels, image_size, image_size) in [-1, 1] -> (mu, logvar), each (N, nz)."""

    def __init__(self, nz: int = 32, nef: int = 64, channels: int = 3, image_size: int = 64):
        super().__init__()
        _check_positive(nz=nz, nef=nef, channels=channels)
        self.nz = nz
        layers: list[nn.Module] = []
        width, c_in = nef, channels
        for _ in range(stride2_layers(image_size)):
            layers += [nn.Conv2d(c_in, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.LeakyReLU(0.2, True)]
            c_in, width = width, width * 2
        self.main = nn.Sequential(*layers, nn.Flatten())
        self.mu = nn.Linear(c_in * 16, nz)
        self.logvar = nn.Linear(c_in * 16, nz)
        self.apply(init_weights)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.main(images)
        return self.mu(hidden), self.logvar(hidden)


class VAEGANModel(nn.Module):
    """Encoder and generator together, for inference.

    ``model(z)`` generates images, like a plain generator, so every panel that shows samples works
    with it; ``encode(images)`` gives the posterior mean; ``loop(z)`` is one step of the closed
    loop z -> Enc(Gen(z)) (the mean, not a sample: the map must be deterministic).
    """

    def __init__(self, encoder: Encoder, generator: nn.Module):
        super().__init__()
        self.encoder, self.generator = encoder, generator
        self.nz = encoder.nz

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images)[0]

    def loop(self, z: torch.Tensor) -> torch.Tensor:
        return self.encode(self.generator(z))


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)), summed over latent dimensions, mean over the batch."""
    return 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar).sum(dim=1).mean()

"""DCGAN training as in pytorch/examples: non-saturating GAN loss, Adam at 2e-4 (its betas and the
networks' departures from the paper are parameters: see dcgan_params.py and docs/architecture.md).

Seeding, checkpoints and the sample grid are shared with the other GANs: see
:mod:`studio.ml.training.common`.
"""

from __future__ import annotations


from studio.ml.models.dcgan import Discriminator, Generator
from studio.ml.training.common import NonSaturatingGAN
from studio.ml.training.dcgan_params import DCGAN_PARAMS


class DCGANTrainer(NonSaturatingGAN):
    """The Trainer protocol (:mod:`studio.ml.training.base`) for DCGAN."""

    kind = "dcgan"
    params = DCGAN_PARAMS

    def image_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of the images G draws and D judges."""
        cfg = self.config
        return cfg["channels"], cfg["image_size"], cfg["image_size"]

    def _build_networks(self) -> None:
        cfg = self.config
        channels, height, width = self.image_shape()
        self.G = self._build(lambda: Generator(self.nz, cfg["ngf"], channels, height, cfg["g_upsample"], width))
        self.D = self._build(lambda: Discriminator(cfg["ndf"], channels, height, cfg["d_norm"], width))
        self._build_optimisers()

"""DCGAN training as in pytorch/examples: non-saturating GAN loss, Adam at 2e-4 (its betas and the
networks' departures from the paper are parameters: see dcgan_params.py and docs/architecture.md).

Seeding, checkpoints and the sample grid are shared with the other GANs: see
:mod:`studio.ml.training.common`.
"""

from __future__ import annotations

import torch
from torch import nn

from studio.ml.models.dcgan import Discriminator, Generator
from studio.ml.training.common import GANTrainer
from studio.ml.training.dcgan_params import DCGAN_PARAMS


class DCGANTrainer(GANTrainer):
    """The Trainer protocol (:mod:`studio.ml.training.base`) for DCGAN."""

    kind = "dcgan"
    params = DCGAN_PARAMS

    def _build_networks(self) -> None:
        cfg = self.config
        self.G = self._build(lambda: Generator(self.nz, cfg["ngf"], cfg["channels"], cfg["image_size"],
                                               cfg["g_upsample"]))
        self.D = self._build(lambda: Discriminator(cfg["ndf"], cfg["channels"], cfg["image_size"], cfg["d_norm"]))
        betas = (cfg["beta1"], cfg["beta2"])
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=cfg["lr"], betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=cfg["lr"], betas=betas)
        self.criterion = nn.BCEWithLogitsLoss()  # on raw logits: safer than Sigmoid + BCELoss
        self._real_target = torch.full((self.batch_size,), cfg["real_label"], device=self.device)
        self._real_label = torch.ones(self.batch_size, device=self.device)
        self._fake_label = torch.zeros(self.batch_size, device=self.device)

    def _networks(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D}

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"optim_G": self.opt_G, "optim_D": self.opt_D}

    # -- training ------------------------------------------------------------------------------
    def step(self) -> dict[str, float]:
        real = self.dataset.batch(self.batch_size, self.rng).to(self.device, non_blocking=True)
        fake = self.G(self._z(self.batch_size))

        # D: real -> real_label (1, or 0.9 for one-sided label smoothing), fake -> 0 (fake detached)
        self.opt_D.zero_grad(set_to_none=True)
        logits_real, logits_fake = self.D(real), self.D(fake.detach())
        loss_D = self.criterion(logits_real, self._real_target) + self.criterion(logits_fake, self._fake_label)
        loss_D.backward()
        self.opt_D.step()

        # G, non-saturating: maximise log D(G(z)) by labelling its fakes real, against the updated D
        self.opt_G.zero_grad(set_to_none=True)
        loss_G = self.criterion(self.D(fake), self._real_label)
        loss_G.backward()
        self.opt_G.step()

        self.steps_done += 1
        with torch.no_grad():
            stats = torch.stack([loss_D, loss_G, logits_real.sigmoid().mean(), logits_fake.sigmoid().mean()])
        loss_d, loss_g, d_x, d_g_z = stats.cpu().tolist()  # one device sync per step
        return {"loss_D": loss_d, "loss_G": loss_g, "D_x": d_x, "D_G_z": d_g_z}

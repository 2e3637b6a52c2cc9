"""VAE-GAN training (Larsen et al. 2015), and its predictive variant.

One forward pass per step: the encoder's posterior sample ``z`` is decoded into reconstructions
``x_rec``, prior samples ``z_p`` into ``x_p``, and the discriminator sees targets, reconstructions
and prior samples in one batch. From it three losses, each for its own network only:

- encoder:  ``kl_weight * KL(q(z|x) || N(0, I)) + L_llike``
- decoder:  ``gamma * L_llike + L_GAN`` (non-saturating: x_rec and x_p labelled real)
- D:        ``L_GAN`` (targets real, the mean of the x_rec and x_p terms fake)

``L_llike`` is the reconstruction error in D's last hidden layer, a Gaussian log-likelihood
there: half the squared distance, summed over features, averaged over the batch (on the same
scale as the KL, summed over latent dimensions). The target's features are a constant, so D
learns only from its own loss.

The equilibrium rule of Larsen et al.'s code: while a loss of D (real, or fake) is below
``equilibrium - margin`` D is winning and is not updated; while one is above ``equilibrium +
margin`` the decoder is not updated; if both would pause, both train. ``margin`` 0 turns it off.

``predict="next"`` is the predictive model: the encoder sees frame t of an ordered dataset and the
decoder is trained to produce frame t+1 (which is also what D sees as real).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from studio.ml.models.dcgan import Discriminator, Generator
from studio.ml.models.vaegan import Encoder, VAEGANModel, kl_to_standard_normal
from studio.ml.training.common import GANTrainer
from studio.ml.training.vaegan_params import VAEGAN_PARAMS


class VAEGANTrainer(GANTrainer):
    """The Trainer protocol (:mod:`studio.ml.training.base`) for VAE-GAN."""

    kind = "vaegan"
    params = VAEGAN_PARAMS

    def _build_networks(self) -> None:
        cfg = self.config
        if cfg["predict"] == "next" and getattr(self.dataset, "sequence", None) is None:
            raise ValueError(f"the predictive VAE-GAN needs ordered frames; dataset {self.dataset.name!r} is not "
                             "a sequence (use the walk dataset or an ordered frame folder)")
        self.E = self._build(lambda: Encoder(self.nz, cfg["nef"], cfg["channels"], cfg["image_size"]))
        self.G = self._build(lambda: Generator(self.nz, cfg["ngf"], cfg["channels"], cfg["image_size"],
                                               cfg["g_upsample"]))
        self.D = self._build(lambda: Discriminator(cfg["ndf"], cfg["channels"], cfg["image_size"], cfg["d_norm"]))
        betas = (cfg["beta1"], cfg["beta2"])
        self.opt_E = torch.optim.Adam(self.E.parameters(), lr=cfg["lr"], betas=betas)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=cfg["lr"], betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=cfg["lr"], betas=betas)
        self.criterion = nn.BCEWithLogitsLoss()

    def _networks(self) -> dict[str, nn.Module]:
        return {"E": self.E, "G": self.G, "D": self.D}

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"optim_E": self.opt_E, "optim_G": self.opt_G, "optim_D": self.opt_D}

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(encoder input, decoder target): the same images, or frames t and t+1."""
        if self.config["predict"] == "next":
            inputs, targets = self.dataset.batch_pairs(self.batch_size, self.rng, self.shard)
        else:
            inputs = targets = self.dataset.batch(self.batch_size, self.rng, self.shard)
        return inputs.to(self.device, non_blocking=True), targets.to(self.device, non_blocking=True)

    # -- training ------------------------------------------------------------------------------
    def step(self) -> dict[str, float]:
        cfg = self.config
        E, G, D = (self._parallel(network) for network in (self.E, self.G, self.D))
        inputs, targets = self._batch()
        n = len(inputs)  # this process's share of the batch
        mu, logvar = E(inputs)
        z = mu + self._z(self.batch_size) * (0.5 * logvar).exp()
        x_rec, x_p = G(z), G(self._z(self.batch_size))

        features, logits = D(torch.cat([targets, x_rec, x_p]), with_features=True)
        logits_real, logits_rec, logits_p = logits[:n], logits[n:2 * n], logits[2 * n:]
        feat_target, feat_rec = features[:n].detach(), features[n:2 * n]
        ones, zeros = torch.ones_like(logits_real), torch.zeros_like(logits_real)

        kl = kl_to_standard_normal(mu, logvar)
        llike = 0.5 * (feat_rec - feat_target).square().flatten(1).sum(dim=1).mean()
        dis_real = self.criterion(logits_real, torch.full_like(logits_real, cfg["real_label"]))
        dis_fake = 0.5 * (self.criterion(logits_rec, zeros) + self.criterion(logits_p, zeros))
        gan_G = 0.5 * (self.criterion(logits_rec, ones) + self.criterion(logits_p, ones))
        loss_D = dis_real + dis_fake
        loss_E = cfg["kl_weight"] * kl + llike
        loss_G = cfg["gamma"] * llike + gan_G

        # every process must take the same decision: from D's losses over the whole batch
        train_D, train_G = self._equilibrium(*self.group.mean(torch.stack([dis_real, dis_fake])).tolist())
        updates = [(loss_E, self.E, self.opt_E)]
        updates += [(loss_G, self.G, self.opt_G)] if train_G else []
        updates += [(loss_D, self.D, self.opt_D)] if train_D else []
        # Every gradient from the same graph before any weight changes; each network's from its
        # own loss only (backward's ``inputs``: the DDP wrapper then averages exactly that network's).
        for number, (loss, network, optimizer) in enumerate(updates, 1):
            optimizer.zero_grad(set_to_none=True)
            trained = [p for p in network.parameters() if p.requires_grad]
            if trained:
                loss.backward(inputs=trained, retain_graph=number < len(updates))
        for _, _, optimizer in updates:
            optimizer.step()

        self.steps_done += 1
        names = ("loss_D", "loss_G", "loss_E", "kl", "llike", "gan_G", "D_x", "D_G_z")
        losses = self._report(names, [loss_D, loss_G, loss_E, kl, llike, gan_G, logits_real.sigmoid().mean(),
                                      logits_p.sigmoid().mean()])
        return losses | {"train_D": float(train_D), "train_G": float(train_G)}

    def _equilibrium(self, dis_real: float, dis_fake: float) -> tuple[bool, bool]:
        """(update D, update the decoder) by Larsen et al.'s equilibrium band."""
        margin, equilibrium = self.config["margin"], self.config["equilibrium"]
        if margin <= 0:
            return True, True
        train_D = min(dis_real, dis_fake) >= equilibrium - margin
        train_G = max(dis_real, dis_fake) <= equilibrium + margin
        if not (train_D or train_G):
            return True, True
        return train_D, train_G

    # -- looking at it -------------------------------------------------------------------------
    def inference_model(self) -> nn.Module:
        """Encoder and generator (deep copies, eval mode): ``model(z)`` draws, ``model.encode``."""
        model = VAEGANModel(copy.deepcopy(self.E), copy.deepcopy(self.G))
        return model.eval().requires_grad_(False)

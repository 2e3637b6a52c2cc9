"""DCGAN training: non-saturating GAN loss, Adam(2e-4, (0.5, 0.999)), as in pytorch/examples."""

from __future__ import annotations

import copy

import torch
from torch import nn

from studio.ml.checkpoints import load_module_state, optimizer_from_tensors, optimizer_to_tensors
from studio.ml.data.base import ImageDataset, to_uint8
from studio.ml.models.dcgan import Discriminator, Generator

GRID_SAMPLES = 64  # an 8x8 grid of fixed z


class DCGANTrainer:
    kind = "dcgan"

    def __init__(self, config: dict, dataset: ImageDataset, device: torch.device | str, seed: int = 0):
        if (dataset.size, dataset.channels) != (config["image_size"], config["channels"]):
            raise ValueError(
                f"dataset {dataset.name!r} has {dataset.channels}-channel {dataset.size}px images, "
                f"the model expects {config['channels']}-channel {config['image_size']}px"
            )
        self.config = dict(config)
        self.dataset = dataset
        self.device = torch.device(device)
        self.batch_size = int(config["batch_size"])
        self.steps_done = 0
        self.nz = int(config["nz"])
        torch.manual_seed(seed)  # weight init
        self.G = Generator(self.nz, config["ngf"], config["channels"], config["image_size"]).to(self.device)
        self.D = Discriminator(config["ndf"], config["channels"], config["image_size"]).to(self.device)
        betas = (config["beta1"], 0.999)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=config["lr"], betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=config["lr"], betas=betas)
        self.loss = nn.BCEWithLogitsLoss()
        self.rng = torch.Generator().manual_seed(seed)  # batches and z, on the CPU for portability
        self.fixed_z = torch.randn(GRID_SAMPLES, self.nz, generator=self.rng)
        self._ones = torch.ones(self.batch_size, device=self.device)
        self._zeros = torch.zeros(self.batch_size, device=self.device)

    def step(self) -> dict[str, float]:
        real = self.dataset.batch(self.batch_size, self.rng).to(self.device, non_blocking=True)
        z = torch.randn(self.batch_size, self.nz, generator=self.rng).to(self.device, non_blocking=True)
        fake = self.G(z)

        self.opt_D.zero_grad(set_to_none=True)
        d_real, d_fake = self.D(real), self.D(fake.detach())
        loss_D = self.loss(d_real, self._ones) + self.loss(d_fake, self._zeros)
        loss_D.backward()
        self.opt_D.step()

        self.opt_G.zero_grad(set_to_none=True)
        loss_G = self.loss(self.D(fake), self._ones)
        loss_G.backward()
        self.opt_G.step()

        self.steps_done += 1
        values = torch.stack([loss_D, loss_G, torch.sigmoid(d_real).mean(), torch.sigmoid(d_fake).mean()])
        loss_d, loss_g, d_x, d_g_z = values.detach().cpu().tolist()  # one device sync per step
        return {"loss_D": loss_d, "loss_G": loss_g, "D_x": d_x, "D_G_z": d_g_z}

    @torch.no_grad()
    def sample_grid(self) -> torch.Tensor:
        self.G.eval()
        try:
            return to_uint8(self.G(self.fixed_z.to(self.device))).cpu()
        finally:
            self.G.train()

    def inference_model(self) -> nn.Module:
        return copy.deepcopy(self.G).eval().requires_grad_(False)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {f"G.{k}": v for k, v in self.G.state_dict().items()}
        tensors |= {f"D.{k}": v for k, v in self.D.state_dict().items()}
        for name, opt in (("optim_G.", self.opt_G), ("optim_D.", self.opt_D)):
            tensors |= optimizer_to_tensors(opt, name)[0]
        tensors["fixed_z"] = self.fixed_z
        tensors["rng"] = self.rng.get_state()
        return tensors

    def extra_state(self) -> dict:
        return {
            "steps_done": self.steps_done,
            "optim_G": optimizer_to_tensors(self.opt_G, "optim_G.")[1],
            "optim_D": optimizer_to_tensors(self.opt_D, "optim_D.")[1],
        }

    def load_state(self, tensors: dict[str, torch.Tensor], extra: dict, source: str = "checkpoint") -> None:
        load_module_state(self.G, tensors, "G.", source)
        load_module_state(self.D, tensors, "D.", source)
        optimizer_from_tensors(self.opt_G, tensors, "optim_G.", extra["optim_G"])
        optimizer_from_tensors(self.opt_D, tensors, "optim_D.", extra["optim_D"])
        self.fixed_z = tensors["fixed_z"].cpu()
        self.rng.set_state(tensors["rng"].cpu())
        self.steps_done = int(extra["steps_done"])

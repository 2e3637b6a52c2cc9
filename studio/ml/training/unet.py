"""Training the side -> frontal U-Net (and its autoencoder, ``skips="none"``) on image pairs.

Plain regression: the mean squared error between output and target, Adam. Losses are reported as
the paper reports them, the MSE of pixel values in [0, 1] (a quarter of the MSE in the networks'
[-1, 1]): ``loss_mse`` on the step's batch. Each step also measures ``loss_test_mse`` on a fixed
handful of held-out pairs in eval mode, so the monitor shows over-fitting as it happens; the full
train/test MSE of a finished model is :func:`studio.ml.analysis.switchboard.split_mse`.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from studio.ml.data.base import to_signed_float, to_uint8
from studio.ml.data.paired import PairedImages
from studio.ml.models.unet import UNet, init_unet_weights, parse_skips
from studio.ml.training.common import SeededTrainer
from studio.ml.training.unet_params import UNET_PARAMS

MONITORED_TEST_PAIRS = 16  # loss_test_mse per step: cheap (a batch-16 forward) yet not one lucky pair
GRID_PAIRS = 6  # of each split in the sample grid: 12 (input, output, target) triples, a 6x6 grid


def to_unit_mse(mse_signed: torch.Tensor) -> torch.Tensor:
    """MSE measured in [-1, 1] -> the MSE of the same images in [0, 1]."""
    return mse_signed / 4.0


def spread(indices: torch.Tensor, count: int) -> torch.Tensor:
    """``count`` of ``indices`` evenly spread over them (all of them if there are fewer)."""
    if len(indices) <= count:
        return indices
    return indices[torch.linspace(0, len(indices) - 1, count).round().long()]


class UNetTrainer(SeededTrainer):
    """The Trainer protocol (:mod:`studio.ml.training.base`) for the U-Net and the autoencoder."""

    kind = "unet"
    params = UNET_PARAMS
    dataset: PairedImages

    def _check_dataset(self, dataset) -> None:
        if not isinstance(dataset, PairedImages):
            raise ValueError(f"the U-Net trains on image pairs (input -> target); dataset "
                             f"{getattr(dataset, 'name', dataset)!r} is not a paired dataset")
        super()._check_dataset(dataset)

    def _build_networks(self) -> None:
        cfg = self.config
        self.skips = parse_skips(cfg["skips"])

        def make() -> nn.Module:
            net = UNet(cfg["channels"], cfg["image_size"], cfg["width"], self.skips)
            init_unet_weights(net)
            return net

        self.net = self._build(make)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]))
        data = self.dataset
        test = data.indices("test")
        self._monitor = spread(test, MONITORED_TEST_PAIRS)
        self._grid = torch.cat([spread(data.indices("train"), GRID_PAIRS), spread(test, GRID_PAIRS)])

    def _networks(self) -> dict[str, nn.Module]:
        return {"unet": self.net}

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"optim": self.opt}

    def _pairs(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        data = self.dataset
        return (to_signed_float(data.inputs[index]).to(self.device),
                to_signed_float(data.targets[index]).to(self.device))

    def step(self) -> dict[str, float]:
        inputs, targets = self.dataset.batch_pairs(self.batch_size, self.rng, self.shard)
        inputs, targets = inputs.to(self.device, non_blocking=True), targets.to(self.device, non_blocking=True)
        self.opt.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(self._parallel(self.net)(inputs), targets)
        loss.backward()
        self.opt.step()
        self.steps_done += 1
        stats = [to_unit_mse(loss)]
        if len(self._monitor):  # every process measures the same pairs: the mean is their MSE
            stats.append(to_unit_mse(self._eval_mse(*self._pairs(self._monitor))))
        return self._report(("loss_mse", "loss_test_mse"), stats)

    @torch.no_grad()
    def _eval_mse(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        self.net.eval()
        try:
            return nn.functional.mse_loss(self.net(inputs), targets)
        finally:
            self.net.train()

    # -- looking at it -------------------------------------------------------------------------
    @torch.no_grad()
    def sample_grid(self) -> torch.Tensor:
        """(input, output, target) for fixed pairs, training pairs first then held-out ones:
        uint8 (36, C, H, W), two triples per row of a 6x6 grid."""
        inputs, targets = self._pairs(self._grid)
        self.net.eval()
        try:
            outputs = self.net(inputs)
        finally:
            self.net.train()
        triples = torch.stack([inputs, outputs, targets], dim=1).flatten(0, 1)
        return to_uint8(triples.float().cpu())

    def inference_model(self) -> nn.Module:
        """A deep copy of the U-Net in eval mode: ``model(images, keep)``."""
        return copy.deepcopy(self.net).eval().requires_grad_(False)

"""Discovering K latent directions of a frozen generator without labels (Voynov and Babenko 2020),
for the linear, warped and curvilinear direction models (seed paper 004).

Each step draws z ~ N(0, I), a direction k and a shift t (|t| in [min_shift, max_shift], either
sign), edits z' = D(z, k, t), and a reconstructor that sees (G(z), G(z')) learns to tell k and t.
The directions learn alongside it, so they drift toward edits that are easy to tell apart: the
disentangled factors. Loss = CE(k) + shift_weight * |t_predicted - t| and, for the curvilinear
model, + logdet_weight * (log|det df/dz|)^2 at z and at the edited point (DeCurvEd's term), +
length_weight * log(|z' - z| / |t|)^2. The last term is ours: a volume-preserving f may still
shrink the K edit axes and stretch the others, and it does, because a small t that makes a big
edit is easy to recognise (after 2000 steps on the shapes, t = 0.05 moved z as far as t = 1.5
moves it along a unit linear direction). Keeping |z' - z| near |t| makes t a distance in z, as
the linear model's unit columns and the warped model's normalised steps do.
Logged: loss_total, its terms loss_direction, loss_shift (and loss_logdet, the mean squared
log-determinant, and loss_length, the mean squared log length ratio, before weighting), and
direction_accuracy (chance is 1/K).

The generator is loaded from ``config["generator"]`` and never trained (eval mode: batch norm on
its running statistics). Its weights are saved in every checkpoint, so a direction model keeps
the generator it was trained with even if that run trains on and overwrites its checkpoint.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import nn

from studio.ml.checkpoints import CheckpointError
from studio.ml.data.base import to_uint8
from studio.ml.models.directions import CurvilinearDirections, Reconstructor, make_directions
from studio.ml.models.generators import load_generator
from studio.ml.models.latent_editor import LatentEditor
from studio.ml.training.common import GRID_SAMPLES, SeededTrainer
from studio.ml.training.directions_params import DIRECTIONS_PARAMS

GRID_COLUMNS = 8  # the sample grid: a row per direction (cycling), shifts from -max to +max


class DirectionTrainer(SeededTrainer):
    """The Trainer protocol (:mod:`studio.ml.training.base`) for the three direction models."""

    kind = "directions"
    params = DIRECTIONS_PARAMS

    def __init__(self, config: dict, dataset, device: torch.device | str = "cpu", seed: int = 0):
        self._generator_path = Path(str(config.get("generator", ""))).expanduser()
        if not str(config.get("generator", "")):
            raise ValueError("directions: give the generator checkpoint (parameter 'generator') whose latent space "
                             "to explore")
        # A checkpoint's metadata holds the path as given; a new run keeps it absolute.
        self.generator, self.generator_meta = load_generator(self._generator_path, device)
        super().__init__(config, dataset, device, seed)
        self.fixed_z = torch.randn(GRID_SAMPLES // GRID_COLUMNS, self.nz, generator=self.rng)

    @property
    def nz(self) -> int:
        return self.generator.nz

    def _check_dataset(self, dataset) -> None:
        cfg, gen = self.config, self.generator_meta["config"]
        if (gen["image_size"], gen["channels"]) != (cfg["image_size"], cfg["channels"]):
            raise ValueError(
                f"generator {self._generator_path} draws {gen['channels']}-channel {gen['image_size']}px images, "
                f"but dataset {dataset.name!r} holds {cfg['channels']}-channel {cfg['image_size']}px ones: pick the "
                "data it was trained on")
        if cfg["min_shift"] > cfg["max_shift"]:
            raise ValueError(f"directions min_shift ({cfg['min_shift']:g}) is above max_shift ({cfg['max_shift']:g})")
        if cfg["method"] == "curvilinear" and cfg["directions"] > self.nz:
            raise ValueError(f"curvilinear editing moves along axes of f(z): at most nz={self.nz} directions, "
                             f"not {cfg['directions']}")

    def _build_networks(self) -> None:
        cfg = self.config
        self.config["generator"] = str(self._generator_path.resolve())
        self.directions = self._build(lambda: make_directions(
            cfg["method"], self.nz, cfg["directions"], dipoles=cfg["dipoles"], couplings=cfg["couplings"],
            hidden=cfg["hidden"]))
        self.reconstructor = self._build(lambda: Reconstructor(cfg["channels"], cfg["image_size"], cfg["directions"]))
        params = [*self.directions.parameters(), *self.reconstructor.parameters()]
        self.opt = torch.optim.Adam(params, lr=cfg["lr"])

    def _networks(self) -> dict[str, nn.Module]:
        return {"directions": self.directions, "reconstructor": self.reconstructor,
                "generator": self.generator}

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"optim": self.opt}

    def _shifts(self, n: int) -> torch.Tensor:
        """|t| uniform in [min_shift, max_shift], either sign."""
        cfg = self.config
        size = cfg["min_shift"] + (cfg["max_shift"] - cfg["min_shift"]) * torch.rand(n, generator=self.rng)
        sign = torch.randint(0, 2, (n,), generator=self.rng) * 2 - 1
        return size * sign

    def step(self) -> dict[str, float]:
        cfg, n = self.config, self.batch_size
        directions, reconstructor = self._parallel(self.directions), self._parallel(self.reconstructor)
        z = self._rows(torch.randn(n, self.nz, generator=self.rng))
        k = self._rows(torch.randint(cfg["directions"], (n,), generator=self.rng))
        t = self._rows(self._shifts(n))
        self.opt.zero_grad(set_to_none=True)
        curvilinear = isinstance(self.directions, CurvilinearDirections)
        if curvilinear:  # both log-determinants of the trip through f and back
            z_edited, log_det, log_det_back = directions(z, k, t, log_dets=True)
            volume = 0.5 * (log_det.square().mean() + log_det_back.square().mean())
            length = ((z_edited - z).norm(dim=1).clamp_min(1e-8) / t.abs()).log().square().mean()
        else:
            z_edited = directions(z, k, t)
            volume = length = torch.zeros((), device=self.device)
        with torch.no_grad():
            before = self.generator(z)
        logits, shift = reconstructor(before, self.generator(z_edited))
        loss_direction = nn.functional.cross_entropy(logits, k)
        loss_shift = (shift - t).abs().mean()
        loss = (loss_direction + cfg["shift_weight"] * loss_shift + cfg["logdet_weight"] * volume
                + cfg["length_weight"] * length)
        loss.backward()
        self.opt.step()
        self.steps_done += 1
        accuracy = (logits.argmax(1) == k).float().mean()
        # loss_* are plotted by the monitor; the accuracy (chance: 1/K) is logged beside them
        names = ["loss_total", "loss_direction", "loss_shift", "direction_accuracy"]
        values = [loss, loss_direction, loss_shift, accuracy]
        if curvilinear:
            names, values = names + ["loss_logdet", "loss_length"], values + [volume, length]
        return self._report(names, values)

    # -- looking at it -------------------------------------------------------------------------
    @torch.no_grad()
    def sample_grid(self) -> torch.Tensor:
        """Row r: fixed z number r moved along direction r mod K, from -max_shift to +max_shift:
        uint8 (64, C, H, W)."""
        cfg = self.config
        rows = len(self.fixed_z)
        z = self.fixed_z.to(self.device).repeat_interleave(GRID_COLUMNS, 0)
        k = (torch.arange(rows) % cfg["directions"]).repeat_interleave(GRID_COLUMNS).to(self.device)
        t = torch.linspace(-cfg["max_shift"], cfg["max_shift"], GRID_COLUMNS).repeat(rows).to(self.device)
        was_training = self.directions.training
        self.directions.eval()
        try:
            return to_uint8(self.generator(self.directions.shift(z, k, t)).float().cpu())
        finally:
            self.directions.train(was_training)

    def inference_model(self) -> LatentEditor:
        """The generator and a copy of the directions, frozen, in eval mode."""
        return LatentEditor(copy.deepcopy(self.generator), copy.deepcopy(self.directions)).eval().requires_grad_(False)

    # -- state ---------------------------------------------------------------------------------
    def _own_tensors(self) -> dict[str, torch.Tensor]:
        return {"fixed_z": self.fixed_z}

    def _load_own_tensors(self, tensors: dict[str, torch.Tensor], source: Path | str) -> None:
        expected = (GRID_SAMPLES // GRID_COLUMNS, self.nz)
        if tuple(tensors["fixed_z"].shape) != expected:
            raise CheckpointError(f"{source}: fixed_z has shape {tuple(tensors['fixed_z'].shape)}, expected {expected}")
        self.fixed_z = tensors["fixed_z"].cpu().clone()

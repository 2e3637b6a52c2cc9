"""Attribute regressors: read the known factors of the shapes set back from any image.

Trained on real shapes (whose factors are known), then applied to generated images, they measure
what a latent edit changed without a human label (the role the paper's attribute predictors play
on faces). One small CNN reads all factors at once:

  x, y, scale, background   as numbers (background as its gray level)
  hue                       as (cos, sin) of 2 pi hue: it is circular
  rotation                  as (cos, sin) of n * rotation for an n-fold symmetric kind (a square
                            turned by pi/2 is the same square); undefined for the circle
  kind                      four logits

Changes are reported in % of each factor's range over the data (hue and rotation: of the full
circle, so the largest possible change is 50%).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from studio.ml.checkpoints import CheckpointError, load_checkpoint, load_module_state, save_checkpoint
from studio.ml.data.base import ImageDataset, to_signed_float
from studio.ml.data.shapes import BACKGROUND_LEVELS, SHAPE_KINDS

FACTORS = ("x", "y", "scale", "rotation", "hue", "background")
CIRCULAR = ("rotation", "hue")
SYMMETRY = torch.tensor([0, 4, 3, 5])  # rotational symmetry of SHAPE_KINDS (circle: none)
REGRESSOR_FORMAT = "latent-studio/attribute-regressor/1"
_OUTPUTS = 8  # x, y, scale, background, hue cos/sin, rotation cos/sin


class AttributeRegressor(nn.Module):
    def __init__(self, channels: int, image_size: int, width: int = 32):
        super().__init__()
        layers: list[nn.Module] = []
        c_in, size = channels, image_size
        for c_out in (width, 2 * width, 4 * width):
            layers += [nn.Conv2d(c_in, c_out, 3, 2, 1), nn.BatchNorm2d(c_out), nn.ReLU(True)]
            c_in, size = c_out, size // 2
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c_in * size * size, 128), nn.ReLU(True),
                                 nn.Linear(128, _OUTPUTS + len(SHAPE_KINDS)))
        self.channels, self.image_size = channels, image_size

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(images)
        return out[:, :_OUTPUTS], out[:, _OUTPUTS:]


def factor_targets(factors: dict[str, np.ndarray]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(regression targets (n, 8), rotation mask (n,): False for circles, kind (n,))."""
    f = {k: torch.as_tensor(np.asarray(v)) for k, v in factors.items()}
    kind = f["kind"].long()
    n_fold = SYMMETRY[kind].double()
    hue, rotation = 2 * math.pi * f["hue"].double(), n_fold * f["rotation"].double()
    level = torch.tensor(BACKGROUND_LEVELS, dtype=torch.float64)[f["background"].long()]
    targets = torch.stack([f["x"].double(), f["y"].double(), f["scale"].double(), level,
                           hue.cos(), hue.sin(), rotation.cos(), rotation.sin()], dim=1)
    return targets.float(), n_fold > 0, kind


@dataclass
class Ranges:
    """Each factor's span over the data, the unit of a reported change (circular ones: 1 turn)."""

    x: float
    y: float
    scale: float
    background: float
    rotation: float = 1.0
    hue: float = 1.0

    @classmethod
    def of(cls, factors: dict[str, np.ndarray]) -> Ranges:
        level = np.asarray(BACKGROUND_LEVELS)
        span = {k: float(np.ptp(np.asarray(factors[k]))) for k in ("x", "y", "scale")}
        return cls(**span, background=float(np.ptp(level)))


def read_attributes(regressor: AttributeRegressor, images: torch.Tensor, batch: int = 256) -> dict[str, torch.Tensor]:
    """Each factor of ``images`` (float, [-1, 1]) as the regressor reads it: x, y, scale,
    background (numbers), hue (turns in [0, 1)), rotation (turns of the symmetry period, NaN
    where the kind read is a circle), kind (index) and kind_probabilities (n, 4)."""
    device = next(regressor.parameters()).device
    values, logits = [], []
    with torch.no_grad():
        for start in range(0, len(images), batch):
            v, k = regressor(images[start:start + batch].to(device))
            values.append(v.float().cpu())
            logits.append(k.float().cpu())
    v, k = torch.cat(values), torch.cat(logits)
    kind = k.argmax(1)
    rotation = torch.atan2(v[:, 7], v[:, 6]) / (2 * math.pi) % 1.0
    rotation = torch.where(SYMMETRY[kind] > 0, rotation, torch.full_like(rotation, math.nan))
    return {"x": v[:, 0], "y": v[:, 1], "scale": v[:, 2], "background": v[:, 3],
            "hue": torch.atan2(v[:, 5], v[:, 4]) / (2 * math.pi) % 1.0, "rotation": rotation,
            "kind": kind, "kind_probabilities": k.softmax(1)}


def attribute_change(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor], ranges: Ranges
                     ) -> dict[str, torch.Tensor]:
    """|after - before| of each factor, per image, in % of its range (circular ones the short way
    round; NaN where rotation is undefined on either side)."""
    change = {}
    for name in FACTORS:
        delta = (after[name] - before[name]).abs()
        if name in CIRCULAR:
            delta = torch.minimum(delta, 1.0 - delta)
        change[name] = 100.0 * delta / getattr(ranges, name)
    return change


def train_regressor(data: ImageDataset, steps: int = 1500, batch_size: int = 64, seed: int = 0,
                    device: torch.device | str = "cpu", held_out: float = 0.1) -> tuple[AttributeRegressor, dict]:
    """A regressor trained on ``data`` (it needs ``data.factors``), and its accuracy on a held-out
    tenth: mean absolute error per factor in % of range, and the kind's accuracy."""
    if not data.factors or any(name not in data.factors for name in ("kind", *FACTORS)):
        raise ValueError(f"dataset {data.name!r} has no known shape factors to learn (use the built-in shapes)")
    gen = torch.Generator().manual_seed(seed)
    targets, has_rotation, kind = factor_targets(data.factors)
    order = torch.randperm(len(data), generator=gen)
    cut = int(len(data) * (1 - held_out))
    train, test = order[:cut], order[cut:]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AttributeRegressor(data.channels, data.size).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=steps)
    for _ in range(steps):
        index = train[torch.randint(len(train), (batch_size,), generator=gen)]
        values, logits = model(to_signed_float(data.images[index]).to(device))
        target, mask = targets[index].to(device), has_rotation[index].to(device)
        error = (values - target).square()
        loss = error[:, :6].mean() + (error[:, 6:].mean(1) * mask).sum() / mask.sum().clamp_min(1)
        loss = loss + 0.1 * nn.functional.cross_entropy(logits, kind[index].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()
    model.eval().requires_grad_(False)
    return model, regressor_accuracy(model, data, test)


def regressor_accuracy(model: AttributeRegressor, data: ImageDataset, index: torch.Tensor) -> dict:
    read = read_attributes(model, to_signed_float(data.images[index]))
    truth = true_attributes({k: np.asarray(v)[index.numpy()] for k, v in data.factors.items()})
    error = attribute_change(truth, read, Ranges.of(data.factors))
    report = {f"{name}_error_pct": float(error[name].nanmean()) for name in FACTORS}
    report["kind_accuracy"] = float((read["kind"] == truth["kind"]).float().mean())
    report["images"] = len(index)
    return report


def true_attributes(factors: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """The factors in the units ``read_attributes`` reports them."""
    f = {k: torch.as_tensor(np.asarray(v)) for k, v in factors.items()}
    kind = f["kind"].long()
    n_fold = SYMMETRY[kind].double()
    rotation = (n_fold * f["rotation"].double() / (2 * math.pi)) % 1.0
    rotation = torch.where(n_fold > 0, rotation, torch.full_like(rotation, math.nan))
    level = torch.tensor(BACKGROUND_LEVELS)[f["background"].long()]
    return {"x": f["x"].float(), "y": f["y"].float(), "scale": f["scale"].float(), "background": level.float(),
            "hue": f["hue"].float(), "rotation": rotation.float(), "kind": kind}


def save_regressor(model: AttributeRegressor, path: Path | str, info: dict) -> Path:
    tensors = {f"net.{k}": v for k, v in model.state_dict().items()}
    meta = {"format": REGRESSOR_FORMAT, "channels": model.channels, "image_size": model.image_size, **info}
    return save_checkpoint(path, tensors, meta)


def load_regressor(path: Path | str, device: torch.device | str = "cpu") -> tuple[AttributeRegressor, dict]:
    ckpt = load_checkpoint(path)
    if ckpt.meta.get("format") != REGRESSOR_FORMAT:
        raise CheckpointError(f"{path} is not an attribute regressor")
    model = AttributeRegressor(ckpt.meta["channels"], ckpt.meta["image_size"])
    load_module_state(model, ckpt.tensors, "net.", path)
    return model.to(device).eval().requires_grad_(False), ckpt.meta

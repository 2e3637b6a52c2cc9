"""What the skip connections of a side -> frontal U-Net carry (seed paper 001, sections 4-6).

- :func:`split_mse`: the train/test MSE of Tables 1-4 (pixel values in [0, 1]).
- :func:`zeroing_study`: the paper's figures 5 and 6 as numbers. For every mask (all latents, each
  latent alone, each latent removed) the error of the output against the target, split in two:
  ``colour_error`` compares the colour of blurred images with brightness taken out (the paper's
  "latent1 carries colour"), ``structure_error`` compares the fine detail of brightness (what
  makes a face: eyes, nose, mouth edges; "latent2 carries the face").
- Probes: :func:`channel_probe` keeps one of R, G, B; :func:`colour_grid_probe` keeps one channel
  per cell of a 3x3 grid, neighbours differing; :func:`colour_separation` scores how much of each
  cell's output stays in its cell's channel (1: no mixing).
- :func:`mask_grid`: the "one on" / "one off" image grids of figures 5 and 6.

Everything takes and returns float images in [-1, 1] (N, C, H, W) unless it says otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from studio.ml.data.base import to_signed_float
from studio.ml.data.paired import PairedImages
from studio.ml.models.unet import ALL_KEPT, DEPTH, LATENTS

LUMA = torch.tensor([0.299, 0.587, 0.114])  # ITU-R 601
COLOUR_BLUR = 8  # px at 64x64 (scaled with the size): colour is compared over patches, not edges
DETAIL_BLUR = 5  # px: brightness minus its 5x5 box blur is the detail a face is drawn with
GRID_CHANNELS = ((0, 1, 2), (1, 2, 0), (2, 0, 1))  # the 3x3 probe: R G B / G B R / B R G
CELL_MARGIN = 1 / 6  # of a cell's side left out at its borders when scoring separation
EVAL_BATCH = 128


def masks(mode: str) -> list[tuple[str, tuple[bool, ...]]]:
    """Named keep-masks: "one-on" (each latent alone), "one-off" (each latent removed)."""
    if mode not in ("one-on", "one-off"):
        raise ValueError(f"mode must be 'one-on' or 'one-off', not {mode!r}")
    alone = mode == "one-on"
    return [(f"{'only ' if alone else '-'}{name}", tuple((i == j) == alone for j in range(DEPTH)))
            for i, name in enumerate(LATENTS)]


def mask_label(keep: Sequence[bool]) -> str:
    """"all", "only latent2", "-latent1", or the kept latents ("latent1+latent3")."""
    keep = tuple(keep)
    if all(keep):
        return "all"
    for mode in ("one-on", "one-off"):
        for name, mask in masks(mode):
            if mask == keep:
                return name
    return "+".join(name for name, k in zip(LATENTS, keep) if k) or "none"


@torch.no_grad()
def translate(model, images: torch.Tensor, keep: Sequence[bool] = ALL_KEPT) -> torch.Tensor:
    """``model(images, keep)`` in batches on the model's device; float32 on the CPU."""
    device = next(model.parameters()).device
    out = [model(chunk.to(device), keep).float().cpu() for chunk in images.split(EVAL_BATCH)]
    return torch.cat(out)


def _split(pairs: PairedImages, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    index = pairs.indices(split)
    return to_signed_float(pairs.inputs[index]), to_signed_float(pairs.targets[index])


def split_mse(model, pairs: PairedImages, split: str, keep: Sequence[bool] = ALL_KEPT) -> float:
    """Mean squared error over ``split``'s pairs, pixel values in [0, 1] (NaN if the split is empty)."""
    inputs, targets = _split(pairs, split)
    if not len(inputs):
        return float("nan")
    return float(F.mse_loss(translate(model, inputs, keep), targets)) / 4.0


# -- colour and structure -------------------------------------------------------------------------
def _unit(images: torch.Tensor) -> torch.Tensor:
    return (images.float() + 1.0) / 2.0


def _luma(unit: torch.Tensor) -> torch.Tensor:
    if unit.shape[1] == 1:
        return unit
    return (unit * LUMA.to(unit).view(1, 3, 1, 1)).sum(1, keepdim=True)


def _box_blur(images: torch.Tensor, size: int) -> torch.Tensor:
    pad = size // 2
    padded = F.pad(images, (pad, size - 1 - pad, pad, size - 1 - pad), mode="replicate")
    return F.avg_pool2d(padded, size, stride=1)


def _mse(a: torch.Tensor, b: torch.Tensor, region: torch.Tensor | None) -> float:
    """Mean squared difference over every value, or over the pixels of ``region`` (bool (N, H, W))."""
    if region is None:
        return float(F.mse_loss(a, b))
    weight = region.unsqueeze(1).to(a)
    return float(((a - b).square() * weight).sum() / (weight.sum() * a.shape[1]).clamp_min(1))


def colour_error(outputs: torch.Tensor, targets: torch.Tensor, region: torch.Tensor | None = None) -> float:
    """MSE of the chroma (RGB minus brightness) of patch-blurred images, in [0, 1] units; over the
    pixels of ``region`` (bool (N, H, W)) only, if given."""
    size = max(2, round(COLOUR_BLUR * outputs.shape[-1] / 64))
    chroma = [_box_blur(u - _luma(u), size) for u in (_unit(outputs), _unit(targets))]
    return _mse(*chroma, region)


def structure_error(outputs: torch.Tensor, targets: torch.Tensor, region: torch.Tensor | None = None) -> float:
    """MSE of the brightness detail (luma minus its 5x5 box blur), in [0, 1] units; over the pixels
    of ``region`` only, if given."""
    return _mse(_detail(outputs), _detail(targets), region)


def _detail(images: torch.Tensor) -> torch.Tensor:
    luma = _luma(_unit(images))
    return luma - _box_blur(luma, DETAIL_BLUR)


@dataclass(frozen=True)
class MaskResult:
    mask: str  # mask_label
    keep: tuple[bool, ...]
    mse: float
    colour_error: float
    structure_error: float
    # the same two on the subject alone (PairedImages.target_mask: the head), NaN when unknown
    subject_colour_error: float = float("nan")
    subject_structure_error: float = float("nan")


def zeroing_study(model, pairs: PairedImages, split: str = "test") -> list[MaskResult]:
    """Errors of the output against the target with every latent, each alone, each removed."""
    inputs, targets = _split(pairs, split)
    if not len(inputs):
        raise ValueError(f"dataset {pairs.name!r} has no {split} pairs")
    subject = None if pairs.target_mask is None else pairs.target_mask[pairs.indices(split)]
    results = []
    for keep in [ALL_KEPT] + [mask for mode in ("one-on", "one-off") for _, mask in masks(mode)]:
        outputs = translate(model, inputs, keep)
        on_subject = ((colour_error(outputs, targets, subject), structure_error(outputs, targets, subject))
                      if subject is not None else ())
        results.append(MaskResult(mask_label(keep), keep, float(F.mse_loss(outputs, targets)) / 4.0,
                                  colour_error(outputs, targets), structure_error(outputs, targets), *on_subject))
    return results


# -- probes ---------------------------------------------------------------------------------------
def _black(images: torch.Tensor) -> torch.Tensor:
    return torch.full_like(images, -1.0)


def channel_probe(images: torch.Tensor, channel: int) -> torch.Tensor:
    """The images with only ``channel`` (0 R, 1 G, 2 B) left; the others black."""
    if images.shape[1] != 3:
        raise ValueError("colour probes need RGB images")
    probe = _black(images)
    probe[:, channel] = images[:, channel]
    return probe


def grid_channel_map(size: int) -> torch.Tensor:
    """(size, size) long: the channel kept at each pixel by the 3x3 colour-grid probe."""
    cells = torch.tensor(GRID_CHANNELS)
    edges = torch.arange(size) * 3 // size
    return cells[edges.view(-1, 1), edges.view(1, -1)]


def colour_grid_probe(images: torch.Tensor) -> torch.Tensor:
    """The images cut in a 3x3 grid, each cell keeping one channel, neighbouring cells different."""
    if images.shape[1] != 3:
        raise ValueError("colour probes need RGB images")
    keep = F.one_hot(grid_channel_map(images.shape[-1]), 3).permute(2, 0, 1).bool()
    return torch.where(keep.unsqueeze(0), images, torch.full_like(images, -1.0))


def colour_separation(outputs: torch.Tensor) -> torch.Tensor:
    """For the output of a colour-grid probe: per image and cell (N, 3, 3), the share of the cell's
    light (sum of its [0, 1] values, borders left out) in the channel the probe kept there.
    1 means the colours did not mix; light spread evenly over R, G, B gives 1/3."""
    unit = _unit(outputs)
    size = unit.shape[-1]
    cell = size / 3
    margin = round(cell * CELL_MARGIN)
    shares = torch.empty(len(unit), 3, 3)
    for row in range(3):
        for col in range(3):
            rows = slice(round(row * cell) + margin, round((row + 1) * cell) - margin)
            cols = slice(round(col * cell) + margin, round((col + 1) * cell) - margin)
            patch = unit[:, :, rows, cols]
            light = patch.sum(dim=(2, 3))  # (N, 3)
            shares[:, row, col] = light[:, GRID_CHANNELS[row][col]] / light.sum(1).clamp_min(1e-8)
    return shares


def channel_share(outputs: torch.Tensor, channel: int) -> torch.Tensor:
    """Per image, the share of the output's light ([0, 1] values summed) in ``channel``: 1 when a
    single-channel probe's output stayed in that channel."""
    light = _unit(outputs).sum(dim=(2, 3))
    return light[:, channel] / light.sum(1).clamp_min(1e-8)


def probe_study(model, pairs: PairedImages, split: str = "train", keep: Sequence[bool] = ALL_KEPT) -> dict:
    """Do colours mix? (The paper's section 5 probes training images.) For the R-, G- and B-only
    probes the mean share of output light left in the probe's channel; for the colour grid the
    mean and the worst cell's share (:func:`colour_separation`)."""
    inputs, _ = _split(pairs, split)
    if inputs.shape[1] != 3:
        raise ValueError("colour probes need an RGB model")
    study = {}
    for channel, name in enumerate("RGB"):
        outputs = translate(model, channel_probe(inputs, channel), keep)
        study[f"{name} only"] = float(channel_share(outputs, channel).mean())
    shares = colour_separation(translate(model, colour_grid_probe(inputs), keep))
    study["colour grid"] = float(shares.mean())
    study["colour grid, worst cell"] = float(shares.mean(0).min())
    return study


def probe_inputs(images: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """The paper's probes of each image: R only, G only, B only and the 3x3 colour grid."""
    probes = [(name, channel_probe(images, c)) for c, name in enumerate(("R only", "G only", "B only"))]
    return probes + [("colour grid", colour_grid_probe(images))]


def mask_grid(model, images: torch.Tensor, mode: str) -> tuple[torch.Tensor, list[str]]:
    """Figure 5 ("one-on") or 6 ("one-off"): per image a row [input, all latents, mask 1..5],
    float (N * 7, C, H, W) row by row, and the column titles."""
    named = [("all", ALL_KEPT)] + masks(mode)
    columns = [images] + [translate(model, images, keep) for _, keep in named]
    return torch.stack(columns, dim=1).flatten(0, 1), ["input"] + [name for name, _ in named]

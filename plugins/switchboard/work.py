"""What the switchboard asks of the inference thread and the job thread (no widgets here).

``translate_shown`` and ``render_mask_grid`` build the functions handed to ``studio.models.submit``
(``fn(module, device)``); ``load_pairs`` is a ``studio.jobs`` job. Everything they return is plain
data (CPU tensors, floats) that the UI thread only reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import torch
from torch import nn

from studio.ml.analysis.switchboard import channel_probe, colour_grid_probe, colour_separation, mask_grid
from studio.ml.data.base import to_signed_float, to_uint8
from studio.ml.data.paired import PairedImages

NO_PROBE = "none"
COLOUR_GRID = "colour grid"
PROBES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "R only": partial(channel_probe, channel=0),
    "G only": partial(channel_probe, channel=1),
    "B only": partial(channel_probe, channel=2),
    COLOUR_GRID: colour_grid_probe,
}
DIFF_GAIN = 4  # |output - target| is faint where the model is good: shown 4x brighter


def apply_probe(images: torch.Tensor, probe: str) -> torch.Tensor:
    """float (N, C, H, W) in [-1, 1] with ``probe`` (a PROBES name, or "none") applied."""
    return images if probe == NO_PROBE else PROBES[probe](images)


@dataclass(eq=False)
class ShownInput:
    """The input on show (probe applied) and its target (None for a dropped image), float
    (1, C, H, W) in [-1, 1] on the CPU. ``on(device)`` copies them to the model's device once, on
    the inference thread, so each toggle costs only the forward."""

    label: str
    input: torch.Tensor
    target: torch.Tensor | None
    probe: str = NO_PROBE
    _on_device: dict = field(default_factory=dict, repr=False)

    def on(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
        if device not in self._on_device:  # only the inference thread gets here
            target = self.target.to(device) if self.target is not None else None
            self._on_device = {device: (self.input.to(device), target)}
        return self._on_device[device]

    def input_image(self) -> torch.Tensor:
        return to_uint8(self.input[0])

    def target_image(self) -> torch.Tensor | None:
        return to_uint8(self.target[0]) if self.target is not None else None


def shown_input(label: str, image: torch.Tensor, target: torch.Tensor | None, probe: str) -> ShownInput:
    """uint8 (C, H, W) input and target -> a ShownInput with ``probe`` applied to both: the target
    of a probe is the probe of the target, so the difference shows colours leaving their channel."""
    probed = [apply_probe(to_signed_float(x[None]), probe) if x is not None else None for x in (image, target)]
    return ShownInput(label, probed[0], probed[1], probe)


@dataclass(frozen=True)
class Translation:
    """One forward pass's result: the output, and against the target (if any) the amplified
    |difference| and the MSE in [0, 1] pixel units; for a colour-grid probe the share of each
    cell's light that stayed in its channel (3, 3)."""

    keep: tuple[bool, ...]
    output: torch.Tensor  # uint8 (C, H, W)
    difference: torch.Tensor | None = None  # uint8 (C, H, W), DIFF_GAIN x |output - target|
    mse: float | None = None
    separation: torch.Tensor | None = None


def translate_shown(shown: ShownInput, keep: Sequence[bool]) -> Callable[[nn.Module, torch.device], Translation]:
    """Inference-thread request: ``model(input, keep)`` at batch 1, kept to the forward and a few
    element-wise operations (this is the path a toggle click waits for)."""
    keep = tuple(bool(k) for k in keep)

    def run(module: nn.Module, device: torch.device) -> Translation:
        images, target = shown.on(device)
        output = module(images, keep)
        separation = colour_separation(output.float().cpu())[0] if shown.probe == COLOUR_GRID else None
        if target is None:
            return Translation(keep, to_uint8(output[0]).cpu(), separation=separation)
        error = (output - target) / 2.0  # in [0, 1] pixel units, as the paper's MSE
        difference = (error.abs() * DIFF_GAIN).clamp_(0, 1).mul_(255).round_().to(torch.uint8)
        return Translation(keep, to_uint8(output[0]).cpu(), difference[0].cpu(), float(error.square().mean()),
                           separation)

    return run


@dataclass(frozen=True)
class MaskGrid:
    """Figure 5 ("one-on") or 6 ("one-off"): per row [input, all, mask 1..5]."""

    mode: str
    images: torch.Tensor  # uint8 (rows * columns, C, H, W), row by row
    columns: list[str]
    rows: list[str]
    model: str


def render_mask_grid(inputs: torch.Tensor, rows: list[str], mode: str, model: str):
    """Inference-thread request: ``mask_grid`` of float ``inputs`` (N, C, H, W)."""

    def run(module: nn.Module, device: torch.device) -> MaskGrid:
        images, columns = mask_grid(module, inputs, mode)
        return MaskGrid(mode, to_uint8(images), columns, rows, model)

    return run


def load_pairs(datasets, setup: dict) -> Callable:
    """Job: the model's training pairs, shared through ``studio.datasets``."""

    def job(context) -> PairedImages | None:  # None when cancelled
        pairs = datasets.get(setup)
        if context.cancelled():
            return None
        if not isinstance(pairs, PairedImages):
            raise ValueError(f"dataset {setup.get('dataset')!r} holds no image pairs")
        return pairs

    return job

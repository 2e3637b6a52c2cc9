"""What the attribute editor computes off the UI thread, Qt-free.

``render_*`` build the functions handed to ``studio.models.submit`` (``fn(module, device)`` on the
inference thread, with ``module`` a LatentEditor); ``count_images`` and ``invert_*`` are
``studio.jobs`` jobs (``fn(context)``). Results are plain data (CPU tensors, floats) that the UI
thread only reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from studio.ml.analysis.inversion import find_latents, has_encoder
from studio.ml.data.base import to_signed_float, to_uint8

Edits = tuple[tuple[int, float], ...]
DIFF_GAIN = 4  # an order swap's difference is faint where edits almost commute: shown 4x brighter


@dataclass(frozen=True, eq=False)  # compared by identity: z is a tensor
class Start:
    """The unedited latent: from a seed, or found for an image (``detail`` says how well)."""

    label: str  # "seed 3", "shapes #12", "cat.png"
    z: torch.Tensor  # (nz,) float32 on the CPU
    seed: int | None = None  # z = seed_latent(seed, nz): a recipe stores the seed, not the numbers
    detail: str = ""  # "optimised z, RMS 0.061"
    generator: str = ""  # the generator checkpoint z belongs to (an image's z is only valid there)


@dataclass(frozen=True)
class Edited:
    """The edited image for ``edits`` (uint8 (C, H, W)); the unedited one when it was asked for."""

    edits: Edits
    image: torch.Tensor
    start_image: torch.Tensor | None = None


def _check_size(module: nn.Module, z: torch.Tensor) -> None:
    if z.shape[-1] != module.nz:
        raise ValueError(f"the start z has {z.shape[-1]} numbers, the model's latent {module.nz}")


def render_edit(z: torch.Tensor, edits: Sequence[tuple[int, float]], with_start: bool = False):
    """The slider's request: one edit of one z (and, after a new start, the unedited G(z))."""
    edits = tuple((int(k), float(t)) for k, t in edits)

    def run(module: nn.Module, device: torch.device) -> Edited:
        _check_size(module, z)
        start = z[None].to(device)
        image = to_uint8(module.render(start, edits)[0]).cpu()
        # separate batch-1 forwards: the edited image is then bit-identical to a recipe's replay
        start_image = to_uint8(module(start)[0]).cpu() if with_start else None
        return Edited(edits, image, start_image)

    return run


@dataclass(frozen=True)
class OrderSwap:
    """Directions k and l applied both ways round after the other edits; ``mean_difference`` is
    mean |k-then-l - l-then-k| in [0, 1] pixel units (0: the two edits commute here)."""

    k: int
    l: int  # noqa: E741  the paper's name for the second direction
    amounts: tuple[float, float]
    k_then_l: torch.Tensor  # uint8 (C, H, W)
    l_then_k: torch.Tensor
    difference: torch.Tensor  # uint8, DIFF_GAIN x |difference|
    mean_difference: float


def render_order_swap(z: torch.Tensor, others: Sequence[tuple[int, float]], k: int, tk: float,
                      l: int, tl: float):  # noqa: E741
    """Both orders of (k, tk) and (l, tl) after ``others``: two renders of batch 1."""
    others = tuple((int(j), float(t)) for j, t in others)

    def run(module: nn.Module, device: torch.device) -> OrderSwap:
        _check_size(module, z)
        start = z[None].to(device)
        first = module.render(start, (*others, (k, tk), (l, tl)))
        second = module.render(start, (*others, (l, tl), (k, tk)))
        error = (first - second).float().abs() / 2.0  # pixels in [0, 1]
        difference = (error * DIFF_GAIN).clamp_(0, 1).mul_(255).round_().to(torch.uint8)
        return OrderSwap(k, l, (tk, tl), to_uint8(first[0]).cpu(), to_uint8(second[0]).cpu(), difference[0].cpu(),
                         float(error.mean()))

    return run


def method_models(models: Sequence[tuple[str, dict]], generator: str, current: str,
                  methods: Sequence[str]) -> dict[str, str | None]:
    """Per method, a loaded direction model of ``generator``: the current model for its own
    method (even when it does not name its generator), else the first by name. ``models`` are
    (name, meta) pairs."""
    found: dict[str, str | None] = {method: None for method in methods}
    for name, meta in sorted(models, key=lambda item: (item[0] != current, item[0])):
        config = meta.get("config", {})
        method = config.get("method")
        if meta.get("kind") != "directions" or method not in found or found[method] is not None:
            continue
        if name == current or same_generator(config.get("generator", ""), generator):
            found[method] = name
    return found


def same_generator(a: str, b: str) -> bool:
    """Whether two generator checkpoint paths name the same file ("" names none)."""
    if not a or not b:
        return False
    return a == b or Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


# -- jobs ---------------------------------------------------------------------------------------
@dataclass
class Found:
    """An inversion job's outcome: the new start, unless cancelled."""

    model: str
    start: Start | None
    cancelled: bool = False


def count_images(datasets, setup: dict) -> Callable:
    """Job: load the model's training images (shared through ``studio.datasets``); their number."""

    def job(context) -> int:
        return len(datasets.get(setup).images)

    return job


def invert_training_image(model: str, module: nn.Module, datasets, setup: dict, index: int,
                          generator: str) -> Callable:
    """Job: z for training image ``index`` of the model's data."""

    def job(context) -> Found:
        dataset = datasets.get(setup)
        label = f"{setup.get('dataset', 'training')} #{index}"
        return _invert(model, module, dataset.images[index:index + 1], label, generator, context)

    return job


def invert_image(model: str, module: nn.Module, image: torch.Tensor, label: str, generator: str) -> Callable:
    """Job: z for one uint8 image (C, H, W) already read at the model's size."""

    def job(context) -> Found:
        return _invert(model, module, image[None], label, generator, context)

    return job


def _invert(model: str, module: nn.Module, images: torch.Tensor, label: str, generator: str, context) -> Found:
    found = find_latents(module, to_signed_float(images), progress=context.progress, cancelled=context.cancelled)
    if found.cancelled:
        return Found(model, None, cancelled=True)
    how = "encoder" if found.method == "encoder" else "optimised z"
    detail = f"{how}, RMS {float(found.error[0]):.3f}"
    return Found(model, Start(label, found.z[0].float().contiguous(), None, detail, generator))


def describe_method(module: nn.Module) -> str:
    """How an image becomes a start z with this model (job names, tooltips)."""
    return "encoding" if has_encoder(module) else "inverting (optimising z)"

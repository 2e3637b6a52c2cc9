"""Find z for an image: the encoder's mean where the model has one, else optimise z.

A GAN generator has no way back from pixels to z, so ``invert`` searches: Adam on the pixel MSE
between G(z) and the target, plus a small prior term (the mean of z^2 / 2, the negative
log-density of N(0, I) per dimension) that keeps z where the generator was trained instead of
drifting to a far-off z that happens to fit. The loss is non-convex, so several restarts run side
by side as one batch and the best fit per image wins.

The generator is only read: gradients are taken for z alone (``torch.autograd.grad``), so a
generator that the inference thread is using at the same time is safe to invert with, as long as
it is in eval mode (batch norm on running statistics, which also keeps the batch's rows apart).

Qt-free: progress and cancellation are plain callables, as in ``dynamics.iterate``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

STEPS = 300
RESTARTS = 4
LEARNING_RATE = 0.05
PRIOR_WEIGHT = 1e-3
PROGRESS_UPDATES = 50


@dataclass
class Latents:
    """z for each image (B, nz) on the CPU, how well G(z) reproduces it (RMS pixel difference with
    pixels in [0, 1], like ``novelty``), and how it was found ("encoder" or "optimised")."""

    z: torch.Tensor
    error: torch.Tensor  # (B,)
    method: str
    cancelled: bool = False


def has_encoder(model: nn.Module) -> bool:
    return callable(getattr(model, "encode", None))


def find_latents(
    model: nn.Module,
    images: torch.Tensor,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    **invert_options,
) -> Latents:
    """z for ``images`` (B, C, H, W) in [-1, 1]: ``model.encode`` (the posterior mean) when the
    model has an encoder, else ``invert`` with ``invert_options``."""
    if not has_encoder(model):
        return invert(model, images, progress=progress, cancelled=cancelled, **invert_options)
    device = _device_of(model)
    with torch.no_grad():
        targets = images.to(device)
        z = model.encode(targets)
        error = _rms(model(z), targets)
    if progress is not None:
        progress(1, 1)
    return Latents(z=z.cpu(), error=error.cpu(), method="encoder")


def invert(
    generator: nn.Module,
    images: torch.Tensor,
    *,
    steps: int = STEPS,
    restarts: int = RESTARTS,
    lr: float = LEARNING_RATE,
    prior_weight: float = PRIOR_WEIGHT,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Latents:
    """Optimise z so that ``generator(z)`` matches each of ``images`` (B, C, H, W) in [-1, 1].

    ``restarts`` starting points per image, z ~ N(0, I) drawn from ``seed``, are optimised as one
    batch of B * restarts for ``steps`` Adam steps; each image keeps its restart with the lowest
    pixel MSE. ``cancelled()`` is checked before every step; a cancelled run returns the best z
    so far with ``cancelled=True``. ``progress(done, steps)`` is called about PROGRESS_UPDATES
    times. The generator must be in eval mode and have ``nz``.
    """
    if images.ndim != 4:
        raise ValueError(f"images must be (B, C, H, W), got shape {tuple(images.shape)}")
    if steps < 0 or restarts < 1:
        raise ValueError(f"need steps >= 0 and restarts >= 1, got {steps} and {restarts}")
    device = _device_of(generator)
    batch = len(images)
    targets = images.to(device).repeat(restarts, 1, 1, 1)  # restart r of image b is row r * B + b
    start = torch.randn(batch * restarts, generator.nz, generator=torch.Generator().manual_seed(seed))
    z = start.to(device).requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=lr)
    every = max(1, steps // PROGRESS_UPDATES)
    done = 0
    with torch.inference_mode(False), torch.enable_grad():  # callers may run us under no_grad
        while done < steps and not (cancelled is not None and cancelled()):
            per_row = _losses(generator, z, targets, prior_weight)
            (z.grad,) = torch.autograd.grad(per_row.sum(), [z])  # z only: the weights stay untouched
            optimizer.step()
            done += 1
            if progress is not None and (done % every == 0 or done == steps):
                progress(done, steps)
    with torch.no_grad():
        fitted = z.detach()
        error, best = _rms(generator(fitted), targets).reshape(restarts, batch).min(dim=0)
        rows = best * batch + torch.arange(batch, device=device)
    return Latents(z=fitted[rows].cpu(), error=error.cpu(), method="optimised", cancelled=done < steps)


def _losses(generator: nn.Module, z: torch.Tensor, targets: torch.Tensor, prior_weight: float) -> torch.Tensor:
    """Per-row objective: pixel MSE plus the prior term."""
    mse = (generator(z) - targets).square().flatten(1).mean(dim=1)
    return mse + prior_weight * 0.5 * z.square().mean(dim=1)


def _rms(generated: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """RMS pixel difference of [-1, 1] images, in [0, 1] units."""
    return (generated - targets).square().flatten(1).mean(dim=1).sqrt() / 2


def _device_of(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")

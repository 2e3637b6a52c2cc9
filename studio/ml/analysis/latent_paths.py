"""Paths through z-space: linear and spherical interpolation, through any number of keyframes.

A path through keyframes z_0 .. z_{K-1} is parametrised by s in [0, 1], **each segment taking an
equal share**: keyframe k sits at s = k / (K - 1), and within a segment the local parameter runs
linearly. (Arc length would give a constant speed in z, but not in pixels, which is what a viewer
sees; equal shares keep the keyframes on round slider positions, and a path of
``(K - 1) * m + 1`` frames lands on every keyframe exactly.)

``"spherical"`` mode interpolates each segment along the great circle (Shoemake's slerp, as
White 2016 recommends for Gaussian latents: a straight line between two typical z passes through
the low-norm interior, which the prior almost never samples). For endpoints of unequal norm it
still follows the arc of the angle between them, with the norm changing smoothly.

All functions take torch tensors and work row-wise on batches (..., D).
"""

from __future__ import annotations

import torch

MODES = ("linear", "spherical")
PARALLEL_ANGLE = 1e-4  # radians: below this slerp's weights lose precision, and lerp agrees to O(angle^2)


def seed_latent(seed: int, nz: int) -> torch.Tensor:
    """z ~ N(0, I) of length ``nz`` from ``seed``: the same z for the same seed in the panel and the CLI."""
    return torch.randn(nz, generator=torch.Generator().manual_seed(int(seed)))


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """(1 - t) a + t b; ``t`` broadcasts against the leading dimensions of ``a`` and ``b`` (..., D)."""
    return _lerp(a, b, _as_weights(t, a))


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """Spherical interpolation between the rows of ``a`` and ``b`` (..., D).

    The angle between them is taken as 2 atan2(|â - b̂|, |â + b̂|), which stays accurate for
    nearly parallel vectors (arccos of a dot product near 1 does not). Where the angle is below
    PARALLEL_ANGLE, or a vector is zero, this is ``lerp``. Exactly opposite vectors have no
    unique great circle; they are interpolated linearly too (through the origin).
    """
    t = _as_weights(t, a)
    a_norm, b_norm = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)
    a_unit = a / a_norm.clamp_min(torch.finfo(a.dtype).tiny)
    b_unit = b / b_norm.clamp_min(torch.finfo(b.dtype).tiny)
    angle = 2 * torch.atan2((a_unit - b_unit).norm(dim=-1, keepdim=True), (a_unit + b_unit).norm(dim=-1, keepdim=True))
    sin = torch.sin(angle)
    degenerate = (angle < PARALLEL_ANGLE) | (torch.pi - angle < PARALLEL_ANGLE) | (a_norm == 0) | (b_norm == 0)
    safe_sin = torch.where(degenerate, torch.ones_like(sin), sin)
    spherical = (torch.sin((1 - t) * angle) * a + torch.sin(t * angle) * b) / safe_sin
    return torch.where(degenerate, _lerp(a, b, t), spherical)


def path_point(keyframes: torch.Tensor, s: float | torch.Tensor, mode: str = "linear") -> torch.Tensor:
    """The point at ``s`` in [0, 1] on the path through ``keyframes`` (K, D): (D,) for a float
    ``s``, (N, D) for a tensor of N positions. One keyframe is a path that stays put."""
    keyframes = _check_keyframes(keyframes, mode)
    positions = torch.as_tensor(s, dtype=keyframes.dtype, device=keyframes.device)
    if not torch.isfinite(positions).all() or (positions < 0).any() or (positions > 1).any():
        raise ValueError(f"path positions must lie in [0, 1], got {s}")
    flat = positions.reshape(-1)
    segments = len(keyframes) - 1
    if segments == 0:
        points = keyframes[0].expand(len(flat), -1).clone()
    else:
        scaled = flat * segments
        index = scaled.floor().long().clamp(max=segments - 1)  # s = 1 is the end of the last segment
        local = scaled - index
        interpolate = slerp if mode == "spherical" else lerp
        points = interpolate(keyframes[index], keyframes[index + 1], local)
    return points[0] if positions.ndim == 0 else points


def sample_path(keyframes: torch.Tensor, n: int, mode: str = "linear") -> torch.Tensor:
    """``n`` points (n, D) at evenly spaced s from 0 to 1 (the first and last keyframes included)."""
    if n < 1:
        raise ValueError(f"a path needs at least 1 sample, not {n}")
    keyframes = _check_keyframes(keyframes, mode)
    return path_point(keyframes, path_positions(n, keyframes.dtype), mode)


def path_positions(n: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The ``n`` evenly spaced positions sample_path uses (a single sample sits at s = 0)."""
    return torch.linspace(0, 1, n, dtype=dtype) if n > 1 else torch.zeros(1, dtype=dtype)


def _lerp(a: torch.Tensor, b: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """lerp with ``weights`` already shaped (..., 1)."""
    return a + weights * (b - a)


def _as_weights(t: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor:
    """``t`` as a tensor shaped to broadcast over the last (latent) dimension."""
    return torch.as_tensor(t, dtype=like.dtype, device=like.device).unsqueeze(-1)


def _check_keyframes(keyframes: torch.Tensor, mode: str) -> torch.Tensor:
    if mode not in MODES:
        raise ValueError(f"unknown path mode {mode!r} (use one of {', '.join(MODES)})")
    keyframes = torch.as_tensor(keyframes)
    if keyframes.ndim != 2 or len(keyframes) == 0 or keyframes.shape[1] == 0:
        raise ValueError(f"keyframes must be a (K, D) tensor with K >= 1, got shape {tuple(keyframes.shape)}")
    if not keyframes.is_floating_point():
        keyframes = keyframes.float()
    if not torch.isfinite(keyframes).all():
        raise ValueError("keyframes contain NaN or infinite values")
    return keyframes

"""The closed loop z(t+1) = F(z(t)) as a dynamical system: iterate it, and look at the orbits.

For a VAE-GAN, F(z) = mean(E(G(z))): generate an image, encode it, take the encoder's mean (not a
sample, so the map is deterministic). A plain VAE-GAN's loop mostly falls into fixed points; one
trained to predict the next frame can cycle or wander chaotically. This module iterates a batch of
trajectories and gives the views a panel draws (a PCA phase plot, a return map); ``orbits.py``
classifies each trajectory, and its names are re-exported here.

Everything is batched over trajectories: ``map_fn`` takes a (B, D) float64 tensor and returns
(B, D), row b depending on row b only. That per-sample independence is what makes the Lyapunov
estimate exact and cheap: one ``torch.func.jvp`` call per step pushes a separate tangent vector
through each trajectory's own Jacobian, because the batched map's Jacobian is block diagonal. It
holds for networks in eval mode (batch norm using its running statistics, no dropout); a network
in train mode couples the samples of a batch and the estimate would be wrong.

Qt-free: progress and cancellation are plain callables, so a worker thread, the CLI or a test can
drive the loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch.func import jvp

from studio.ml.analysis.orbits import (  # re-exported (__all__): one import for a panel
    APERIODIC,
    CHAOTIC,
    DIVERGED,
    FIXED_POINT,
    KINDS,
    LIMIT_CYCLE,
    FixedPoint,
    Orbit,
    class_counts,
    classify,
    jacobian,
    refine_fixed_point,
)

__all__ = [
    "iterate", "Trajectories", "pca_projection", "Projection", "return_map",
    "classify", "Orbit", "FixedPoint", "refine_fixed_point", "jacobian", "class_counts",
    "FIXED_POINT", "LIMIT_CYCLE", "CHAOTIC", "APERIODIC", "DIVERGED", "KINDS",
]

MapFn = Callable[[torch.Tensor], torch.Tensor]

PROGRESS_UPDATES = 100  # progress() is called about this often per run: smooth, yet cheap
_TINY = torch.finfo(torch.float64).tiny  # log growth of a tangent the map crushes to exactly 0


@dataclass
class Trajectories:
    """A batch of iterated trajectories, float64.

    ``states`` is (steps + 1, B, D): states[0] is the start, states[t + 1] = F(states[t]).
    ``log_growth`` is (steps, B): log |J v| for each trajectory's unit tangent vector v, which is
    renormalised after every step; None when the Lyapunov exponent was not asked for.
    ``cancelled`` is True when the run was stopped before its planned number of steps.
    """

    states: torch.Tensor
    log_growth: torch.Tensor | None = None
    cancelled: bool = False

    @property
    def steps(self) -> int:
        return self.states.shape[0] - 1

    def default_tail(self) -> int:
        """The second half of the run: the first half is burn-in, long enough for the orbit to
        reach its attractor and for the tangent vector to turn into the most expanding
        direction."""
        return max(1, self.steps // 2)

    def lyapunov(self, tail: int | None = None) -> torch.Tensor:
        """Largest Lyapunov exponent per trajectory (B,), per step: the mean log growth over the
        last ``tail`` steps, on the CPU. NaN everywhere when the run did not track tangents."""
        if tail is not None and tail < 1:
            raise ValueError(f"the Lyapunov tail must be at least 1 step, not {tail}")
        batch = self.states.shape[1]
        if self.log_growth is None or self.steps == 0:
            return torch.full((batch,), math.nan, dtype=torch.float64)
        tail = self.default_tail() if tail is None else tail
        return self.log_growth[-tail:].mean(dim=0).cpu()


def iterate(
    map_fn: MapFn,
    z0: torch.Tensor,
    steps: int,
    *,
    lyapunov: bool = True,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    seed: int = 0,
) -> Trajectories:
    """Iterate ``map_fn`` from each row of ``z0`` (B, D) for ``steps`` steps, in float64.

    With ``lyapunov``, each step is one ``torch.func.jvp`` call instead of a plain forward pass,
    giving F(z) and J v together (for a small conv VAE-GAN on CPU it costs ~3 plain passes); the
    first JVP in a process also pays a one-time ~2 s set-up inside torch. v starts as a random
    unit vector per trajectory (from ``seed``) and is renormalised each step, so log |J v| never
    overflows. The module docstring says why the batched JVP is exact: ``map_fn`` must not couple
    the rows of a batch.

    ``progress(done, total)`` is called about every ``steps / PROGRESS_UPDATES`` steps and at the
    end; ``cancelled()`` is checked before every step, and when it returns True the states
    computed so far come back with ``cancelled=True``. The states stay on ``z0``'s device.
    Works under ``torch.no_grad()`` and ``torch.inference_mode()`` (forward-mode AD ignores both).
    """
    z = z0.detach().to(torch.float64)
    if z.ndim != 2:
        raise ValueError(f"z0 must be (batch, latent_dim), not {tuple(z0.shape)}")
    states = z.new_empty((steps + 1, *z.shape))
    states[0] = z
    growth = z.new_empty((steps, z.shape[0])) if lyapunov else None
    tangent = _random_unit_vectors(z, seed) if lyapunov else None
    every = max(1, steps // PROGRESS_UPDATES)
    done = 0
    with torch.no_grad():  # no autograd graph: forward-mode AD does not need one
        while done < steps and not (cancelled is not None and cancelled()):
            if tangent is None:
                z = map_fn(z)
            else:
                z, pushed = jvp(map_fn, (z,), (tangent,))
                growth[done], tangent = _renormalise(pushed, tangent)
            if done == 0:
                _check_output(z, states[0])
            done += 1
            states[done] = z
            if progress is not None and (done % every == 0 or done == steps):
                progress(done, steps)
    return Trajectories(
        states=states[: done + 1],
        log_growth=None if growth is None else growth[:done],
        cancelled=done < steps,
    )


def _random_unit_vectors(z: torch.Tensor, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    v = torch.randn(z.shape, generator=generator, dtype=torch.float64).to(z.device)
    return v / v.norm(dim=1, keepdim=True)


def _renormalise(pushed: torch.Tensor, previous: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(log |J v|, J v / |J v|) per row. A tangent crushed to 0 (or made non-finite) keeps its
    previous direction, so one degenerate step does not poison the rest of the estimate."""
    norm = pushed.norm(dim=1)
    usable = ((norm > 0) & torch.isfinite(norm)).unsqueeze(1)
    unit = torch.where(usable, pushed / norm.unsqueeze(1), previous)
    return norm.clamp_min(_TINY).log(), unit


def _check_output(out: torch.Tensor, z: torch.Tensor) -> None:
    if out.shape != z.shape or out.dtype != torch.float64:
        raise ValueError(
            f"map_fn must return a float64 tensor shaped like its input {tuple(z.shape)}, got "
            f"{out.dtype} {tuple(out.shape)} (are the models in float64, e.g. .double()?)"
        )


@dataclass(frozen=True)
class Projection:
    """A linear projection fitted by PCA; call it on arrays (..., D) to get (..., k)."""

    mean: np.ndarray  # (D,)
    components: np.ndarray  # (k, D), orthonormal rows, largest variance first
    explained_variance_ratio: np.ndarray  # (k,)

    def __call__(self, points: np.ndarray | torch.Tensor) -> np.ndarray:
        return (_as_numpy(points) - self.mean) @ self.components.T


def pca_projection(states: np.ndarray | torch.Tensor, n_components: int = 2) -> Projection:
    """PCA fitted on every finite visited state of ``states`` (..., D), e.g. Trajectories.states,
    so all trajectories land in one shared plane. Keeps min(n_components, D) components; the sign
    of each is fixed (largest loading positive), so refitting similar data does not mirror the plot.
    """
    points = _as_numpy(states).reshape(-1, np.shape(states)[-1])
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) == 0:
        raise ValueError("no finite states to fit a projection on")
    mean = points.mean(axis=0)
    covariance = np.atleast_2d(np.cov(points, rowvar=False, bias=True))
    variances, vectors = np.linalg.eigh(covariance)
    order = np.argsort(variances)[::-1][: min(n_components, len(mean))]
    components = vectors[:, order].T
    largest = components[np.arange(len(order)), np.abs(components).argmax(axis=1)]
    components *= np.sign(largest)[:, None]
    total = variances.clip(min=0).sum()
    ratio = variances[order].clip(min=0) / total if total > 0 else np.zeros(len(order))
    return Projection(mean=mean, components=components, explained_variance_ratio=ratio)


def return_map(
    trajectories: Trajectories,
    coordinate: int,
    *,
    projection: Projection | None = None,
    start: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(x_t, x_t+1) pairs of one coordinate, each (steps - start, B), for a return-map plot.

    ``coordinate`` indexes the latent vector, or the projection's components when one is given
    (a return map of the first principal component). ``start`` drops the transient.
    """
    states = trajectories.states[start:]
    values = projection(states) if projection is not None else _as_numpy(states)
    x = values[..., coordinate]
    return x[:-1], x[1:]


def _as_numpy(array: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(array, torch.Tensor):
        return array.detach().cpu().to(torch.float64).numpy()
    return np.asarray(array, dtype=np.float64)

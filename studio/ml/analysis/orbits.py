"""What each trajectory of a latent map z(t+1) = F(z(t)) settles into, Qt-free.

Per trajectory, in this order: non-finite -> diverged; a convergence test on the last steps ->
fixed point (refined by a root finder, with its stability); a recurrence test -> limit cycle with
its smallest period; a positive largest Lyapunov exponent -> chaotic; otherwise aperiodic
(quasi-periodic, a cycle longer than ``max_period``, or not yet settled: iterate longer).

Tolerances are relative, never absolute, because latents may have norms from ~1 to ~10: the
convergence test compares with the spread of the whole batch of visited states (a fixed point's
own orbit has no size), the recurrence test with the size of the trajectory's own recent orbit.
The iteration itself lives in ``dynamics.py``, which re-exports these names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
import torch
from torch.func import jvp

if TYPE_CHECKING:
    from studio.ml.analysis.dynamics import Trajectories

FIXED_POINT = "fixed point"
LIMIT_CYCLE = "limit cycle"
CHAOTIC = "chaotic"
APERIODIC = "aperiodic"
DIVERGED = "diverged"  # a state became inf or NaN
KINDS = (FIXED_POINT, LIMIT_CYCLE, CHAOTIC, APERIODIC, DIVERGED)

# Convergence: a trajectory is at a fixed point when the distance still to go, extrapolated from the
# geometric shrinking of its last SETTLE_WINDOW steps (step * rate / (1 - rate)), is below
# FIXED_POINT_TOL of the batch's spread: far below what a phase plot can show, while a slowly
# contracting loop (rate 0.95 over 200 steps) still counts; the root finder makes the point exact.
FIXED_POINT_TOL = 1e-4
SETTLE_WINDOW = 8
# ... or when its steps are at float64 round-off of its own size: such steps no longer shrink, so
# the extrapolation above cannot see them. A network in float64 keeps ~1e-13; 1e-9 leaves room.
PRECISION = 1e-9
# Recurrence: period p when every one of the last max_period states is within PERIOD_TOL of the
# orbit's size of the state p steps earlier. Looser than FIXED_POINT_TOL because cycles approach
# their attractor no faster than fixed points, yet tight enough that an irrational rotation does
# not pass (a golden-angle rotation's closest return within 32 steps is ~0.13 of the orbit).
PERIOD_TOL = 1e-3
DEFAULT_MAX_PERIOD = 32
# Chaos: the LLE of a quasi-periodic orbit is 0, but its finite-time estimate over a 100-step
# tail fluctuates by O(1/100); 0.02 per step stays above that noise (ln 2 = 0.69 for the logistic
# map at r = 4). An attracting cycle or fixed point has a negative LLE.
CHAOS_LLE = 0.02
# Settled trajectories whose last states lie this close (relative to the spread) share one root
# finding: two trajectories at one fixed point end within ~2 * FIXED_POINT_TOL of each other.
MERGE_TOL = 1e-3

MapFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class FixedPoint:
    """A root of F(z) = z with the spectral radius of dF/dz there (stable when < 1)."""

    point: np.ndarray  # (D,)
    spectral_radius: float
    residual: float  # |F(point) - point|
    converged: bool  # the root finder's verdict; otherwise ``point`` is the best state seen

    @property
    def stable(self) -> bool:
        return self.spectral_radius < 1.0


@dataclass(frozen=True)
class Orbit:
    """One trajectory's verdict. ``period`` is 1 for fixed points, p for limit cycles, else None;
    ``lyapunov`` is the largest Lyapunov exponent per step (NaN if not tracked); ``fixed_point``
    is set for fixed points when classify() was given the map."""

    kind: str
    period: int | None = None
    lyapunov: float = float("nan")
    fixed_point: FixedPoint | None = None


def classify(
    trajectories: Trajectories,
    map_fn: MapFn | None = None,
    *,
    tail: int | None = None,
    max_period: int = DEFAULT_MAX_PERIOD,
    precision: float = PRECISION,
) -> list[Orbit]:
    """One Orbit per trajectory. ``map_fn`` (the map that was iterated) is needed only to refine
    fixed points; ``tail`` is the number of final steps averaged for the LLE (default: half the
    run); periods up to min(max_period, steps // 2) are found. ``precision`` is the relative
    round-off floor of the iteration (PRECISION: float64; a float32 run needs a larger one).
    Needs at least 2 steps."""
    if trajectories.steps < 2:
        raise ValueError("classifying needs trajectories of at least 2 steps")
    states = trajectories.states.detach().to("cpu", torch.float64)
    finite = torch.isfinite(states).all(dim=2).all(dim=0)
    scale = _spread(states[:, finite])
    settled = _settled(states, scale, precision) & finite
    periods = _smallest_periods(states, max_period)
    lle = trajectories.lyapunov(tail).tolist()
    fixed_points = {}
    if map_fn is not None:
        ends = trajectories.states[-1].detach()
        settled_indices = torch.nonzero(settled).flatten().tolist()
        fixed_points = _refine_settled(map_fn, ends, settled_indices, scale)

    def verdict(b: int) -> Orbit:
        if not finite[b]:
            return Orbit(DIVERGED, lyapunov=lle[b])
        if settled[b]:
            return Orbit(FIXED_POINT, 1, lle[b], fixed_points.get(b))
        if periods[b] > 0:
            return Orbit(LIMIT_CYCLE, int(periods[b]), lle[b])
        return Orbit(CHAOTIC if lle[b] > CHAOS_LLE else APERIODIC, lyapunov=lle[b])

    return [verdict(b) for b in range(states.shape[1])]


def class_counts(orbits: list[Orbit]) -> dict[str, int]:
    """How many orbits of each kind, every kind listed (in KINDS order), zeros included."""
    counts = Counter(orbit.kind for orbit in orbits)
    return {kind: counts[kind] for kind in KINDS}


def _spread(states: torch.Tensor) -> float:
    """RMS distance of visited states (T, B, D) from their mean: the size of the cloud a phase
    plot shows, the scale for "this trajectory no longer moves"."""
    points = states.reshape(-1, states.shape[-1])
    if len(points) == 0:
        return 0.0
    return float((points - points.mean(dim=0)).pow(2).sum(dim=1).mean().sqrt())


def _settled(states: torch.Tensor, scale: float, precision: float = PRECISION) -> torch.Tensor:
    """(B,) bool: the convergence test described at FIXED_POINT_TOL and PRECISION."""
    k = min(SETTLE_WINDOW, len(states) - 2)
    recent = states[-(k + 2) :]
    step = (recent[1:] - recent[:-1]).norm(dim=-1)  # (k + 1, B)
    at_precision = step.amax(dim=0) <= precision * (scale + recent[-1].norm(dim=-1))
    rate = (step[-1] / step[0]) ** (1.0 / k)  # NaN or inf when a step is 0: then not shrinking
    remaining = step[-1] * rate / (1.0 - rate)  # sum of the geometric series still to come
    return at_precision | ((rate < 1.0) & (remaining <= FIXED_POINT_TOL * scale))


def _smallest_periods(states: torch.Tensor, max_period: int) -> torch.Tensor:
    """(B,) smallest period p in 2..max_period that passes the recurrence test, 0 where none.
    (Period 1 is the fixed point test's business.)"""
    max_period = min(max_period, len(states) // 2)
    recent = states[-2 * max_period :]
    size = (recent - recent.mean(dim=0)).pow(2).sum(dim=-1).mean(dim=0).sqrt()  # (B,)
    last = recent[max_period:]
    periods = torch.zeros(states.shape[1], dtype=torch.long)
    for p in range(max_period, 1, -1):  # downwards, so the smallest passing period wins
        gap = (last - recent[max_period - p : 2 * max_period - p]).norm(dim=-1).amax(dim=0)
        periods[gap <= PERIOD_TOL * size] = p
    return periods


def _refine_settled(
    map_fn: MapFn, ends: torch.Tensor, indices: list[int], scale: float
) -> dict[int, FixedPoint]:
    """Refine each distinct end point once: a VAE-GAN's hundreds of trajectories usually share a
    handful of attractors, and each root finding costs a few Jacobians."""
    found: list[tuple[torch.Tensor, FixedPoint]] = []
    result = {}
    for b in indices:
        near = next((fp for end, fp in found if (ends[b] - end).norm() <= MERGE_TOL * scale), None)
        if near is None:
            near = refine_fixed_point(map_fn, ends[b])
            found.append((ends[b], near))
        result[b] = near
    return result


def refine_fixed_point(map_fn: MapFn, z: torch.Tensor) -> FixedPoint:
    """Solve F(z) = z from ``z`` (D,), then the spectral radius of dF/dz at the root.

    scipy.optimize.root's "hybr" (MINPACK's hybrid Powell method) rather than a hand-written
    Newton: its dogleg steps inside a trust region are Newton steps near the root (superlinear
    convergence from a nearly settled state) yet cannot run far from a rougher start, and its
    rank-one Broyden updates need few Jacobians, each one batched JVP (jacobian()). If it fails,
    the better of the start and its end point is kept.
    """
    import scipy.optimize  # here, not at the top: scipy.optimize adds ~1 s to the studio's start

    eye = np.eye(z.shape[-1])

    def step(x: np.ndarray) -> np.ndarray:
        return _apply(map_fn, x, z) - x

    def step_jacobian(x: np.ndarray) -> np.ndarray:
        return jacobian(map_fn, _tensor(x, z)).cpu().numpy() - eye

    def residual(x: np.ndarray) -> float:
        norm = float(np.linalg.norm(step(x)))
        return norm if np.isfinite(norm) else np.inf

    start = z.detach().cpu().numpy().astype(np.float64)
    solution = scipy.optimize.root(step, start, jac=step_jacobian, method="hybr")
    point = min((solution.x, start), key=residual)
    spectrum = np.linalg.eigvals(jacobian(map_fn, _tensor(point, z)).cpu().numpy())
    return FixedPoint(point, float(np.abs(spectrum).max()), residual(point), bool(solution.success))


def jacobian(map_fn: MapFn, z: torch.Tensor) -> torch.Tensor:
    """dF/dz (D, D) at one point z (D,), in one batched JVP: z repeated D times, pushed along the
    D unit vectors, so row i of the output is the column J e_i. Exact for a per-sample map."""
    d = z.shape[-1]
    batch = z.detach().to(torch.float64).reshape(1, d).repeat(d, 1)
    with torch.no_grad():
        unit_vectors = torch.eye(d, dtype=torch.float64, device=z.device)
        _, columns = jvp(map_fn, (batch,), (unit_vectors,))
    return columns.T


def _tensor(x: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(x, dtype=torch.float64, device=like.device)


def _apply(map_fn: MapFn, x: np.ndarray, like: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return map_fn(_tensor(x, like).reshape(1, -1))[0].cpu().numpy()

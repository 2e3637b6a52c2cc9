"""A closed-loop run of a VAE-GAN, z(t+1) = Enc(Gen(z(t))): start points in, orbits and views out.

Qt-free, shared by the "Closed loop" panel (as a job) and ``latent-studio closed-loop``. The run
never touches the model it is given (a published module is shared with the inference thread): it
works on deep copies in eval mode, float64 for the analysis and float32 for the states of the
"fast" method and for the pictures.

Two methods (``ClosedLoopSettings.method``):

- ``"exact"``: what ``dynamics.py`` was built for: all T steps in float64, each a JVP, so every
  trajectory gets its largest Lyapunov exponent (LLE) from the second half of the run.
- ``"fast"`` (the default): (1) all T steps in float32 (channels-last, the layout oneDNN's CPU
  convolutions prefer: 2-3x faster here) without a tangent: the states the phase plot, return map
  and filmstrip show. Rows that have settled leave the batch (``Freezer``: a plain VAE-GAN's
  trajectories mostly settle within tens of steps). (2) ``orbits.classify`` on those states, with
  the convergence test's round-off floor raised to float32's (``FLOAT32_PRECISION``), and the
  root finding and spectral radius of each distinct fixed point in float64 as in the exact
  method. (3) The JVP only where the verdict depends on it: trajectories that are neither fixed
  points nor cycles run ``lyapunov_steps`` more float32 JVP steps from their end; their LLE is the
  mean over all but the first ``LYAPUNOV_WARMUP`` (the tangent's alignment), and chaotic or
  aperiodic follows from it as in ``orbits``. A fixed point's LLE is log of its spectral radius
  (exact, from the refined Jacobian); a cycle's is NaN ("not computed"): it would cost the JVP on
  every cycling trajectory and decides nothing.

Why: ``benchmarks/closed_loop.py``, 256 trajectories x 200 steps of a 32x32 VAE-GAN (nz 16,
widths 8) on this project's 2-core CPU, one torch thread (two threads ran several times slower
here whenever anything else was running). One batched step costs 34 ms in float32, 111 ms with a
float32 JVP, 326 ms in float64 and 1145 ms in float64 with the JVP (no oneDNN kernels for
float64). So the exact method needs ~230 s for the run, over 100x the 2 s target, and even a
dense float32 run needs 6.8 s (~0.6 GFLOP per step for the batch at ~18 GFLOP/s: a second core
would at best halve it). The fast method took 0.65 s on untrained weights (they collapse at once:
6% of the row-steps computed), 2.7 s on a predictive model trained 300 steps on the walk (24%)
and 5.5 s on a plain one (31%, plus 2.4 s of JVP for its 32 aperiodic trajectories); on 64
trajectories of that plain model the fast and exact methods gave the same verdict for every one
(4 fixed points with the same spectral radii, a cycle of period 27, 9 aperiodic). So the target
is met where most trajectories settle early; where none settles it is missed by ~3.4x (6.8 s),
and by more where many are aperiodic or chaotic (their JVP adds up to ~11 s for all 256). A
process's first JVP also pays ~2 s of one-time set-up inside torch.
Float32 states are as good for the pictures: any finite-precision orbit of a chaotic map leaves
the true one within a few dozen steps, in float64 only somewhat later; what float32 changes is
the floor below which a converged orbit no longer moves, hence the raised convergence floor.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn

from studio.ml.analysis.dynamics import (
    APERIODIC,
    CHAOTIC,
    DIVERGED,
    FIXED_POINT,
    LIMIT_CYCLE,
    FixedPoint,
    Orbit,
    Projection,
    Trajectories,
    class_counts,
    classify,
    iterate,
    pca_projection,
)
from studio.ml.analysis.orbits import CHAOS_LLE, DEFAULT_MAX_PERIOD, PRECISION, SETTLE_WINDOW
from studio.ml.data.base import ImageDataset, to_signed_float, to_uint8
from studio.ml.data.image_file import load_image_file

METHODS = ("fast", "exact")
SOURCES = ("random", "dataset", "images")
LYAPUNOV_WARMUP = 20  # JVP steps of the fast method's LLE run not averaged: the tangent turns first
# Relative round-off floor of a float32 loop (orbits.PRECISION is float64's): converged float32
# orbits of trained VAE-GANs kept moving by up to 4e-7 of their norm per step (measured); 25x margin.
FLOAT32_PRECISION = 1e-5
QUIET_STEPS = SETTLE_WINDOW + 2  # as many as orbits' convergence test looks at
# One colour per orbit class, shared by the panel and the CLI's figures so they read alike.
KIND_COLOURS = {
    FIXED_POINT: "#2b8cbe",
    LIMIT_CYCLE: "#31a354",
    CHAOTIC: "#e6550d",
    APERIODIC: "#756bb1",
    DIVERGED: "#636363",
}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ClosedLoopSettings:
    """How to iterate and classify; see the module docstring for the two methods."""

    steps: int = 200
    method: str = "fast"
    lyapunov_steps: int = 100  # fast: JVP steps for the trajectories whose class needs the LLE
    freeze_settled: bool = True  # fast: stop computing trajectories that no longer move (see Freezer)
    max_period: int = DEFAULT_MAX_PERIOD
    seed: int = 0  # of the random tangent vectors

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")
        if self.steps < 2:
            raise ValueError(f"a closed loop needs at least 2 steps, not {self.steps}")
        if self.lyapunov_steps <= LYAPUNOV_WARMUP:
            raise ValueError(f"lyapunov_steps must be more than {LYAPUNOV_WARMUP}, not {self.lyapunov_steps}")

    def total_work(self) -> int:
        """Progress units of a whole run: one per step of every phase."""
        return self.steps + (self.lyapunov_steps if self.method == "fast" else 0)


# -- start points --------------------------------------------------------------------------------
@dataclass
class StartPoints:
    """Where the trajectories start: latents (``z``), images the run encodes (posterior mean), or
    image files read at the size and channels the model draws."""

    source: str  # one of SOURCES
    labels: list[str]  # one per trajectory: "z 3", "walk #120", "cat.png"
    z: torch.Tensor | None = None  # (B, nz)
    images: torch.Tensor | None = None  # uint8 (B, C, H, W)
    paths: list[Path] = field(default_factory=list)
    seed: int | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def latents(self, model: nn.Module) -> torch.Tensor:
        """(B, nz) in ``model``'s dtype and device; images are encoded by ``model``."""
        parameter = next(model.parameters())
        if self.z is not None:
            return self.z.to(parameter.device, parameter.dtype)
        images = self.images
        if images is None:
            channels, size = image_format(model)
            images = torch.stack([load_image_file(path, size, channels) for path in self.paths])
        with torch.no_grad():
            return model.encode(to_signed_float(images).to(parameter.device, parameter.dtype))


def random_starts(count: int, nz: int, seed: int = 0) -> StartPoints:
    """``count`` draws from the prior N(0, I)."""
    z = torch.randn(count, nz, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return StartPoints("random", [f"z {i}" for i in range(count)], z=z, seed=seed)


def dataset_starts(dataset: ImageDataset, count: int, seed: int = 0) -> StartPoints:
    """``count`` images of ``dataset`` (all of them if it has fewer), drawn without replacement
    and kept in dataset order, so the frames of an ordered set stay in route order."""
    generator = torch.Generator().manual_seed(seed)
    index = torch.randperm(len(dataset), generator=generator)[: min(count, len(dataset))].sort().values
    labels = [f"{dataset.name} #{i}" for i in index.tolist()]
    return StartPoints("dataset", labels, images=dataset.images[index], seed=seed)


def image_starts(paths: list[Path]) -> StartPoints:
    """Image files as start points; the run reads them at the model's size and channels, as the
    folder dataset reads its images (``load_image_file``: an unreadable one raises, named)."""
    paths = [Path(p) for p in paths]
    return StartPoints("images", [p.name for p in paths], paths=paths)


def image_format(model: nn.Module) -> tuple[int, int]:
    """(channels, size) of the images ``model`` draws, from one generated image."""
    parameter = next(model.parameters())
    with torch.no_grad():
        image = model(torch.zeros(1, model.nz, device=parameter.device, dtype=parameter.dtype))
    return image.shape[1], image.shape[-1]


# -- the result ----------------------------------------------------------------------------------
@dataclass
class ClosedLoopResult:
    """Trajectories, verdicts and the views of one run. ``states`` (steps + 1, B, D) are those
    of the main run (what the plots show); ``steps`` < settings.steps when it was cancelled;
    ``orbits`` is empty when it was cancelled before 2 steps."""

    settings: ClosedLoopSettings
    starts: StartPoints
    states: np.ndarray
    orbits: list[Orbit]
    projection: Projection  # PCA of all visited states, every component
    cancelled: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    renderer: nn.Module | None = field(default=None, repr=False)  # float32 copy: draws Gen(z)

    @property
    def steps(self) -> int:
        return self.states.shape[0] - 1

    @property
    def counts(self) -> dict[str, int]:
        return class_counts(self.orbits)

    def projected(self, components: int = 2) -> np.ndarray:
        """(steps + 1, B, components): the states in the PCA plane."""
        return self.projection(self.states)[..., :components]

    def coordinate(self, index: int, space: str = "pca") -> np.ndarray:
        """(steps + 1, B): principal component ``index`` ("pca") or latent ``index`` ("latent")."""
        values = self.projection(self.states) if space == "pca" else self.states
        return values[..., index]

    def return_map(self, index: int, space: str = "pca") -> tuple[np.ndarray, np.ndarray]:
        """(x_t, x_t+1), each (steps, B), of one coordinate (see ``coordinate``)."""
        x = self.coordinate(index, space)
        return x[:-1], x[1:]

    def fixed_points(self) -> list[tuple[FixedPoint, list[int]]]:
        """Each distinct refined fixed point with the trajectories that end on it."""
        found: dict[int, tuple[FixedPoint, list[int]]] = {}
        for b, orbit in enumerate(self.orbits):
            if orbit.fixed_point is not None:
                found.setdefault(id(orbit.fixed_point), (orbit.fixed_point, []))[1].append(b)
        return list(found.values())

    def images(self, trajectory: int, steps: list[int]) -> torch.Tensor:
        """uint8 (len(steps), C, H, W): Gen(z(t)) along one trajectory, with the run's own copy of
        the weights (a newer snapshot of the published model would not match the states)."""
        parameter = next(self.renderer.parameters())
        z = torch.as_tensor(self.states[steps, trajectory], dtype=parameter.dtype, device=parameter.device)
        with torch.no_grad():
            return to_uint8(self.renderer(z)).cpu()

    def periods(self) -> dict[str, int]:
        """How many limit cycles of each period, by period (as strings: JSON keys), shortest first."""
        found = Counter(orbit.period for orbit in self.orbits if orbit.kind == LIMIT_CYCLE)
        return {str(period): found[period] for period in sorted(found)}

    def summary(self, model: dict | None = None) -> dict:
        """Everything worth keeping, JSON-serialisable (NaN and infinity become null)."""
        fixed = self.fixed_points()
        which = {id(fp): i for i, (fp, _) in enumerate(fixed)}
        return {
            "model": model or {},
            "settings": asdict(self.settings) | {"starts": self.starts.source, "count": len(self.starts),
                                                 "start_seed": self.starts.seed},
            "steps_done": self.steps,
            "cancelled": self.cancelled,
            "counts": self.counts,
            "periods": self.periods(),
            "fixed_points": [
                {"index": i, "trajectories": members, "spectral_radius": _finite_or_none(fp.spectral_radius),
                 "stable": fp.stable, "residual": _finite_or_none(fp.residual), "converged": fp.converged,
                 "point": fp.point.tolist()}
                for i, (fp, members) in enumerate(fixed)
            ],
            "trajectories": [
                {"index": b, "start": self.starts.labels[b], "kind": orbit.kind, "period": orbit.period,
                 "lyapunov": _finite_or_none(orbit.lyapunov),
                 "fixed_point": which.get(id(orbit.fixed_point)) if orbit.fixed_point else None}
                for b, orbit in enumerate(self.orbits)
            ],
            "pca_explained_variance": self.projection.explained_variance_ratio[:2].tolist(),
            "timings": self.timings,
        }


def filmstrip_steps(orbit: Orbit | None, steps: int, frames: int = 12) -> list[int]:
    """Which steps a filmstrip of one trajectory shows. On a cycle, chaos or an aperiodic orbit,
    the last consecutive steps, ``frames`` of them or two turns of a longer cycle (up to four
    times ``frames``): the motion on the attractor. Elsewhere (fixed point, diverged) ``frames``
    steps spaced geometrically from 0 to the end: the approach, fast at first, then the rest."""
    frames = max(2, min(frames, steps + 1))
    if orbit is not None and orbit.kind in (LIMIT_CYCLE, CHAOTIC, APERIODIC):
        shown = min(max(frames, 2 * (orbit.period or 0)), 4 * frames, steps + 1)
        return list(range(steps + 1 - shown, steps + 1))
    picks = set((np.rint(np.geomspace(1, steps + 1, frames)).astype(int) - 1).tolist())
    early = 0
    while len(picks) < frames:  # the geometric ladder repeats its first rungs: show every early step
        picks.add(early)
        early += 1
    return sorted(picks)

def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


# -- the run -------------------------------------------------------------------------------------
def run_closed_loop(
    model: nn.Module,
    starts: StartPoints,
    settings: ClosedLoopSettings = ClosedLoopSettings(),
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ClosedLoopResult:
    """Iterate ``model.loop`` from ``starts`` and classify every trajectory (module docstring).

    ``model`` needs ``loop``, ``encode``, ``nz`` and draws images when called; it is only read.
    ``progress(done, total)`` counts steps of all phases; when ``cancelled()`` turns true the run
    stops at its next step and returns what it has, classified when it made at least 2 steps.
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with _timed(timings, "copy"):
        model64 = _private_copy(model, torch.float64)
        renderer = _private_copy(model, torch.float32).to(memory_format=torch.channels_last)
        z0 = starts.latents(model64)
    map32 = _float32_map(renderer)
    exact = settings.method == "exact"
    total = settings.total_work()
    freezer = Freezer(map32, len(z0)) if settings.freeze_settled and not exact else None
    with _timed(timings, "iterate"):
        main = iterate(model64.loop if exact else freezer or map32, z0, settings.steps, lyapunov=exact,
                       progress=_shifted(progress, 0, total), cancelled=cancelled, seed=settings.seed)
    if freezer is not None:
        timings["computed_fraction"] = freezer.computed / max(main.steps * len(z0), 1)
    timings["per_step_ms"] = 1000 * timings["iterate"] / max(main.steps, 1)
    was_cancelled = main.cancelled
    orbits: list[Orbit] = []
    if main.steps >= 2:
        with _timed(timings, "classify"):
            precision = PRECISION if exact else FLOAT32_PRECISION
            orbits = classify(main, model64.loop, max_period=settings.max_period, precision=precision)
        if not exact and not was_cancelled:
            was_cancelled = _lyapunov_where_needed(orbits, main, map32, settings, timings, progress, cancelled)
    orbits = [_fixed_point_lyapunov(orbit) for orbit in orbits]
    if progress is not None and not was_cancelled:
        progress(total, total)
    states = main.states.cpu().numpy()
    timings["total"] = time.perf_counter() - started
    return ClosedLoopResult(settings, starts, states, orbits, pca_projection(states, states.shape[-1]),
                            cancelled=was_cancelled, timings=timings, renderer=renderer)


def _float32_map(renderer: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """The loop of the float32 copy, taking and giving float64 (``iterate`` keeps float64 states);
    the casts are differentiable, so a JVP through it runs in float32 too."""
    device = next(renderer.parameters()).device

    def loop(z: torch.Tensor) -> torch.Tensor:
        return renderer.loop(z.to(device, torch.float32)).to(z.device, torch.float64)

    return loop


class Freezer:
    """A batched map that stops computing the rows that have settled (fast method, no tangent).

    A row whose step stayed within ``FLOAT32_PRECISION`` of its own norm for ``QUIET_STEPS`` steps
    in a row is at float32's round-off floor of a fixed point: from then on it is returned as it
    is. Its later steps are exactly 0 where the network would have moved it by round-off, so
    ``classify`` (whose floor is at least as large, and looks at fewer steps) calls it a fixed
    point either way. A plain VAE-GAN's trajectories mostly settle within tens of steps, so most
    of a 200-step run is not computed; cycles and chaos never settle and cost the full price.
    One risk, named: an orbit creeping away from an unstable fixed point by less than the floor
    for QUIET_STEPS steps is frozen there; its refined fixed point then reports the instability.
    """

    def __init__(self, map_fn: Callable[[torch.Tensor], torch.Tensor], batch: int):
        self.map_fn = map_fn
        self.quiet = torch.zeros(batch, dtype=torch.long)  # consecutive quiet steps per row
        self.computed = 0  # rows x steps actually computed

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        moving = (self.quiet < QUIET_STEPS).to(z.device)
        out = z.clone()
        if moving.any():
            out[moving] = self.map_fn(z[moving])
            self.computed += int(moving.sum())
        step = (out - z).norm(dim=1)
        still = (step <= FLOAT32_PRECISION * out.norm(dim=1)).cpu()
        self.quiet = torch.where(still, self.quiet + 1, torch.zeros_like(self.quiet))
        return out


def _lyapunov_where_needed(
    orbits: list[Orbit],
    main: Trajectories,
    map32: Callable[[torch.Tensor], torch.Tensor],
    settings: ClosedLoopSettings,
    timings: dict[str, float],
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
) -> bool:
    """Step (3) of the fast method, in place: chaotic or aperiodic, by the LLE of the trajectories
    that are neither fixed points nor cycles. Returns whether a cancel cut it short."""
    undecided = [b for b, orbit in enumerate(orbits) if orbit.kind == APERIODIC]
    timings["lyapunov_trajectories"] = len(undecided)
    if not undecided:
        return False
    with _timed(timings, "lyapunov"):
        run = iterate(map32, main.states[-1, undecided], settings.lyapunov_steps, lyapunov=True,
                      progress=_shifted(progress, settings.steps, settings.total_work()),
                      cancelled=cancelled, seed=settings.seed)
    if run.steps > LYAPUNOV_WARMUP:
        for b, lle in zip(undecided, run.lyapunov(run.steps - LYAPUNOV_WARMUP).tolist()):
            orbits[b] = replace(orbits[b], kind=CHAOTIC if lle > CHAOS_LLE else APERIODIC, lyapunov=lle)
    return run.cancelled


def _fixed_point_lyapunov(orbit: Orbit) -> Orbit:
    """At a fixed point the LLE is exactly log of the Jacobian's spectral radius: use it where the
    run did not estimate one (the fast method)."""
    fp = orbit.fixed_point
    if fp is None or math.isfinite(orbit.lyapunov) or fp.spectral_radius <= 0:
        return orbit
    return replace(orbit, lyapunov=math.log(fp.spectral_radius))


def _private_copy(model: nn.Module, dtype: torch.dtype) -> nn.Module:
    """A deep copy in eval mode: the run may cast and call it freely. MPS has no float64."""
    copied = copy.deepcopy(model).eval().requires_grad_(False)
    device = next(model.parameters()).device
    if dtype == torch.float64 and device.type == "mps":
        copied = copied.to("cpu")
    return copied.to(dtype)


def _shifted(progress: Progress | None, offset: int, total: int) -> Progress | None:
    """One phase's progress(done, phase_total) as progress(offset + done, total) of the whole run."""
    if progress is None:
        return None
    return lambda done, _phase_total: progress(offset + done, total)


@contextlib.contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start

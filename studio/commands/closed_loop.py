"""``latent-studio closed-loop CHECKPOINT --out DIR``: the Closed loop panel's run, without a window.

Writes to DIR:
  summary.json    counts per class, periods, fixed points (spectral radius), per-trajectory kind,
                  period and LLE, settings, model and timings (``ClosedLoopResult.summary``)
  phase.png       trajectories in the PCA plane of the visited states, coloured by class
  returnmap.png   a coordinate (--coordinate: pc1.. or z0..) at t against t + 1
  filmstrip.png   Gen(z(t)) along the first trajectory of each class found

The figures are drawn with PIL (``studio.ml.analysis.figures``): matplotlib is no dependency, and
pyqtgraph would need Qt, which this command must run without. Colours are the panel's
(``KIND_COLOURS``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

FRAME_SCALE = 2  # filmstrip frames are enlarged by this whole factor


def add_parser(commands) -> None:
    p = commands.add_parser(
        "closed-loop", help="iterate a VAE-GAN's closed loop z -> Enc(Gen(z)) and classify the orbits",
        description=__doc__.split("\n\n")[0].replace("``", ""),
    )
    p.add_argument("checkpoint", type=Path, help="a VAE-GAN checkpoint (.safetensors)")
    p.add_argument("--out", type=Path, required=True, help="folder for summary.json and the figures")
    p.add_argument("--starts", choices=("random", "dataset"), default="random",
                   help="start from random z, or from encoded training images")
    p.add_argument("--count", type=int, default=64, help="number of trajectories")
    p.add_argument("--steps", type=int, default=200, help="steps T of the loop")
    p.add_argument("--seed", type=int, default=0, help="seed of the start points and tangent vectors")
    p.add_argument("--method", choices=("fast", "exact"), default="fast",
                   help="fast (default): float32 steps, the Lyapunov exponent only where the class needs it; "
                        "exact: float64 with the Lyapunov JVP on every step (tens of times slower)")
    p.add_argument("--coordinate", default="pc1", help="return-map coordinate: pc1, pc2, ... or z0, z1, ...")
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")


def run(args: argparse.Namespace, catalog) -> int:
    from tqdm import tqdm

    from studio.ml.analysis.closed_loop import ClosedLoopSettings, run_closed_loop
    from studio.ml.checkpoints import CheckpointError
    from studio.ml.device import pick_device

    try:
        space, index = parse_coordinate(args.coordinate)
        settings = ClosedLoopSettings(steps=args.steps, method=args.method, seed=args.seed)
        module, meta, dataset = catalog.load_model(args.checkpoint, pick_device(args.device))
        if not hasattr(module, "loop"):
            raise ValueError(f"{args.checkpoint.name} holds a {meta['kind']} model, which has no closed loop")
        starts = _starts(args, module, dataset)
        if index >= module.nz:  # as many principal components as latent dimensions
            raise ValueError(f"--coordinate {args.coordinate}: the latent has {module.nz} dimensions")
    except (CheckpointError, ValueError, KeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bar = tqdm(total=settings.total_work(), unit="step", dynamic_ncols=True)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    result = run_closed_loop(module, starts, settings, progress=progress)
    bar.close()
    model = {"kind": meta["kind"], "step": meta["step"], "checkpoint": str(args.checkpoint), "setup": meta["setup"]}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(result.summary(model=model), indent=2))
    draw_phase(result).save(args.out / "phase.png")
    draw_return_map(result, space, index).save(args.out / "returnmap.png")
    draw_filmstrips(result).save(args.out / "filmstrip.png")
    counts = ", ".join(f"{kind}: {n}" for kind, n in result.counts.items() if n)
    print(f"{len(starts)} trajectories x {result.steps} steps in {result.timings['total']:.2f} s: {counts}")
    print(f"wrote summary.json, phase.png, returnmap.png, filmstrip.png to {args.out}")
    return 0


def parse_coordinate(text: str) -> tuple[str, int]:
    """"pc1" -> ("pca", 0), "z3" -> ("latent", 3)."""
    lowered = text.strip().lower()
    for prefix, space, first in (("pc", "pca", 1), ("z", "latent", 0)):
        number = lowered.removeprefix(prefix)
        if lowered.startswith(prefix) and number.isdigit() and int(number) >= first:
            return space, int(number) - first
    raise ValueError(f"--coordinate must be pc1, pc2, ... or z0, z1, ..., not {text!r}")


def _starts(args: argparse.Namespace, module, dataset):
    from studio.ml.analysis.closed_loop import dataset_starts, random_starts

    if args.count < 1:
        raise ValueError(f"--count must be at least 1, not {args.count}")
    if args.starts == "dataset":
        return dataset_starts(dataset, args.count, args.seed)
    return random_starts(args.count, module.nz, args.seed)


# -- figures ---------------------------------------------------------------------------------------
def draw_phase(result):
    """Trajectories in the PCA plane: faint lines per class, hollow starts, filled ends."""
    from studio.ml.analysis.figures import Axes

    points = result.projected(2)
    variance = result.projection.explained_variance_ratio
    axes = Axes(points[..., 0], points[..., 1], "closed loop: phase plot",
                f"PC 1 ({100 * variance[0]:.0f}%)", f"PC 2 ({100 * variance[min(1, len(variance) - 1)]:.0f}%)")
    for kind, members in _by_kind(result).items():
        axes.lines(points[:, members], _colour(kind))
    axes.markers(points[0], outline="#404040")
    for kind, members in _by_kind(result).items():
        axes.markers(points[-1, members], fill=_colour(kind))
    axes.legend(_legend(result))
    return axes.image


def draw_return_map(result, space: str, index: int):
    """One coordinate at t against t + 1, dots per class and the diagonal."""
    from studio.ml.analysis.figures import Axes

    values = result.coordinate(index, space)
    name = f"PC {index + 1}" if space == "pca" else f"z[{index}]"
    axes = Axes(values, values, f"return map of {name}", f"{name} at t", f"{name} at t + 1")
    axes.diagonal("#909090")
    for kind, members in _by_kind(result).items():
        axes.dots(values[:-1, members].ravel(), values[1:, members].ravel(), _colour(kind))
    axes.legend(_legend(result))
    return axes.image


def draw_filmstrips(result):
    """One row per class: Gen(z(t)) along its first trajectory, labelled with the verdict."""
    import numpy as np
    from PIL import Image, ImageDraw

    from studio.ml.analysis.closed_loop import filmstrip_steps
    from studio.ml.analysis.figures import TITLE_PT, font

    rows = []
    for kind, members in _by_kind(result).items():
        b = members[0]
        orbit = result.orbits[b] if result.orbits else None
        steps = filmstrip_steps(orbit, result.steps)
        frames = result.images(b, steps).numpy().repeat(FRAME_SCALE, 2).repeat(FRAME_SCALE, 3)
        rows.append((kind, b, orbit, steps, frames))
    size = rows[0][4].shape[-1]
    label_width, gap, caption = 300, 4, 20
    width = label_width + max(len(r[3]) for r in rows) * (size + gap)
    image = Image.new("RGB", (width, len(rows) * (size + caption + 2 * gap) + gap), "white")
    draw = ImageDraw.Draw(image)
    for row, (kind, b, orbit, steps, frames) in enumerate(rows):
        top = gap + row * (size + caption + 2 * gap)
        draw.text((8, top + 4), kind, fill=_colour(kind), font=font(TITLE_PT))
        draw.text((8, top + 28), _verdict(b, result.starts.labels[b], orbit), fill="#202020", font=font())
        for column, (frame, step) in enumerate(zip(frames, steps)):
            left = label_width + column * (size + gap)
            pixels = frame.transpose(1, 2, 0) if frame.shape[0] == 3 else frame[0]
            image.paste(Image.fromarray(np.ascontiguousarray(pixels)), (left, top))
            draw.text((left + size // 2, top + size + 2), f"t={step}", fill="#404040", font=font(), anchor="ma")
    return image


def _by_kind(result) -> dict[str, list[int]]:
    """Trajectory indices per class, classes in order of first appearance."""
    kinds = [orbit.kind for orbit in result.orbits] or ["unclassified"] * len(result.starts)
    groups: dict[str, list[int]] = {}
    for b, kind in enumerate(kinds):
        groups.setdefault(kind, []).append(b)
    return groups


def _legend(result) -> list[tuple[str, str]]:
    return [(f"{kind} ({len(members)})", _colour(kind)) for kind, members in _by_kind(result).items()]


def _verdict(b: int, label: str, orbit) -> str:
    import math

    if orbit is None:
        return f"#{b} ({label})"
    period = f", period {orbit.period}" if orbit.period and orbit.period > 1 else ""
    lle = "" if math.isnan(orbit.lyapunov) else f", LLE {orbit.lyapunov:+.3f}"
    return f"#{b} ({label}){period}{lle}"


def _colour(kind: str) -> str:
    from studio.ml.analysis.closed_loop import KIND_COLOURS

    return KIND_COLOURS.get(kind, "#999999")

"""Closed-loop throughput: 256 trajectories x 200 steps of a 32x32 VAE-GAN (target <= 2 s).

    .venv/bin/python benchmarks/closed_loop.py [--width 8] [--nz 16] [--batch 256] [--steps 200]
        [--threads N] [--checkpoint PATH] [--runner-only] [--exact]

Builds an untrained VAE-GAN, 32x32 RGB, nz 16, encoder and generator of ``--width`` (nef = ngf;
8 is the width of the target's measurement), or loads ``--checkpoint``. Prints JSON:

- ``per_step_ms`` / ``per_step_cpu_ms``: one batched loop step in float32 (channels-last) and
  float64, plain and with the JVP of the Lyapunov tangent, the median of a few steps after a
  warm-up; ``implied_total_s``: the 200-step run each implies. These do not depend on the weights.
- ``runner``: ``run_closed_loop`` end to end (see ``studio/ml/analysis/closed_loop.py``): the
  default "fast" method, the same without leaving settled trajectories out of the batch
  ("fast_no_freeze": the dense float32 cost), each with its phases, CPU seconds and class counts;
  the "exact" method (float64 + JVP every step) projected from its per-step cost unless
  ``--exact`` (minutes of CPU). Untrained weights make the loop collapse at once, the best case
  for the fast method: time a trained ``--checkpoint`` too (``--runner-only`` skips the per-step
  figures, which are the same for any weights). torch's one-time JVP set-up (``jvp_one_time_set_up_s``,
  paid by the first JVP in a process, e.g. in a CLI run) is paid before all of these.

On a machine shared with other work, CPU seconds with ``--threads 1`` are the steadier figure (two
OpenMP threads competing with other processes ran several times slower than one, measured here).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import time
from pathlib import Path

import torch
from torch.func import jvp

from studio.ml.analysis.closed_loop import ClosedLoopSettings, random_starts, run_closed_loop
from studio.ml.models.dcgan import Generator
from studio.ml.models.vaegan import Encoder, VAEGANModel

TARGET_S = 2.0


def step_ms(loop, z: torch.Tensor, tangent: bool, repeats: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of one batched loop step (with the JVP when ``tangent``).
    CPU time counts every thread of this process: on a machine shared with other work it is
    the steadier figure, and with one thread it is what the step costs an idle core."""
    v = torch.randn_like(z)
    wall, cpu = [], []
    with torch.no_grad():
        for i in range(repeats + 1):  # the first call warms up (the first JVP pays a one-time set-up)
            start, start_cpu = time.perf_counter(), time.process_time()
            if tangent:
                jvp(loop, (z,), (v,))
            else:
                loop(z)
            if i:
                wall.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
    return 1000 * statistics.median(wall), 1000 * statistics.median(cpu)


def per_step_costs(model: torch.nn.Module, batch: int, steps: int, repeats: int) -> dict:
    """Each dtype in the layout the runner uses for it (float32 channels-last: ~2.5x faster with
    oneDNN here; float64 has no oneDNN kernels and is slower channels-last)."""
    wall, cpu = {}, {}
    for dtype, layout in ((torch.float32, torch.channels_last), (torch.float64, torch.contiguous_format)):
        cast = copy.deepcopy(model).to(dtype).to(memory_format=layout).eval()
        z = torch.randn(batch, model.nz, dtype=dtype)
        for tangent in (False, True):
            name = f"{str(dtype).removeprefix('torch.')}{'_jvp' if tangent else ''}"
            wall[name], cpu[name] = step_ms(cast.loop, z, tangent, max(2, repeats // 2) if tangent else repeats)
    return {"per_step_ms": _rounded(wall), "per_step_cpu_ms": _rounded(cpu),
            "implied_total_s": _rounded({k: v * steps / 1000 for k, v in wall.items()})}


def _rounded(values: dict) -> dict:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in values.items()}


def jvp_set_up_s(model: torch.nn.Module) -> float:
    """Seconds of torch's one-time set-up of forward-mode AD for this network's ops (~1.5 s here),
    paid by a process's first JVP: paid here once, so the runs below are comparable."""
    start = time.perf_counter()
    for dtype in (torch.float32, torch.float64):
        cast = copy.deepcopy(model).to(dtype).eval()
        z = torch.zeros(1, model.nz, dtype=dtype)
        with torch.no_grad():
            jvp(cast.loop, (z,), (z,))
    return round(time.perf_counter() - start, 3)


def runner(model: torch.nn.Module, batch: int, steps: int, **settings) -> dict:
    starts = random_starts(batch, model.nz, seed=0)
    cpu = time.process_time()
    result = run_closed_loop(model, starts, ClosedLoopSettings(steps=steps, **settings))
    total = result.timings["total"]
    return {"total_s": round(total, 3), "cpu_s": round(time.process_time() - cpu, 3),
            "within_target": total <= TARGET_S, "timings_s": _rounded(result.timings), "counts": result.counts}


def build_model(args: argparse.Namespace) -> tuple[torch.nn.Module, dict]:
    if args.checkpoint:
        from studio.catalog import Catalog
        from studio.plugin_manager import PluginManager

        plugins = PluginManager()
        plugins.discover()
        model, meta, _ = Catalog.from_plugins(plugins).load_model(args.checkpoint, torch.device("cpu"))
        config = meta["config"]
        return model, {"checkpoint": str(args.checkpoint), "step": meta["step"], "predict": config.get("predict"),
                       **{k: config[k] for k in ("nz", "nef", "ngf", "image_size", "channels")}}
    torch.manual_seed(0)
    model = VAEGANModel(Encoder(args.nz, args.width, 3, 32), Generator(args.nz, args.width, 3, 32))
    return model.eval().requires_grad_(False), {"weights": "untrained", "nz": args.nz, "nef": args.width,
                                                 "ngf": args.width, "image_size": 32, "channels": 3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=8, help="nef = ngf of the untrained model")
    parser.add_argument("--nz", type=int, default=16)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=6, help="timed steps per per-step figure")
    parser.add_argument("--checkpoint", type=Path, help="time a trained VAE-GAN instead")
    parser.add_argument("--exact", action="store_true", help="also run the exact method end to end (slow)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--runner-only", action="store_true", help="skip the per-step figures (same for any weights)")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    model, described = build_model(args)
    report = {"model": described, "batch": args.batch, "steps": args.steps, "threads": torch.get_num_threads(),
              "load_average_1min": os.getloadavg()[0], "target_s": TARGET_S,
              "jvp_one_time_set_up_s": jvp_set_up_s(model)}
    if not args.runner_only:
        report |= per_step_costs(model, args.batch, args.steps, args.repeats)
    report["runner"] = {
        "fast": runner(model, args.batch, args.steps, method="fast"),
        "fast_no_freeze": runner(model, args.batch, args.steps, method="fast", freeze_settled=False),
    }
    if args.exact:
        report["runner"]["exact"] = runner(model, args.batch, args.steps, method="exact")
    elif not args.runner_only:
        projected = report["implied_total_s"]["float64_jvp"]
        report["runner"]["exact"] = {"projected_total_s": projected, "measured": False,
                                     "within_target": projected <= TARGET_S}
    report["load_average_1min_after"] = os.getloadavg()[0]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

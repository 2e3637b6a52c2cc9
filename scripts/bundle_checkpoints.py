#!/usr/bin/env python
"""Train the models that ship in checkpoints/ with the project's own ``latent-studio train``
commands, then export them (weights only, in half precision) and write checkpoints/manifest.json.

    .venv/bin/python scripts/bundle_checkpoints.py [--runs runs/bundle] [--out checkpoints] [--jobs 2]

Runs go to ``--runs`` (one folder each). A run whose checkpoint already holds its steps is kept,
so a second call only exports; delete a run's folder to train it again. Two runs train side by
side with one torch thread each: about 80 minutes of a 2-core CPU from nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.bundle import BundledModel, write_manifest  # noqa: E402

CLI = [sys.executable, "-m", "studio.cli"]
HISTORY_LINES = 400  # the trainer monitor's loss plot of a bundled run
METRIC_TAIL = 100  # manifest metrics: the mean of the last N steps
WALK_MODEL = ["--nz", "16", "--nef", "32", "--ngf", "32", "--ndf", "32", "--batch-size", "32"]


@dataclass(frozen=True)
class Recipe:
    name: str
    panels: tuple[str, ...]
    description: str
    kind: str
    args: tuple[str, ...]
    steps: int
    after: str | None = None  # a run this one builds on (directions: the generator)
    history: bool = False

    def command(self, runs: Path) -> list[str]:
        args = [a.replace("{runs}", str(runs)) for a in self.args]
        return ["latent-studio", "train", self.kind, *args, "--steps", str(self.steps), "--out", str(runs / self.name)]


def _directions(method: str, description: str) -> Recipe:
    return Recipe(f"directions-{method}", ("attribute_editor",), description, "directions",
                  ("--dataset", "shapes", "--size", "32", "--generator", "{runs}/dcgan-shapes/last.safetensors",
                   "--method", method, "--sample-every", "250"), 2000, after="dcgan-shapes")


# The manifest's order is the loading order: a panel picks the first bundled model that fits it.
RECIPES = [
    Recipe("dcgan-shapes", ("trainer_monitor", "z_walker"), "DCGAN on the built-in shapes (32 px, nz 16)", "dcgan",
           ("--dataset", "shapes", "--size", "32", "--nz", "16", "--ngf", "32", "--ndf", "32",
            "--sample-every", "500", "--checkpoint-every", "500"), 4000, history=True),
    Recipe("vaegan-walk-next", ("phase_plot",), "predictive VAE-GAN on the walk: decodes the next frame", "vaegan",
           ("--dataset", "walk", "--predict", "next", *WALK_MODEL, "--checkpoint-every", "250"), 1500),
    Recipe("vaegan-walk", ("z_walker", "phase_plot"), "VAE-GAN on the walk (encodes dropped images)", "vaegan",
           ("--dataset", "walk", *WALK_MODEL, "--checkpoint-every", "250"), 1500),
    Recipe("cq_dcgan-sine_tones", ("loop_player",), "spectrogram GAN on the sine tones (1 s)", "cq_dcgan",
           ("--dataset", "sine_tones", "--sample-every", "250", "--checkpoint-every", "250"), 1500),
    Recipe("cq_dcgan-bass_loops", ("loop_player",), "spectrogram GAN on the bass loops (2 s)", "cq_dcgan",
           ("--dataset", "bass_loops", "--batch-size", "8", "--sample-every", "250", "--checkpoint-every", "250"),
           1000),
    Recipe("unet-heads", ("switchboard",), "U-Net, side -> frontal heads, all four skips (64 px)", "unet",
           ("--dataset", "heads", "--size", "64", "--skips", "1234", "--sample-every", "300"), 3000),
    Recipe("ae-heads", ("switchboard",), "autoencoder (no skips), side -> frontal heads (64 px)", "unet",
           ("--dataset", "heads", "--size", "64", "--skips", "none", "--sample-every", "300"), 3000),
    _directions("curvilinear", "curvilinear directions (invertible flow) in the shapes DCGAN"),
    _directions("linear", "linear directions in the shapes DCGAN"),
    _directions("warped", "warped directions (RBF vector fields) in the shapes DCGAN"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "bundle")
    parser.add_argument("--out", type=Path, default=ROOT / "checkpoints")
    parser.add_argument("--jobs", type=int, default=2, help="runs trained side by side (one torch thread each)")
    args = parser.parse_args()
    runs = args.runs.resolve()
    train_all(runs, args.jobs)
    args.out.mkdir(parents=True, exist_ok=True)
    catalog = load_catalog()
    models = [export(recipe, runs, args.out, catalog) for recipe in RECIPES]
    path = write_manifest(args.out, models)
    total = sum(m.bytes for m in models)
    print(f"{path}: {len(models)} models, {total / 2**20:.1f} MiB")
    return 0


# -- training ----------------------------------------------------------------------------------
def steps_done(run: Path) -> int:
    from studio.ml.checkpoints import CheckpointError, read_checkpoint_meta

    try:
        return int(read_checkpoint_meta(run / "last.safetensors").get("step", 0))
    except CheckpointError:
        return 0


def train_all(runs: Path, jobs: int) -> None:
    futures: dict[str, Future] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for recipe in RECIPES:  # a run waits for the run it builds on; RECIPES lists that one first
            before = futures.get(recipe.after) if recipe.after else None
            futures[recipe.name] = pool.submit(_train, recipe, runs, before)
        for future in futures.values():
            future.result()
    name_directions(runs)


def name_directions(runs: Path) -> None:
    """directions-eval writes factors.json beside each direction model: the editor's slider names."""
    checkpoints = [runs / r.name / "last.safetensors" for r in RECIPES if r.kind == "directions"]
    if all(c.with_name("factors.json").is_file() for c in checkpoints):
        return
    command = [*CLI, "directions-eval", *map(str, checkpoints), "--out", str(runs / "directions-eval")]
    print(f"naming the directions: {shlex.join(command[2:])}", flush=True)
    with open(runs / "directions-eval.log", "wb") as log:
        subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True)


def _train(recipe: Recipe, runs: Path, before: Future | None) -> None:
    if before is not None:
        before.result()
    run = runs / recipe.name
    if steps_done(run) >= recipe.steps:
        print(f"{recipe.name}: kept ({run})", flush=True)
        return
    run.mkdir(parents=True, exist_ok=True)
    command = recipe.command(runs)
    print(f"{recipe.name}: {shlex.join(command)}", flush=True)
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    with open(run.parent / f"{recipe.name}.log", "wb") as log:
        subprocess.run([*CLI, *command[1:]], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=True)


# -- export ------------------------------------------------------------------------------------
def load_catalog():
    from studio.catalog import Catalog
    from studio.plugin_manager import PluginManager

    plugins = PluginManager()
    plugins.discover()
    return Catalog.from_plugins(plugins)


def export(recipe: Recipe, runs: Path, out: Path, catalog) -> BundledModel:
    """Weights only, in half precision: a third of the run's checkpoint, and it still trains on."""
    import torch

    from studio.ml.checkpoints import (file_sha256, load_checkpoint, save_checkpoint, with_half_precision_weights,
                                       without_optimizer_state)

    run = runs / recipe.name
    trainer, _, _ = catalog.restore(run / "last.safetensors", torch.device("cpu"))
    networks = list(trainer._networks())
    ckpt = with_half_precision_weights(without_optimizer_state(load_checkpoint(run / "last.safetensors")), networks)
    meta = dict(ckpt.meta)
    if recipe.after:  # path parameters are read relative to the checkpoint: ship them as file names
        meta["config"] = meta["config"] | {"generator": f"{recipe.after}.safetensors"}
    target = save_checkpoint(out / f"{recipe.name}.safetensors", ckpt.tensors, meta)
    if (run / "factors.json").is_file():  # the attribute editor's slider names (latent-studio directions-eval)
        shutil.copy(run / "factors.json", out / f"{recipe.name}.factors.json")
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    history = None
    if recipe.history:
        history = f"{recipe.name}.metrics.jsonl"
        write_history(records, out / history)
    return BundledModel(
        name=recipe.name, file=target.name, kind=recipe.kind, dataset=meta["dataset"]["name"], panels=recipe.panels,
        description=recipe.description, command=shlex.join(recipe.command(Path("runs/bundle"))),
        steps=int(meta["step"]), training_seconds=round(training_seconds(records), 1),
        metrics=final_metrics(records), sha256=file_sha256(target), bytes=target.stat().st_size,
        history=history, folder=out,
    )


def training_seconds(records: list[dict]) -> float:
    """Wall time of the steps, leaving out pauses (a resumed run's gap) longer than a minute."""
    times = [r["time"] for r in records if "time" in r]
    return sum(b - a for a, b in zip(times, times[1:]) if 0 <= b - a < 60)


def _numbers(record: dict) -> dict[str, float]:
    return {k: v for k, v in record.items() if k not in ("step", "time") and isinstance(v, (int, float))
            and math.isfinite(v)}


def final_metrics(records: list[dict]) -> dict[str, float]:
    tail = [_numbers(r) for r in records[-METRIC_TAIL:]]
    keys = sorted({k for r in tail for k in r})
    return {k: float(f"{sum(r[k] for r in tail if k in r) / sum(k in r for r in tail):.4g}") for k in keys}


def write_history(records: list[dict], path: Path) -> None:
    every = max(1, math.ceil(len(records) / HISTORY_LINES))
    kept = records[::every] + ([records[-1]] if (len(records) - 1) % every else [])
    lines = [json.dumps({k: (float(f"{v:.5g}") if isinstance(v, float) and k != "time" else v) for k, v in r.items()})
             for r in kept]
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())

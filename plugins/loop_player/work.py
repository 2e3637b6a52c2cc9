"""What the panel asks of the inference thread and the job thread (no widgets here)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from studio.ml.analysis.latent_paths import lerp, seed_latent, slerp
from studio.ml.audio.compare import LoopMap, loop_images, loop_map
from studio.ml.audio.loops import LoopGenerator, Loops

MAP_LOOPS = 100  # generated loops on the map, as in seed paper 002's figure 8
MAP_SEED = 0
MAP_BATCH = 10  # loops generated between progress reports and cancel checks


@dataclass(frozen=True)
class LoopRequest:
    """Which loop: seeds A and B, how far from A to B, and the path between them."""

    seed_a: int
    seed_b: int
    morph: float = 0.0
    mode: str = "spherical"

    def latent(self, nz: int) -> torch.Tensor:
        a, b = seed_latent(self.seed_a, nz), seed_latent(self.seed_b, nz)
        if self.morph <= 0:
            return a
        return (slerp if self.mode == "spherical" else lerp)(a, b, self.morph)


@dataclass
class RenderedLoop:
    request: LoopRequest
    loops: Loops  # one loop
    prepared: object | None  # the audio engine's buffer, resampled off the UI and audio threads


def render_loop(request: LoopRequest, config: dict, output: str,
                prepare: Callable[[np.ndarray, int], object] | None) -> Callable[[nn.Module, torch.device], RenderedLoop]:
    """Inference-thread request: the loop for ``request`` and, with ``prepare``, its playback buffer."""

    def run(module: nn.Module, device: torch.device) -> RenderedLoop:
        generator = LoopGenerator(module, config, output)
        loops = generator.generate(request.latent(int(config["nz"]))[None])
        prepared = prepare(loops.audio[0], loops.sample_rate) if prepare is not None else None
        return RenderedLoop(request, loops, prepared)

    return run


@dataclass
class Comparison:
    """The map of seed 002's figure 8 for one model: its training loops and MAP_LOOPS generated ones."""

    map: LoopMap
    generated: Loops
    generated_seeds: np.ndarray  # the seed of each generated loop's z (seed_latent)
    training_labels: list[str]
    model: str


def compare_with_training(module: nn.Module, config: dict, output: str, clips, model: str,
                          count: int = MAP_LOOPS, progress: Callable[[int, int], None] | None = None,
                          cancelled: Callable[[], bool] | None = None) -> Comparison | None:
    """Job: ``count`` loops from seeds MAP_SEED.. and the map against ``clips`` (on a private copy
    of the weights: the inference thread keeps using the model meanwhile). ``progress(done, total)``
    counts the loops made, then the map; None once ``cancelled()`` is true."""
    generator = LoopGenerator(copy.deepcopy(module), config, output)
    seeds = np.arange(MAP_SEED, MAP_SEED + count)
    latents = torch.stack([seed_latent(int(seed), int(config["nz"])) for seed in seeds])
    parts = []
    for start in range(0, count, MAP_BATCH):
        if cancelled is not None and cancelled():
            return None
        parts.append(generator.generate(latents[start:start + MAP_BATCH]))
        if progress is not None:
            progress(min(start + MAP_BATCH, count), count + 1)
    generated = Loops(np.concatenate([p.audio for p in parts]), np.concatenate([p.images for p in parts]),
                      parts[0].sample_rate)
    training = loop_images(generator.codec, clips.waveforms.numpy())
    result = loop_map(training, loop_images(generator.codec, generated.audio))
    if progress is not None:
        progress(count + 1, count + 1)
    return Comparison(result, generated, seeds, list(clips.labels), model)

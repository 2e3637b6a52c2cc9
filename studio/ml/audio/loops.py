"""Loops from a trained audio model: z -> (sound, spectrogram), whatever the model draws.

A waveform GAN draws samples; the spectrogram picture comes from the codec. A spectrogram GAN
draws constant-Q log magnitudes; the sound comes from phase retrieval. The loop player, the CLI
and the benchmark all go through :class:`LoopGenerator`, so they hear and see the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from studio.ml.audio.codec import ConstantQCodec, codec_for_model
from studio.ml.audio.phase import ITERATIONS, retrieve_phase

OUTPUTS = ("waveform", "spectrogram")


@dataclass
class Loops:
    """``audio`` float32 (N, samples) in [-1, 1]; ``images`` float32 (N, rows, frames) in [-1, 1]."""

    audio: np.ndarray
    images: np.ndarray
    sample_rate: int


class LoopGenerator:
    """Turns latent vectors into loops with one trained audio model (eval mode, no grad).

    ``output`` is the model kind's: "waveform" (G(z) is (N, 1, samples)) or "spectrogram" (G(z) is
    (N, 1, rows, frames) codec images).
    """

    def __init__(self, model: nn.Module, config: dict, output: str, iterations: int = ITERATIONS):
        if output not in OUTPUTS:
            raise ValueError(f"not an audio model: its generator draws {output!r}, not one of {OUTPUTS}")
        self.model, self.output, self.iterations = model.eval(), output, iterations
        self.codec: ConstantQCodec = codec_for_model(config)
        self.sample_rate = int(config["sample_rate"])
        self.nz = int(config["nz"])
        self.device = next(model.parameters()).device

    @torch.no_grad()
    def generate(self, z: torch.Tensor) -> Loops:
        drawn = self.model(z.reshape(-1, self.nz).to(self.device)).float().cpu().numpy()
        if self.output == "waveform":
            audio = drawn[:, 0]
            return Loops(audio.astype(np.float32), self.codec.encode(audio), self.sample_rate)
        images = drawn[:, 0]
        audio = retrieve_phase(self.codec, self.codec.image_to_magnitude(images), self.iterations)
        return Loops(np.clip(audio, -1, 1).astype(np.float32), images.astype(np.float32), self.sample_rate)

"""A frozen generator and a direction model, as one module for the inference thread and for
anything that replays an edit (the attribute editor, its recipes, the evaluation)."""

from __future__ import annotations

import torch
from torch import nn

from studio.ml.models.directions import DirectionModel, Edits


class LatentEditor(nn.Module):
    """``editor(z)`` draws G(z), like a generator; ``render(z, edits)`` draws the edited image
    G(D(z, edits)); ``encode`` exists when the generator has an encoder (a VAE-GAN)."""

    def __init__(self, generator: nn.Module, directions: DirectionModel):
        super().__init__()
        self.generator, self.directions = generator, directions
        self.nz, self.method = directions.nz, directions.method
        if callable(getattr(generator, "encode", None)):
            self.encode = generator.encode

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)

    def edit(self, z: torch.Tensor, edits: Edits) -> torch.Tensor:
        return self.directions.apply(z, edits)

    def render(self, z: torch.Tensor, edits: Edits) -> torch.Tensor:
        return self.generator(self.edit(z, edits))

"""Trainer wrappers for testing how a driver copes with a training run going wrong."""

from __future__ import annotations

import math


class DivergingTrainer:
    """Wraps a real trainer; from step ``at`` on, its ``loss`` comes back NaN (the weights are real)."""

    def __init__(self, trainer, at: int, loss: str = "loss_G"):
        self._trainer, self._at, self._loss = trainer, at, loss

    def __getattr__(self, name):
        return getattr(self._trainer, name)

    def step(self) -> dict[str, float]:
        losses = self._trainer.step()
        if self._trainer.steps_done >= self._at:
            losses = losses | {self._loss: math.nan}
        return losses

"""The contract between a trainer (pure torch) and whoever drives it (the CLI, the studio's
TrainingWorker, torchrun)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import torch
from torch import nn


@runtime_checkable
class Trainer(Protocol):
    """One model family's training state and step.

    A trainer owns its networks, optimisers, RNG and the fixed latent vectors of its sample grid.
    ``step`` is the only thing a driver calls in its loop; everything else happens between steps.
    """

    kind: str  # the ModelKind name, e.g. "dcgan"
    config: dict  # everything needed to rebuild the networks (JSON-serialisable)
    steps_done: int
    batch_size: int

    def step(self) -> dict[str, float]:
        """One optimisation step on one batch; returns the named losses (e.g. loss_G, loss_D)."""

    def sample_grid(self) -> torch.Tensor:
        """The fixed-z samples as a uint8 (N, C, H, W) tensor on the CPU (no grad, eval mode)."""

    def inference_model(self) -> nn.Module:
        """A private eval-mode copy of the generator for the inference thread: it never shares
        storage with the weights being trained."""

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Every tensor needed to resume exactly: weights, optimiser moments, fixed z, RNG."""

    def extra_state(self) -> dict:
        """The JSON-serialisable rest of the state (optimiser hyper-parameters, step counters)."""

    def load_state(self, tensors: dict[str, torch.Tensor], extra: dict, source: Path | str = "checkpoint") -> None:
        """Restore from ``state_tensors``/``extra_state``; raise CheckpointError on a mismatch,
        naming ``source`` (the checkpoint's path) in its message."""

    # Optional: ``distribute(group)`` (a studio.ml.distributed.ProcessGroup), called once before the
    # first step when torchrun started several processes; without it `latent-studio train` refuses
    # to run the kind in more than one process. Trainers built on
    # studio.ml.training.common.SeededTrainer have it (docs/distributed.md).

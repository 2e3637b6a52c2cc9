"""What a Run asks for, and the job that does it on the job thread (no widgets here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from studio.ml.analysis.closed_loop import (
    ClosedLoopResult,
    ClosedLoopSettings,
    StartPoints,
    dataset_starts,
    image_starts,
    random_starts,
    run_closed_loop,
)
from studio.runtime.datasets import DatasetCache
from studio.runtime.jobs import JobContext


@dataclass(frozen=True)
class RunPlan:
    """The form's choices: where to start (``source``: random, dataset or images) and how to run."""

    source: str
    count: int
    seed: int
    settings: ClosedLoopSettings
    files: tuple[Path, ...] = field(default=())


def start_points(plan: RunPlan, model: nn.Module, meta: dict, datasets: DatasetCache) -> StartPoints:
    """The plan's start points; the training images come from the model's run setup."""
    if plan.source == "dataset":
        if "setup" not in meta:
            raise ValueError("this model does not say which images it was trained on")
        return dataset_starts(datasets.get(meta["setup"]), plan.count, plan.seed)
    if plan.source == "images":
        return image_starts(list(plan.files))
    return random_starts(plan.count, model.nz, plan.seed)


def run_plan(plan: RunPlan, model: nn.Module, meta: dict, datasets: DatasetCache,
             context: JobContext) -> ClosedLoopResult:
    """The job: read or draw the start points, then the closed loop (on private copies of
    ``model``, which the inference thread keeps using)."""
    starts = start_points(plan, model, meta, datasets)
    return run_closed_loop(model, starts, plan.settings, progress=context.progress, cancelled=context.cancelled)

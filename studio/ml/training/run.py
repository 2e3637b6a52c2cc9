"""The step loop shared by every driver: the CLI, the studio's TrainingWorker, scripts.

A driver calls ``advance()`` until ``done``; the run logs every step's losses (JSON lines), makes
the fixed-z sample grid and writes atomic checkpoints on schedule.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import torch

from studio.ml.checkpoints import save_checkpoint
from studio.ml.grid import make_grid, save_png
from studio.ml.training.base import Trainer

FORMAT = "latent-studio/1"


@dataclass
class RunSettings:
    out_dir: Path
    total_steps: int
    sample_every: int = 100  # fixed-z grid every N steps (and at the start)
    checkpoint_every: int = 500  # atomic checkpoint every N steps (and at the end)


@dataclass
class StepReport:
    step: int
    losses: dict[str, float]
    seconds: float  # wall time of this step
    samples: torch.Tensor | None = None  # uint8 NCHW grid images, when sampled this step
    checkpoint: Path | None = None  # when one was written this step


class NonFiniteLoss(RuntimeError):
    def __init__(self, step: int, losses: dict[str, float], last_checkpoint: Path | None, last_step: int | None):
        bad = ", ".join(f"{k}={v}" for k, v in losses.items() if not math.isfinite(v))
        kept = (f"the last good checkpoint is {last_checkpoint} (step {last_step})" if last_checkpoint
                else "no checkpoint had been written yet")
        super().__init__(f"training stopped: {bad} at step {step}; {kept}")
        self.step, self.losses, self.last_checkpoint = step, losses, last_checkpoint


def checkpoint_meta(trainer: Trainer, dataset_info: dict, losses: dict[str, float]) -> dict:
    from studio import __version__

    return {
        "format": FORMAT,
        "kind": trainer.kind,
        "config": dict(trainer.config),
        "dataset": dataset_info,
        "step": trainer.steps_done,
        "metrics": losses,
        "extra": trainer.extra_state(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": {"latent_studio": __version__, "torch": torch.__version__},
    }


class TrainingRun:
    def __init__(self, trainer: Trainer, settings: RunSettings, dataset_info: dict):
        self.trainer = trainer
        self.settings = settings
        self.dataset_info = dataset_info
        self.out_dir = Path(settings.out_dir)
        self.checkpoint_path = self.out_dir / "last.safetensors"
        self.metrics_path = self.out_dir / "metrics.jsonl"
        self.samples_dir = self.out_dir / "samples"
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.metrics_path, "a", encoding="utf-8")
        self._last_losses: dict[str, float] = {}
        self._last_good: tuple[Path, int] | None = None
        self._diverged = False
        self._closed = False

    @property
    def done(self) -> bool:
        return self.trainer.steps_done >= self.settings.total_steps

    def initial_samples(self) -> torch.Tensor:
        return self._samples()

    def _samples(self) -> torch.Tensor:
        images = self.trainer.sample_grid()
        save_png(make_grid(images), self.samples_dir / f"step_{self.trainer.steps_done:06d}.png")
        return images

    def advance(self) -> StepReport:
        start = time.perf_counter()
        losses = self.trainer.step()
        seconds = time.perf_counter() - start
        step = self.trainer.steps_done
        if not all(math.isfinite(v) for v in losses.values()):
            self._diverged = True
            last = self._last_good or (None, None)
            raise NonFiniteLoss(step, losses, *last)
        self._last_losses = losses
        self._log.write(json.dumps({"step": step, "time": time.time(), **losses}) + "\n")
        report = StepReport(step, losses, seconds)
        if step % self.settings.sample_every == 0 or self.done:
            report.samples = self._samples()
        if step % self.settings.checkpoint_every == 0:
            report.checkpoint = self.save_checkpoint()
        return report

    def save_checkpoint(self, path: Path | None = None) -> Path:
        if self._diverged:
            raise RuntimeError("the weights diverged (non-finite loss); load the last good checkpoint instead")
        self._log.flush()
        written = save_checkpoint(
            path or self.checkpoint_path,
            self.trainer.state_tensors(),
            checkpoint_meta(self.trainer, self.dataset_info, self._last_losses),
        )
        if path is None:
            self._last_good = (written, self.trainer.steps_done)
        return written

    def close(self, save: bool = True) -> Path | None:
        """Final checkpoint (unless the weights diverged) and close the metrics log."""
        if self._closed:
            return None
        path = self.save_checkpoint() if save and not self._diverged else None
        self._log.close()
        self._closed = True
        return path


def read_metrics_log(path: Path | str) -> list[dict]:
    """Records of a metrics.jsonl; a line cut short by a crash is ignored."""
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records

"""The step loop shared by every driver: the CLI (alone or under torchrun), the studio's
TrainingWorker, scripts.

A driver calls ``advance()`` until ``done`` (the studio does so in bursts from its worker thread),
then ``close()``. The run writes its folder (docs/run-folder.md): ``run.json`` when it starts and
ends, every step's losses appended to ``metrics.jsonl``, the fixed-z sample grid as PNG and
``last.safetensors`` atomically, each on its own schedule. In a distributed run every process
steps and only rank 0 writes.
"""

from __future__ import annotations

import json
import math
import os
import platform
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import torch

from studio.ml.checkpoints import CheckpointError, read_checkpoint_meta, save_checkpoint
from studio.ml.distributed import SINGLE, ProcessGroup
from studio.ml.grid import make_grid, save_png
from studio.ml.training.run_folder import CHECKPOINT_NAME, METRICS_NAME, RUN_FORMAT, RUN_INFO_NAME, SAMPLES_DIR
from studio.ml.training.base import Trainer

FORMAT = "latent-studio/1"
FLUSH_SECONDS = 2.0  # a follower sees the log grow at least this often, however slow the steps


@dataclass
class RunSettings:
    out_dir: Path
    total_steps: int
    sample_every: int = 100  # fixed-z grid every N steps (and at step 0, and at the end)
    checkpoint_every: int = 500  # atomic checkpoint every N steps (and on close)

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)
        if self.total_steps < 0:
            raise ValueError(f"total_steps must be >= 0, not {self.total_steps}")
        if self.sample_every < 1 or self.checkpoint_every < 1:
            raise ValueError("sample_every and checkpoint_every must be >= 1")


@dataclass
class StepReport:
    step: int  # steps done after this one
    losses: dict[str, float]
    seconds: float  # wall time of the trainer's step
    samples: torch.Tensor | None = None  # uint8 NCHW fixed-z samples, when sampled this step
    checkpoint: Path | None = None  # the checkpoint, when one was written this step


class NonFiniteLoss(RuntimeError):
    """A loss became NaN or infinite: the weights are now garbage and must not be saved."""

    def __init__(
        self,
        step: int,
        losses: dict[str, float],
        last_checkpoint: Path | None = None,
        last_step: int | None = None,
    ):
        bad = ", ".join(f"{name}={value}" for name, value in losses.items() if not math.isfinite(value))
        if last_checkpoint is not None:
            kept = f"the last good checkpoint is {last_checkpoint} (step {last_step})"
        else:
            kept = "no checkpoint had been written in this run yet"
        super().__init__(f"training diverged: {bad} at step {step}; {kept}")
        self.step, self.losses, self.last_checkpoint, self.last_step = step, losses, last_checkpoint, last_step


def checkpoint_meta(trainer: Trainer, dataset_info: dict, losses: dict[str, float]) -> dict:
    """The JSON stored with a checkpoint: enough to rebuild the run and to show it in the studio."""
    from studio import __version__

    return {
        "format": FORMAT,
        "kind": trainer.kind,
        "config": dict(trainer.config),
        "dataset": dict(dataset_info),
        "step": trainer.steps_done,
        "metrics": dict(losses),
        "extra": trainer.extra_state(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": {"latent_studio": __version__, "torch": torch.__version__, "python": platform.python_version()},
    }


class TrainingRun:
    """Drives one trainer and writes its outputs under ``settings.out_dir``.

    ``group``: this process's place in a distributed run; only its main process (rank 0) writes
    anything, the others just step. ``command``: the command line, recorded in run.json.
    Not thread-safe: one thread calls ``advance``/``save_checkpoint``/``close``.
    """

    def __init__(self, trainer: Trainer, settings: RunSettings, dataset_info: dict,
                 group: ProcessGroup = SINGLE, command: list[str] | None = None):
        self.trainer = trainer
        self.settings = settings
        self.dataset_info = dataset_info
        self.group = group
        self.writes = group.is_main
        self.out_dir = Path(settings.out_dir)
        self.checkpoint_path = self.out_dir / CHECKPOINT_NAME
        self.metrics_path = self.out_dir / METRICS_NAME
        self.samples_dir = self.out_dir / SAMPLES_DIR
        self.info_path = self.out_dir / RUN_INFO_NAME
        self._last_losses: dict[str, float] = {}
        self._last_saved_step = _saved_step(self.checkpoint_path, trainer.steps_done)  # of checkpoint_path
        self._diverged: str | bool = False  # once diverged: NonFiniteLoss's message
        self._closed = False
        self._log = None
        self._flushed = time.time()
        self.info = self._run_info(command)
        if self.writes:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            # A resumed run continues the same log, minus what was logged after its checkpoint.
            _trim_metrics_log(self.metrics_path, trainer.steps_done)
            self._log = open(self.metrics_path, "a", encoding="utf-8")
            write_json_atomically(self.info_path, self.info)

    def _run_info(self, command: list[str] | None) -> dict:
        """run.json while the run goes (docs/run-folder.md); ``close`` adds how it ended."""
        trainer, settings = self.trainer, self.settings
        return {
            "format": RUN_FORMAT,
            "kind": trainer.kind,
            "config": dict(trainer.config),
            "dataset": dict(self.dataset_info),
            "total_steps": settings.total_steps,
            "sample_every": settings.sample_every,
            "checkpoint_every": settings.checkpoint_every,
            "batch_size": trainer.batch_size,
            "start_step": trainer.steps_done,
            "world_size": self.group.world_size,
            "backend": self.group.backend,
            "device": str(getattr(trainer, "device", "cpu")),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "command": command,
            "started": _now(),
            "status": "running",
            "step": None,
            "ended": None,
            "message": None,
        }

    @property
    def done(self) -> bool:
        return self.trainer.steps_done >= self.settings.total_steps

    def initial_samples(self) -> torch.Tensor | None:
        """The sample grid at the current step (0, or the resumed step), also saved as PNG (None in a
        process that does not write)."""
        return self._samples() if self.writes else None

    def _samples(self) -> torch.Tensor:
        images = self.trainer.sample_grid()
        save_png(make_grid(images), self.samples_dir / f"step_{self.trainer.steps_done:06d}.png")
        return images

    def advance(self) -> StepReport:
        """One trainer step, then its log line, samples and checkpoint as scheduled.

        Raises NonFiniteLoss before writing anything for a step whose losses are not finite.
        """
        if self._diverged or self._closed:
            raise RuntimeError(f"the run in {self.out_dir} is {'diverged' if self._diverged else 'closed'}")
        start = time.perf_counter()
        losses = self.trainer.step()
        seconds = time.perf_counter() - start
        step = self.trainer.steps_done
        if not all(math.isfinite(value) for value in losses.values()):
            good = self._last_saved_step is not None
            diverged = NonFiniteLoss(step, losses, self.checkpoint_path if good else None, self._last_saved_step)
            self._diverged = str(diverged)
            raise diverged
        self._last_losses = losses
        report = StepReport(step, losses, seconds)
        if not self.writes:
            return report
        now = time.time()
        self._log.write(json.dumps({"step": step, "time": now, **losses}) + "\n")
        if step % self.settings.sample_every == 0 or self.done:
            report.samples = self._samples()
        if step % self.settings.sample_every == 0 or self.done or now - self._flushed > FLUSH_SECONDS:
            self._log.flush()  # a crash loses little of the log, and a follower sees it grow
            self._flushed = now
        if step % self.settings.checkpoint_every == 0:
            report.checkpoint = self.save_checkpoint()
        return report

    def save_checkpoint(self, path: Path | None = None) -> Path:
        """Write the trainer's state now (to ``checkpoint_path`` unless told otherwise)."""
        if self._diverged:
            raise RuntimeError("the weights diverged (non-finite loss); they are not worth saving")
        if not self.writes:
            raise RuntimeError(f"rank {self.group.rank} does not write checkpoints; rank 0 does")
        if not self._log.closed:
            self._log.flush()
        meta = checkpoint_meta(self.trainer, self.dataset_info, self._last_losses)
        written = save_checkpoint(path or self.checkpoint_path, self.trainer.state_tensors(), meta)
        if path is None or Path(path) == self.checkpoint_path:
            self._last_saved_step = self.trainer.steps_done
        return written

    def close(self, save: bool = True, failure: str | None = None) -> Path | None:
        """Close the metrics log; with ``save``, first write the final checkpoint and return it.
        run.json then says how the run ended: finished, stopped early, diverged, or ``failure``.

        After a NonFiniteLoss nothing is saved: ``last.safetensors`` keeps the last good weights.
        """
        if self._closed:
            return None
        status = "failed" if failure else "diverged" if self._diverged else "finished" if self.done else "stopped"
        try:
            if not self.writes or not save or self._diverged or failure:
                return None
            if self._last_saved_step == self.trainer.steps_done:
                return self.checkpoint_path  # already saved at this step
            return self.save_checkpoint()
        finally:
            self._closed = True
            if self.writes:
                self._log.close()
                self.info |= {"status": status, "step": self.trainer.steps_done, "ended": _now(),
                              "message": failure or self._diverged or None}
                write_json_atomically(self.info_path, self.info)


def write_json_atomically(path: Path, value: dict) -> None:
    """``path`` holds ``value`` as JSON, or still its old content if this is interrupted."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(value, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read_metrics_log(path: Path | str) -> list[dict]:
    """The records of a metrics.jsonl, in file order; a line cut short by a crash is skipped.

    ValueError if the file has content but not one readable record (it is not a metrics log).
    """
    records, unreadable = [], 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                unreadable += 1
                continue
            if isinstance(record, dict):
                records.append(record)
            else:
                unreadable += 1
    if unreadable and not records:
        raise ValueError(f"{path} is not a metrics log (no readable JSON lines)")
    return records


def _saved_step(checkpoint: Path, step: int) -> int | None:
    """``step`` if ``checkpoint`` already holds it (a run resumed from its own last.safetensors)."""
    if step == 0 or not checkpoint.exists():
        return None
    try:
        return step if read_checkpoint_meta(checkpoint).get("step") == step else None
    except CheckpointError:
        return None


def _trim_metrics_log(path: Path, last_step: int) -> None:
    """Drop records after ``last_step`` and any torn last line, so that appending continues a
    consistent log. Rewritten (atomically) only when something has to go."""
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines()
    kept = [line for line, step in zip(lines, map(_step_of, lines)) if step is not None and step <= last_step]
    if len(kept) == len(lines) and (not text or text.endswith("\n")):
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    tmp.replace(path)


def _step_of(line: str) -> int | None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    step = record.get("step") if isinstance(record, dict) else None
    return step if isinstance(step, int) else None

"""The skip ablation (Tables 1-4) through the studio's one TrainingWorker: the chosen variants are
trained one after another, each into its own folder; each finished run is evaluated (train and
test MSE) on the job thread while the next one trains. No widgets here: the ablation box shows it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from studio.catalog import RunSetup, setup_from_meta
from studio.ml.checkpoints import read_checkpoint_meta
from studio.ml.training.ablation import AblationRow, evaluate, variant_folder, variant_label, write_table
from studio.runtime.training_worker import RunRequest, RunState
from studio.ui.model_picker import model_name_for

KIND = "unet"


@dataclass(frozen=True)
class AblationPlan:
    """Train ``variants`` (``skips`` values: "none", "1234", "2"...) for ``steps`` each on the data
    and hyper-parameters of ``setup`` (its skips replaced), into ``out_dir/<variant_folder>``."""

    variants: tuple[str, ...]
    steps: int
    setup: RunSetup
    out_dir: Path

    def request(self, index: int) -> RunRequest:
        skips = self.variants[index]
        setup = replace(self.setup, kind=KIND, config={**self.setup.config, "skips": skips})
        return RunRequest(self.steps, self.out_dir / variant_folder(skips), setup)


def evaluate_run(studio, checkpoint: Path, skips: str):
    """Job: load the finished run's model and data, measure its row of the table, and publish the
    model (as "unet: concat2/last") so the switchboard can show it at once."""

    def job(context) -> AblationRow:
        pairs = studio.datasets.get(setup_from_meta(read_checkpoint_meta(checkpoint)))  # built once per ablation
        module, meta, _ = studio.catalog.load_model(checkpoint, studio.models.device, pairs)
        row = evaluate(module, pairs, skips, int(meta["step"]), checkpoint)
        studio.models.publish(model_name_for(checkpoint, meta["kind"]), module, meta)
        return row

    return job


class AblationRun(QObject):
    """Signals carry the variant's position in the plan."""

    started = Signal(object)  # the AblationPlan, before its first variant starts
    variant_started = Signal(int)
    variant_progress = Signal(int, int, int)  # index, step, total
    variant_evaluating = Signal(int)
    variant_evaluated = Signal(int, object)  # index, AblationRow
    variant_failed = Signal(int, str)  # index, message
    finished = Signal(list)  # the AblationRows in plan order (NaN MSEs for failed variants)

    def __init__(self, studio, parent: QObject | None = None):
        super().__init__(parent)
        self.studio = studio
        self.plan: AblationPlan | None = None
        self.rows: dict[int, AblationRow] = {}
        self._index: int | None = None  # the variant training (or asked to train) now
        self._started = False  # the worker said run_started for it
        self._checkpoint: Path | None = None
        self._evaluations: dict[int, int] = {}  # job id -> variant index
        self._cancelled = False
        worker, jobs = studio.training, studio.jobs
        worker.run_started.connect(self._on_run_started)
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        jobs.finished.connect(self._on_job_finished)
        jobs.failed.connect(self._on_job_failed)

    @property
    def running(self) -> bool:
        return self._index is not None or bool(self._evaluations)

    def start(self, plan: AblationPlan) -> str | None:
        """Begin ``plan``; returns why it cannot (the worker is busy, nothing chosen) or None."""
        if self.running:
            return "the ablation is already running"
        if self.studio.training.busy:
            return "the training worker is busy with another run: wait for it to finish or stop it first"
        if not plan.variants:
            return "tick at least one variant to train"
        self.plan, self.rows, self._cancelled = plan, {}, False
        self._index = -1
        self.started.emit(plan)
        self._next()
        return None

    def cancel(self) -> None:
        """Stop the variant training now (it is still evaluated) and train no more."""
        if self._index is None:
            return
        self._cancelled = True
        if self._started:
            self.studio.training.stop()
        # not started yet: _on_run_started stops it (stopping now could hit another panel's run)

    # -- training, one variant after another ------------------------------------------------------
    def _next(self) -> None:
        self._index += 1
        self._started, self._checkpoint = False, None
        if self._cancelled or self._index >= len(self.plan.variants):
            self._index = None
            self._finish_when_evaluated()
            return
        self.variant_started.emit(self._index)
        self.studio.training.start(self.plan.request(self._index))

    def _ours(self, out_dir: str) -> bool:
        return self._index is not None and out_dir == str(self.plan.request(self._index).out_dir)

    def _on_run_started(self, info: dict) -> None:
        if self._ours(info["out_dir"]):
            self._started, self._checkpoint = True, Path(info["checkpoint"])
            if self._cancelled:
                self.studio.training.stop()

    def _on_progress(self, progress) -> None:
        if self._started:
            self.variant_progress.emit(self._index, progress.step, progress.total_steps)

    def _on_finished(self, out_dir: str) -> None:
        if not (self._started and self._ours(out_dir)):
            return
        index, skips = self._index, self.plan.variants[self._index]
        job = self.studio.jobs.submit(f"evaluating {variant_label(skips)}",
                                      evaluate_run(self.studio, self._checkpoint, skips))
        self._evaluations[job.id] = index
        self.variant_evaluating.emit(index)
        self._next()

    def _on_failed(self, message: str) -> None:
        # ours: our run could not start (refused, bad data), or it failed while training; a failed
        # "save checkpoint" of another panel leaves the worker's state alone and is not ours
        if self._index is None or (self._started and self.studio.training.state is not RunState.FAILED):
            return
        self._fail(self._index, message)
        self._next()

    # -- evaluation ------------------------------------------------------------------------------
    def _on_job_finished(self, job_id: int, row) -> None:
        index = self._evaluations.pop(job_id, None)
        if index is None:
            return
        self.rows[index] = row
        self.variant_evaluated.emit(index, row)
        self._finish_when_evaluated()

    def _on_job_failed(self, job_id: int, message: str) -> None:
        index = self._evaluations.pop(job_id, None)
        if index is not None:
            self._fail(index, message)
            self._finish_when_evaluated()

    def _fail(self, index: int, message: str) -> None:
        skips = self.plan.variants[index]
        self.rows[index] = AblationRow(skips, variant_label(skips), math.nan, math.nan, 0)
        self.variant_failed.emit(index, message)

    def _finish_when_evaluated(self) -> None:
        if self.running:
            return
        self.finished.emit([self.rows[i] for i in sorted(self.rows)])

    def write_table(self, out_dir: Path | None = None) -> tuple[Path, Path]:
        """mse.csv and mse.md of the rows so far (in plan order), in the plan's folder by default."""
        return write_table([self.rows[i] for i in sorted(self.rows)], out_dir or self.plan.out_dir)

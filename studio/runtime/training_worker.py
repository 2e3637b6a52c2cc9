"""The studio's one background training thread.

The worker object lives on its own QThread with an event loop. Commands (start, pause, resume,
stop, save) arrive as queued signals and run there; training advances in bursts of about
``BURST_SECONDS``, each burst re-posting the next one, so commands are handled between bursts
without locks or polling, and a paused worker sleeps in its event loop. Results go back by
signals, at most one metrics emission per ``METRICS_INTERVAL`` (10 per second).

The step loop itself is :class:`studio.ml.training.run.TrainingRun`, which the CLI uses too.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, QTimer, Signal, Slot

from studio.catalog import Catalog, RunSetup
from studio.runtime.model_manager import ModelManager
from studio.runtime.openmp import release_workers

log = logging.getLogger(__name__)

BURST_SECONDS = 0.05
METRICS_INTERVAL = 0.1  # 10 UI updates/s: on 2 cores every redraw is taken from training


class RunState(str, Enum):
    IDLE = "idle"
    PREPARING = "preparing"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"  # reached its step count, or stopped by the user
    FAILED = "failed"


@dataclass(frozen=True)
class RunRequest:
    """What to train: a new run from ``setup``, or the run saved in ``resume_from``."""

    total_steps: int
    out_dir: Path
    setup: RunSetup | None = None
    resume_from: Path | None = None
    sample_every: int = 100
    checkpoint_every: int = 500


@dataclass(frozen=True)
class Progress:
    step: int
    total_steps: int
    steps_per_second: float
    images_per_second: float
    eta_seconds: float | None


def live_model_name(kind: str) -> str:
    """The ModelManager name under which a running trainer publishes its generator."""
    return f"{kind} (training)"


class TrainingWorker(QObject):
    state_changed = Signal(str)  # a RunState value
    run_started = Signal(dict)  # kind, setup, out_dir, step, total_steps, checkpoint path
    metrics = Signal(list)  # metric records since the last emission
    progress = Signal(object)  # Progress
    samples = Signal(int, object)  # step, numpy HWC uint8 grid
    checkpoint_saved = Signal(str, int)  # path, step
    failed = Signal(str)  # a message for the user
    finished = Signal(str)  # out_dir

    # commands, delivered queued to the worker thread
    _start_requested = Signal(object)
    _pause_requested = Signal()
    _resume_requested = Signal()
    _stop_requested = Signal()
    _save_requested = Signal(object)

    def __init__(self, catalog: Catalog, models: ModelManager):
        super().__init__()
        self._catalog = catalog
        self._models = models
        self._run = None
        self._setup: RunSetup | None = None  # of the current run: published with its model
        self._state = RunState.IDLE
        self._pending: list[dict] = []
        self._last_emit = 0.0
        self._rate_window: list[tuple[float, int]] = []
        self._next_burst: QTimer | None = None  # made on the worker thread, so it lives there
        self._thread = QThread()
        self._thread.setObjectName("training")
        self.moveToThread(self._thread)
        self._start_requested.connect(self._start)
        self._pause_requested.connect(self._pause)
        self._resume_requested.connect(self._resume)
        self._stop_requested.connect(self._stop)
        self._save_requested.connect(self._save)
        self._thread.start()

    # -- public API (any thread) ------------------------------------------------------------
    @property
    def state(self) -> RunState:
        return self._state

    @property
    def busy(self) -> bool:
        return self._state in (RunState.PREPARING, RunState.RUNNING, RunState.PAUSED)

    def start(self, request: RunRequest) -> None:
        self._start_requested.emit(request)

    def pause(self) -> None:
        self._pause_requested.emit()

    def resume(self) -> None:
        self._resume_requested.emit()

    def stop(self) -> None:
        self._stop_requested.emit()

    def save_checkpoint(self, path: Path | None = None) -> None:
        self._save_requested.emit(path)

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Stop a run (writing its final checkpoint) and end the thread."""
        if self._thread.isRunning():
            # Blocking: the final checkpoint must be on disk before the process may exit.
            QMetaObject.invokeMethod(self, "_stop", Qt.ConnectionType.BlockingQueuedConnection)
        self._thread.quit()
        self._thread.wait(timeout_ms)

    # -- worker thread ----------------------------------------------------------------------
    def _set_state(self, state: RunState) -> None:
        self._state = state
        if state not in (RunState.PREPARING, RunState.RUNNING):
            release_workers()  # an idle team would slow every other thread's (docs/architecture.md)
        self.state_changed.emit(state.value)

    @Slot(object)
    def _start(self, request: RunRequest) -> None:
        if self.busy:
            self.failed.emit("a training run is already going; stop it first")
            return
        self._set_state(RunState.PREPARING)
        try:
            self._run = self._prepare(request)
        except Exception as exc:
            log.error("could not start training:\n%s", traceback.format_exc())
            self._fail(f"could not start training: {exc}")
            return
        run, trainer = self._run, self._run.trainer
        self.run_started.emit(
            {
                "kind": trainer.kind,
                "config": dict(trainer.config),
                "dataset": run.dataset_info,
                "out_dir": str(run.out_dir),
                "step": trainer.steps_done,
                "total_steps": run.settings.total_steps,
                "checkpoint": str(run.checkpoint_path),
                "metrics_log": str(run.metrics_path),
            }
        )
        self._emit_samples(trainer.steps_done, run.initial_samples())
        self._rate_window = [(time.perf_counter(), trainer.steps_done)]
        self._set_state(RunState.RUNNING)
        self._schedule_burst()

    def _prepare(self, request: RunRequest):
        from studio.ml.training.run import RunSettings, TrainingRun

        device = self._models.device
        if request.resume_from is not None:
            trainer, dataset, setup = self._catalog.restore(request.resume_from, device)
        else:
            trainer, dataset = self._catalog.build_trainer(request.setup, device)
            setup = request.setup
        settings = RunSettings(
            out_dir=request.out_dir,
            total_steps=request.total_steps,
            sample_every=request.sample_every,
            checkpoint_every=request.checkpoint_every,
        )
        self._setup = setup
        return TrainingRun(trainer, settings, setup.dataset_info(dataset))

    @Slot()
    def _burst(self) -> None:
        if self._state is not RunState.RUNNING:
            return
        from studio.ml.training.run import NonFiniteLoss

        run = self._run
        deadline = time.perf_counter() + BURST_SECONDS
        try:
            while not run.done and time.perf_counter() < deadline:
                report = run.advance()
                self._pending.append({"step": report.step, "time": time.time(), **report.losses})
                if report.samples is not None:
                    self._emit_samples(report.step, report.samples)
                if report.checkpoint is not None:
                    self.checkpoint_saved.emit(str(report.checkpoint), report.step)
        except NonFiniteLoss as exc:
            self._flush_metrics(force=True)
            run.close(save=False)
            self._fail(str(exc))
            return
        except Exception as exc:
            log.error("training failed:\n%s", traceback.format_exc())
            self._flush_metrics(force=True)
            run.close(save=False, failure=f"{type(exc).__name__}: {exc}")
            self._fail(f"training failed at step {run.trainer.steps_done}: {type(exc).__name__}: {exc}")
            return
        self._flush_metrics(force=run.done)
        if run.done:
            self._finish()
        else:
            self._schedule_burst()

    def _schedule_burst(self) -> None:
        """Run the next burst once the queued commands have been handled."""
        if self._next_burst is None:
            self._next_burst = QTimer()
            self._next_burst.setSingleShot(True)
            self._next_burst.setInterval(0)
            self._next_burst.timeout.connect(self._burst)
        self._next_burst.start()

    def _flush_metrics(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not self._pending or (not force and now - self._last_emit < METRICS_INTERVAL):
            return
        self._last_emit = now
        records, self._pending = self._pending, []
        self.metrics.emit(records)
        self.progress.emit(self._progress(now))

    def _progress(self, now: float) -> Progress:
        run = self._run
        step, total = run.trainer.steps_done, run.settings.total_steps
        self._rate_window.append((now, step))
        while len(self._rate_window) > 2 and now - self._rate_window[0][0] > 5.0:
            self._rate_window.pop(0)  # rate over the last ~5 s follows speed changes
        (t0, s0) = self._rate_window[0]
        rate = (step - s0) / (now - t0) if now > t0 else 0.0
        eta = (total - step) / rate if rate > 0 else None
        return Progress(step, total, rate, rate * run.trainer.batch_size, eta)

    def _emit_samples(self, step: int, images) -> None:
        from studio.ml.grid import make_grid

        self.samples.emit(step, make_grid(images))
        trainer = self._run.trainer
        meta = {"kind": trainer.kind, "config": dict(trainer.config), "step": step, "setup": self._setup.to_dict()}
        self._models.publish(live_model_name(trainer.kind), trainer.inference_model(), meta)

    @Slot()
    def _pause(self) -> None:
        if self._state is RunState.RUNNING:
            self._flush_metrics(force=True)
            self._set_state(RunState.PAUSED)

    @Slot()
    def _resume(self) -> None:
        if self._state is RunState.PAUSED:
            self._rate_window = [(time.perf_counter(), self._run.trainer.steps_done)]
            self._set_state(RunState.RUNNING)
            self._schedule_burst()

    @Slot()
    def _stop(self) -> None:
        if self._next_burst is not None:
            self._next_burst.stop()  # a timer must be stopped on its own thread, before it quits
        if self._state in (RunState.RUNNING, RunState.PAUSED):
            self._flush_metrics(force=True)
            self._finish()

    def _finish(self) -> None:
        run = self._run
        try:
            path = run.close(save=True)
        except Exception as exc:
            self._fail(f"could not write the final checkpoint: {exc}")
            return
        if path is not None:
            self.checkpoint_saved.emit(str(path), run.trainer.steps_done)
        self._set_state(RunState.FINISHED)
        self.finished.emit(str(run.out_dir))

    @Slot(object)
    def _save(self, path: Path | None) -> None:
        if self._run is None:
            self.failed.emit("nothing to save: no model has been trained or loaded yet")
            return
        try:
            written = self._run.save_checkpoint(path)
        except Exception as exc:
            self.failed.emit(f"could not save the checkpoint to {path}: {exc}")
            return
        self.checkpoint_saved.emit(str(written), self._run.trainer.steps_done)

    def _fail(self, message: str) -> None:
        self._set_state(RunState.FAILED)
        self.failed.emit(message)


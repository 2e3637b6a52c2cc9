"""Background jobs: computations of seconds to minutes that a user starts and may cancel (a
closed-loop run of hundreds of trajectories, inverting an image by optimising z).

One job thread, first in, first out. Interactive requests (a dragged slider) go to
``ModelManager.submit`` instead, whose newest-wins queue suits them and never waits behind a job.
A job is a plain function ``fn(context)``: it reports ``context.progress(done, total)`` and checks
``context.cancelled()``, so the same function runs from the CLI or a test without Qt.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.runtime.openmp import release_workers

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.05  # seconds: at most 20 progress updates a second reach the UI


class JobContext:
    """What a running job sees: where to report progress, whether to stop."""

    def __init__(self, job: Job, runner: JobRunner):
        self._job, self._runner = job, runner
        self._last_report = 0.0

    def progress(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done >= total or now - self._last_report >= PROGRESS_INTERVAL:
            self._last_report = now
            self._runner.progress.emit(self._job.id, done, total)

    def cancelled(self) -> bool:
        return self._job.cancel_requested


class Job:
    """A submitted job's handle: its id (in the runner's signals), name and cancel switch."""

    def __init__(self, job_id: int, name: str):
        self.id, self.name = job_id, name
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop; it returns what it has at its next check (or never starts)."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()


class JobRunner(QObject):
    """Signals are emitted from the job thread; connect QObject methods (queued to the UI)."""

    submitted = Signal(int, str)  # job id, name: emitted by submit, on the caller's thread
    started = Signal(int)  # job id
    progress = Signal(int, int, int)  # job id, done, total
    finished = Signal(int, object)  # job id, fn's result (also after a cancel: fn decides what)
    failed = Signal(int, str)  # job id, a message naming the job

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jobs")
        self._ids = itertools.count(1)
        self._open: dict[int, Job] = {}
        self._current: Job | None = None  # the job running now
        self._lock = threading.Lock()

    def submit(self, name: str, fn: Callable[[JobContext], Any]) -> Job:
        job = Job(next(self._ids), name)
        with self._lock:
            self._open[job.id] = job
        self.submitted.emit(job.id, name)
        self._executor.submit(self._run, job, fn)
        return job

    def job(self, job_id: int) -> Job | None:
        """The job ``job_id`` while it is queued or running (None once it has ended)."""
        with self._lock:
            return self._open.get(job_id)

    def current(self) -> Job | None:
        """The job running now, if any."""
        with self._lock:
            return self._current

    def pending(self) -> list[Job]:
        """The jobs queued or running, oldest first."""
        with self._lock:
            return list(self._open.values())

    def cancel(self, job_id: int) -> bool:
        """Ask job ``job_id`` to stop (see ``Job.cancel``); False if it has already ended."""
        job = self.job(job_id)
        if job is not None:
            job.cancel()
        return job is not None

    def _run(self, job: Job, fn: Callable[[JobContext], Any]) -> None:
        try:
            if job.cancel_requested:
                self.finished.emit(job.id, None)
                return
            with self._lock:
                self._current = job
            self.started.emit(job.id)
            result = fn(JobContext(job, self))
        except Exception as exc:
            log.error("job %r failed:\n%s", job.name, traceback.format_exc())
            self.failed.emit(job.id, f"{job.name} failed: {type(exc).__name__}: {exc}")
        else:
            self.finished.emit(job.id, result)
        finally:
            with self._lock:
                self._open.pop(job.id, None)
                if self._current is job:
                    self._current = None
            release_workers()  # between jobs this thread is idle: its OpenMP team would slow the others

    def shutdown(self) -> None:
        """Cancel every job and wait for the running one to return."""
        with self._lock:
            for job in self._open.values():
                job.cancel()
        self._executor.shutdown(wait=True)

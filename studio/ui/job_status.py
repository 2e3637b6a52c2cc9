"""The status bar's job line: the job running on ``studio.jobs`` (its name, a progress bar and
Cancel), for every panel's long work, including the jobs a panel shows nowhere else (loading a
checkpoint or a data set, building a map)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from studio.runtime.jobs import JobRunner

SHOW_DELAY_MS = 300  # a job shorter than this never shows: no flicker for quick loads


class JobStatusBar(QWidget):
    """Hidden while no job runs. Cancel asks the running job to stop at its next check
    (``context.cancelled()``); the jobs queued behind it go on."""

    def __init__(self, jobs: JobRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.jobs = jobs
        self._names: dict[int, str] = {}  # submitted and not ended
        self.running: int | None = None  # the id of the job on show
        self.label = QLabel("")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(160)
        self.bar.setMaximumHeight(16)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("stop the running job (it stops at its next check; queued jobs go on)")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self._reveal = QTimer(self)
        self._reveal.setSingleShot(True)
        self._reveal.setInterval(SHOW_DELAY_MS)
        self._reveal.timeout.connect(self._show_running)
        jobs.submitted.connect(self._on_submitted)
        jobs.started.connect(self._on_started)
        jobs.progress.connect(self._on_progress)
        jobs.finished.connect(self._on_ended)
        jobs.failed.connect(self._on_ended)
        self.hide()

    def _on_submitted(self, job_id: int, name: str) -> None:
        self._names[job_id] = name
        self._describe()

    def _on_started(self, job_id: int) -> None:
        self.running = job_id
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.cancel_button.setEnabled(True)
        self._describe()
        if not self.isVisible():
            self._reveal.start()

    def _on_progress(self, job_id: int, done: int, total: int) -> None:
        if job_id == self.running:
            self.bar.setRange(0, max(total, 1))
            self.bar.setValue(min(done, max(total, 1)))

    def _on_ended(self, job_id: int, *_result) -> None:
        self._names.pop(job_id, None)
        if job_id == self.running:
            self.running = None
        if self.running is None and not self._names:
            self._reveal.stop()
            self.hide()
        else:
            self._describe()

    def _show_running(self) -> None:
        if self.running is not None:
            self.show()

    def _describe(self) -> None:
        name = self._names.get(self.running, "") if self.running is not None else ""
        waiting = len(self._names) - (self.running is not None)
        queued = f" (+{waiting} queued)" if waiting > 0 else ""
        if self.running is None:
            self.label.setText(f"waiting for the next job{queued}")
        else:
            job = self.jobs.job(self.running)
            cancelling = job is not None and job.cancel_requested
            self.label.setText(f"{'cancelling ' if cancelling else ''}{name}…{queued}")
            self.cancel_button.setEnabled(not cancelling)

    def cancel(self) -> None:
        """Cancel the job on show."""
        if self.running is not None and self.jobs.cancel(self.running):
            self._describe()

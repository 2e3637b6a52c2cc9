"""Progress and Cancel for the panel's encoding jobs (images turned into keyframes)."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from studio.runtime.jobs import Job


class JobStatus(QWidget):
    """Shows the newest running job; Cancel stops every job it tracks. Hidden when idle."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._jobs: dict[int, Job] = {}
        self.label = QLabel("")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(160)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_all)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.hide()

    def track(self, job: Job) -> None:
        self._jobs[job.id] = job
        self.label.setText(job.name + "…")
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.show()

    def owns(self, job_id: int) -> bool:
        return job_id in self._jobs

    def on_progress(self, job_id: int, done: int, total: int) -> None:
        job = self._jobs.get(job_id)
        if job is not None:
            self.label.setText(job.name + "…")
            self.bar.setRange(0, max(total, 1))
            self.bar.setValue(done)

    def done(self, job_id: int) -> Job | None:
        """Forget a finished (or failed) job; returns it if it was ours."""
        job = self._jobs.pop(job_id, None)
        if not self._jobs:
            self.hide()
        return job

    def cancel_all(self) -> None:
        for job in self._jobs.values():
            job.cancel()
        self.label.setText("cancelling…")

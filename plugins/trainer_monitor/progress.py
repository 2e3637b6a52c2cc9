"""Progress bar with steps/s, images/s and time left."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from studio.runtime.training_worker import Progress


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class RunProgress(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setFormat("no run yet")
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.rates = QLabel("not training")
        self.rates.setWordWrap(True)  # in a narrow dock the sample grid, not this line, keeps the width
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.rates)

    def set_progress(self, progress: Progress) -> None:
        self.bar.setFormat("step %v / %m")
        self.bar.setRange(0, max(progress.total_steps, 1))
        self.bar.setValue(min(progress.step, progress.total_steps))
        self.rates.setText(
            f"{progress.steps_per_second:.1f} steps/s · {progress.images_per_second:.0f} images/s · "
            f"ETA {format_duration(progress.eta_seconds)}"
        )

    def set_followed(self, step: int, total: int | None, steps_per_second: float | None,
                     batch_size: int | None, eta_seconds: float | None) -> None:
        """A followed run's progress (``total`` None: unknown, a folder without run.json); the rates
        are left out where they are unknown."""
        if total:
            self.bar.setFormat("step %v / %m")
            self.bar.setRange(0, total)
            self.bar.setValue(min(step, total))
        else:
            self.bar.setFormat(f"step {step}")
            self.bar.setRange(0, max(step, 1))
            self.bar.setValue(step)
        if not steps_per_second:
            self.rates.setText("– steps/s")
            return
        parts = [f"{steps_per_second:.1f} steps/s"]
        if batch_size:
            parts.append(f"{steps_per_second * batch_size:.0f} images/s")
        parts.append(f"ETA {format_duration(eta_seconds)}")
        self.rates.setText(" · ".join(parts))

    def set_status(self, text: str) -> None:
        self.rates.setText(text)

"""Shared set-up for the benchmarks: an offscreen studio in a throw-away home folder."""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LATENT_STUDIO_HOME", tempfile.mkdtemp(prefix="latent-studio-bench-"))


def offscreen_studio(device: str = "cpu"):
    from PySide6.QtWidgets import QApplication

    from studio.app import build_studio

    app = QApplication.instance() or QApplication([])
    studio, window = build_studio(device)
    window.show()
    app.processEvents()
    return app, studio, window


def wait_until(app, condition, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark step did not finish in time")
        app.processEvents()
        time.sleep(0.001)


class StallMeter:
    """Longest gap between ticks of a fast UI-thread timer, minus its own period."""

    def __init__(self, period_ms: int = 5):
        from PySide6.QtCore import QTimer

        self.period = period_ms / 1000
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))
        self.timer.start(period_ms)

    def reset(self) -> None:
        self.ticks.clear()

    def longest_stall_ms(self) -> float:
        if len(self.ticks) < 2:
            return float("nan")
        return max(0.0, float(np.diff(self.ticks).max()) - self.period) * 1000


def percentiles_ms(samples: list[float]) -> dict[str, float]:
    values = np.asarray(samples) * 1000
    return {"p50_ms": round(float(np.percentile(values, 50)), 2), "p95_ms": round(float(np.percentile(values, 95)), 2),
            "n": len(values)}

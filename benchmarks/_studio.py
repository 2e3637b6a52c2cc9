"""Shared set-up for the benchmarks: an offscreen studio in a throw-away home folder."""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np

from studio.runtime.openmp import prepare_environment

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LATENT_STUDIO_HOME", tempfile.mkdtemp(prefix="latent-studio-bench-"))
prepare_environment()  # as the latent-studio command does, before torch is loaded


def offscreen_studio(device: str = "cpu"):
    from PySide6.QtWidgets import QApplication

    from studio.app import build_studio

    app = QApplication.instance() or QApplication([])
    studio, window = build_studio(device)
    window.show()
    app.processEvents()
    return app, studio, window


def as_a_script_would(fn, *args):
    """``fn(*args)`` on a fresh thread: the bare baselines run with torch's usual threads, as a
    script's main thread would, not on the studio's UI thread, which computes serially
    (studio/runtime/openmp.py); the thread's OpenMP team ends with it."""
    import threading

    out = []
    thread = threading.Thread(target=lambda: out.append(fn(*args)), name="bare baseline")
    thread.start()
    thread.join()
    return out[0]


def wait_until(app, condition, timeout: float, wake=()) -> None:
    """Run the UI event loop, as the studio does, until ``condition()`` holds.

    The loop blocks in Qt's dispatcher, so waiting costs no CPU (polling processEvents would take
    cycles from the threads being measured). ``condition`` is checked on the UI thread whenever
    one of the ``wake`` signals arrives there, and every 20 ms.
    """
    from PySide6.QtCore import QEventLoop, QObject, QTimer, Slot

    class Checker(QObject):  # a QObject slot: queued to this thread, not run in the emitter's
        @Slot()
        def check(self):
            if condition():
                loop.quit()

    if condition():
        return
    loop = QEventLoop()
    checker = Checker()
    timed_out = []

    def give_up():
        timed_out.append(True)
        loop.quit()

    poll = QTimer(interval=20, timeout=checker.check)
    deadline = QTimer(singleShot=True, interval=int(timeout * 1000), timeout=give_up)
    for signal in wake:
        signal.connect(checker.check)
    poll.start()
    deadline.start()
    try:
        loop.exec()
    finally:
        poll.stop()
        deadline.stop()
        for signal in wake:
            signal.disconnect(checker.check)
    if timed_out and not condition():
        raise TimeoutError("benchmark step did not finish in time")


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

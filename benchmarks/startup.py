"""Cold start of the studio as `latent-studio` launches it: a fresh Python process each time, from
its start to the main window's first paint with every panel docked (the target: <= 3 s on a 2-core
CPU), then to every bundled panel showing its main view (the bundled models load after the window
is up); and the resident memory at both points.

    .venv/bin/python benchmarks/startup.py [--runs 5]

Prints JSON: per run and the median. The files are in the OS cache after the first run; run 0 is
the coldest this script can make without dropping the system's caches.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAMP_ENV = "LATENT_STUDIO_BENCH_SPAWNED"  # the parent's time.time() just before it spawned the child
READY_TIMEOUT_S = 300


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child() -> None:
    """One launch, as studio.app.run_gui does it, timed from the process's spawn."""
    spawned = float(os.environ[STAMP_ENV])
    from studio.runtime.openmp import prepare_environment

    prepare_environment()  # as the latent-studio command does first
    from PySide6.QtCore import QEvent, QObject, QTimer

    from studio.app import start_gui
    from studio.testing.first_launch import MAIN_VIEWS, panels_showing

    marks: dict[str, float] = {}

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint and "shown_s" not in marks:
                marks["shown_s"] = time.time() - spawned
                marks["rss_shown_mib"] = rss_mib()
            return False

    watcher = FirstPaint()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    app.installEventFilter(watcher)  # the window does not exist yet: watch every paint, keep the first
    app, studio, window = start_gui("cpu")
    marks["panels"] = len(studio.panels)

    def check():
        if panels_showing(studio) == set(MAIN_VIEWS) and "shown_s" in marks:
            marks["ready_s"] = time.time() - spawned
            marks["rss_ready_mib"] = rss_mib()
            app.quit()

    timer = QTimer(interval=20, timeout=check)
    timer.start()
    QTimer.singleShot(READY_TIMEOUT_S * 1000, app.quit)
    app.exec()
    missing = sorted(set(MAIN_VIEWS) - panels_showing(studio))
    window.close()
    studio.shutdown()
    print(json.dumps(marks | {"not_ready": missing}))


def one_run() -> dict:
    env = os.environ | {"QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                        "LATENT_STUDIO_HOME": tempfile.mkdtemp(prefix="latent-studio-startup-")}  # a first launch
    env[STAMP_ENV] = repr(time.time())
    done = subprocess.run([sys.executable, __file__, "--child"], env=env, cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return
    runs = [one_run() for _ in range(args.runs)]
    keys = ("shown_s", "ready_s", "rss_shown_mib", "rss_ready_mib")
    median = {k: round(statistics.median(r[k] for r in runs if k in r), 2) for k in keys}
    print(json.dumps({
        "target": "window shown <= 3 s",
        "cpu_count": os.cpu_count(),
        "median": median,
        "runs": [{k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()} for r in runs],
    }, indent=2))


if __name__ == "__main__":
    main()

"""Following a run folder that another process writes (``latent-studio train``, torchrun on a cluster,
another studio): the monitor's plot, grids, progress and label show it as if it trained here, and
its new checkpoints are loaded into the other panels.

The folder is read by the studio's run follower (``studio.runs``) on its own thread; everything here
runs on the UI thread and touches no file.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QFileDialog, QGridLayout, QGroupBox, QPushButton

from studio import paths
from studio.catalog import data_summary, setup_from_meta
from studio.ml.training.run_folder import StepRate
from studio.runtime.model_loading import submit_model_load
from studio_plugins.trainer_monitor.progress import format_duration

if TYPE_CHECKING:  # pragma: no cover - typing only
    from studio_plugins.trainer_monitor.panel import TrainerMonitorPanel

STALLED_SECONDS = 60  # a "running" run whose log has not grown for this long looks stalled
ALERT_STATUSES = ("diverged", "failed")


def describe_run(folder: Path, info: dict | None, grew_at: float | None, now: float) -> tuple[str, bool]:
    """The monitor's label for a followed run, and whether it looks stalled."""
    lines = [f"following {folder}"]
    info = info or {}
    kind, dataset = info.get("kind"), info.get("dataset")
    if kind and isinstance(dataset, dict):
        try:
            data = f" ({data_summary(dataset)})"
        except (KeyError, TypeError, ZeroDivisionError):
            data = ""
        lines.append(f"{kind} on {dataset.get('name', '?')}{data}")
    if info.get("source") == "checkpoint":
        lines.append("no run.json (an older run folder): described by its checkpoint")
    world = info.get("world_size")
    if world:
        where = f" on {info['host']}" if info.get("host") else ""
        device = f", rank 0 on {info['device']}" if info.get("device") else ""
        backend = f" ({info['backend']})" if info.get("backend") else ""
        lines.append(f"{world} process{'es' if world != 1 else ''}{backend}{where}{device}")
    status = info.get("status")
    stalled = False
    age = max(0.0, now - grew_at) if grew_at is not None else None
    if status:
        text = f"status: {status}"
        if status != "running" and info.get("step") is not None:
            text += f" at step {info['step']}"
        if status != "running" and info.get("ended"):
            text += f", ended {_local_time(info['ended'])}"
        lines.append(text)
    if age is None:
        lines.append("no metrics logged yet")
    elif status in (None, "running") and age >= STALLED_SECONDS:
        stalled = status == "running"
        lines.append(f"no new steps for {format_duration(age)}"
                     + (": the run looks stalled (crashed, killed, or its share is not updating)" if stalled else ""))
    else:
        lines.append(f"log last grew {format_duration(age)} ago")
    return "\n".join(lines), stalled


def _local_time(iso: str) -> str:
    """An ISO 8601 time (run.json's ``started``/``ended``) as this machine's local time."""
    try:
        return datetime.fromisoformat(str(iso)).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(iso)


def status_alert(status: str, message: str | None) -> str:
    """The alert for a run that diverged or failed: run.json's message, saying what happened."""
    if not message:
        return f"the run {status} (run.json gives no message)"
    return message if status in message.lower() else f"the run {status}: {message}"


class AttachBox(QGroupBox):
    """Attach / Detach, load the followed run's checkpoint by hand, and the auto-load switch."""

    def __init__(self, parent=None):
        super().__init__("Run folder", parent)
        self.setToolTip("follow a run that another process writes (latent-studio train, torchrun on a cluster), "
                        "from a local folder or a mounted share")
        self.attach_button = QPushButton("Attach to run folder…")
        self.detach_button = QPushButton("Detach")
        self.load_button = QPushButton("Load checkpoint into panels")
        self.load_button.setToolTip("load the followed run's last.safetensors into the other panels now")
        self.auto_load = QCheckBox("Load new checkpoints into the panels")
        self.auto_load.setChecked(True)
        layout = QGridLayout(self)
        layout.addWidget(self.attach_button, 0, 0)
        layout.addWidget(self.detach_button, 0, 1)
        layout.addWidget(self.load_button, 1, 0, 1, 2)
        layout.addWidget(self.auto_load, 2, 0, 1, 2)


class FollowedRun(QObject):
    """The monitor's side of following a run folder: feeds the panel's widgets from ``studio.runs``
    and loads the run's new checkpoints into the panels as jobs. ``changed`` fires on attach and
    detach (the panel enables its buttons)."""

    changed = Signal()

    def __init__(self, panel: TrainerMonitorPanel):
        super().__init__(panel)
        self.panel = panel
        self.studio = panel.studio
        self.box = AttachBox()
        self.folder: Path | None = None
        self.info: dict | None = None
        self.step: int | None = None
        self.grew_at: float | None = None
        self.checkpoint: str | None = None  # the newest last.safetensors reported
        self.stalled = False
        self.rate = StepRate()
        self._connected = False
        self._status_alert = False  # the alert shows the run's diverged/failed message
        self._loading: tuple[int, str] | None = None  # (job id, checkpoint) loading now
        self._load_next: str | None = None  # a newer checkpoint, reported while one was loading
        self._clock = QTimer(self)
        self._clock.setInterval(1000)  # "log last grew N s ago", and stalled after STALLED_SECONDS
        self._clock.timeout.connect(self.refresh_label)
        self.box.attach_button.clicked.connect(self._ask_folder)
        self.box.detach_button.clicked.connect(self.detach)
        self.box.load_button.clicked.connect(self.load_into_panels)
        self.studio.jobs.finished.connect(self._on_job_finished)
        self.studio.jobs.failed.connect(self._on_job_failed)

    @property
    def attached(self) -> bool:
        return self.folder is not None

    # -- attach and detach ------------------------------------------------------------------------
    def attach(self, folder: Path) -> bool:
        """Follow ``folder``; refused (False, with a message) while the local worker is busy."""
        panel = self.panel
        if self.studio.training.busy:
            panel._on_failed("a training run is going here: stop it before attaching to a run folder "
                             "(Train, Pause and Stop act on the local run)")
            return False
        runs = self._runs()
        self.folder = Path(folder)
        self.info, self.step, self.grew_at, self.checkpoint, self.stalled = None, None, None, None, False
        self.rate.clear()
        self._status_alert = False
        self._load_next = None
        panel.loss_plot.clear()
        panel.samples.clear()
        panel.progress.set_followed(0, None, None, None, None)
        panel.alert.hide()
        runs.follow(self.folder)
        self._clock.start()
        self.refresh_label()
        self.changed.emit()
        self.studio.show_message(f"following the run in {self.folder}")
        return True

    def detach(self, reason: str = "") -> None:
        """Stop following; the plot and grids keep what they show."""
        if self.folder is None:
            return
        folder, self.folder = self.folder, None
        self._load_next = None
        if self.studio.runs.folder == folder:
            self.studio.runs.detach()
        self._clock.stop()
        self.panel.run_label.setText(f"detached from {folder}{f': {reason}' if reason else ''}")
        self.panel.progress.set_status("not following a run")
        self.changed.emit()

    def _ask_folder(self) -> None:
        start = str(self.folder or paths.data_dir())
        folder = QFileDialog.getExistingDirectory(self.panel, "Attach to a run folder", start)
        if folder:
            self.panel.attach_run(Path(folder))

    def _runs(self):
        runs = self.studio.runs
        if not self._connected:  # connected on first use: a studio that follows nothing starts no thread
            self._connected = True
            runs.info.connect(self._on_info)
            runs.records.connect(self._on_records)
            runs.reset.connect(self._on_reset)
            runs.grid.connect(self._on_grid)
            runs.checkpoint.connect(self._on_checkpoint)
            runs.log_grew.connect(self._on_log_grew)
            runs.problem.connect(self._on_problem)
        return runs

    def _mine(self) -> bool:
        """Whether what the follower says now is about our folder (another panel may follow one)."""
        return self.folder is not None and self.studio.runs.folder == self.folder

    # -- what the follower reports ----------------------------------------------------------------
    def _on_info(self, info: dict) -> None:
        if not self._mine():
            return
        self.info = info
        panel = self.panel
        try:
            panel.form.show_setup(setup_from_meta(info))
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            panel._on_failed(f"cannot show the setup of {self.folder}: {type(exc).__name__}: {exc}")
        for key in ("total_steps", "sample_every", "checkpoint_every"):
            value = info.get(key)
            if isinstance(value, int) and value > 0:
                getattr(panel.form, "steps" if key == "total_steps" else key).setValue(value)
        if self.step is None and isinstance(info.get("step"), int):
            self.step = info["step"]
        status = info.get("status")
        if status in ALERT_STATUSES:
            self._status_alert = True
            panel.alert.setText(status_alert(status, info.get("message")))
            panel.alert.show()
            self.studio.show_message(f"the run in {self.folder} {status}", 0)
        elif self._status_alert:
            self._status_alert = False  # resumed: running again
            panel.alert.hide()
        self._show_progress()
        self.refresh_label()

    def _on_records(self, records: list) -> None:
        if not self._mine():
            return
        self.panel.loss_plot.add_records(records)
        self.rate.add(records)
        self.step = records[-1]["step"]
        self._show_progress()

    def _on_reset(self) -> None:
        if not self._mine():
            return
        self.panel.loss_plot.clear()
        self.panel.samples.clear()
        self.rate.clear()
        self.step = None

    def _on_grid(self, step: int, grid) -> None:
        if self._mine():
            self.panel.samples.add_grid(step, grid)

    def _on_checkpoint(self, path: str, step: int) -> None:
        if not self._mine():
            return
        self.checkpoint = path
        self.changed.emit()  # "Load checkpoint into panels" now has something to load
        self.studio.show_message(f"checkpoint at step {step} in {self.folder}", 5000)
        if self.box.auto_load.isChecked():
            self.load_into_panels()

    def _on_log_grew(self, when: float) -> None:
        if self._mine():
            self.grew_at = when
            self.refresh_label()

    def _on_problem(self, message: str) -> None:
        if self._mine():
            self._status_alert = False
            self.panel._on_failed(message)

    # -- showing it -------------------------------------------------------------------------------
    def _show_progress(self) -> None:
        info = self.info or {}
        step = self.step or 0
        total = info.get("total_steps") if isinstance(info.get("total_steps"), int) else None
        rate = self.rate.steps_per_second
        batch = info.get("batch_size") or (info.get("config") or {}).get("batch_size")
        running = info.get("status") in (None, "running")
        eta = (total - step) / rate if rate and total and running and step < total else None
        self.panel.progress.set_followed(step, total, rate, batch if isinstance(batch, int) else None, eta)

    def refresh_label(self) -> None:
        if self.folder is None:
            return
        text, self.stalled = describe_run(self.folder, self.info, self.grew_at, time.time())
        self.panel.run_label.setText(text)

    # -- the run's checkpoints into the other panels ----------------------------------------------------
    def load_into_panels(self) -> None:
        """Load the followed run's newest checkpoint (a job) and publish it in the ModelManager under
        ``model_name_for(path, kind)``, where every panel's model picker finds it."""
        if self.checkpoint is None:
            self.studio.show_message("the followed run has no checkpoint yet")
            return
        if self._loading is not None:
            self._load_next = self.checkpoint  # after the one loading now
            return
        job = submit_model_load(self.studio, self.checkpoint)
        self._loading = (job.id, self.checkpoint)

    def _on_job_finished(self, job_id: int, name) -> None:
        if self._loading is None or self._loading[0] != job_id:
            return
        path = self._loading[1]
        self._loading = None
        if name:
            self.studio.show_message(f"loaded {path} into the panels as {name!r}", 5000)
        self._load_pending()

    def _on_job_failed(self, job_id: int, message: str) -> None:
        if self._loading is None or self._loading[0] != job_id:
            return
        path = self._loading[1]
        self._loading = None
        self._status_alert = False
        self.panel._on_failed(f"could not load {path} into the panels: {message}")
        self._load_pending()

    def _load_pending(self) -> None:
        path, self._load_next = self._load_next, None
        if path is not None and self.attached:
            job = submit_model_load(self.studio, path)
            self._loading = (job.id, path)

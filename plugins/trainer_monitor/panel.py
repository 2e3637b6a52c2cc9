"""The trainer monitor panel: run form on the left; losses, samples and progress on the right."""

from __future__ import annotations

import logging
from dataclasses import fields
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio import paths
from studio.bundle import in_bundle
from studio.catalog import RunSetup, data_summary, setup_from_meta
from studio.runtime.studio import Studio
from studio.runtime.training_worker import RunRequest, RunState
from studio.ui.alert import AlertLabel
from studio.ui.shortcuts import add_shortcut
from studio_plugins.trainer_monitor.attach import FollowedRun
from studio_plugins.trainer_monitor.loss_plot import LossPlot
from studio_plugins.trainer_monitor.progress import RunProgress
from studio_plugins.trainer_monitor.run_form import RunForm
from studio_plugins.trainer_monitor.sample_grid import SampleGridView, draw_seeds

log = logging.getLogger(__name__)

BUNDLED_SAMPLES = "trainer_monitor.bundled"  # our requester name for a bundled model's samples
GRID_SEEDS = 64


class TrainerMonitorPanel(QWidget):
    def __init__(self, studio: Studio, parent=None):
        super().__init__(parent)
        self.studio = studio
        self.worker = studio.training
        self.run_info: dict | None = None  # what run_started said about the current run
        self._resume_from: Path | None = None  # a loaded checkpoint that Train continues
        self._bundled_samples: tuple[int | None, int] = (None, 0)  # request stamp, the model's step

        self.form = RunForm(studio.catalog)
        self.loss_plot = LossPlot()
        self.samples = SampleGridView()
        self.progress = RunProgress()
        self.alert = AlertLabel(bold=True)
        self.run_label = QLabel("")
        self.run_label.setWordWrap(True)
        self.run_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.train_button = QPushButton("Train")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.load_button = QPushButton("Load checkpoint…")
        self.save_button = QPushButton("Save checkpoint…")
        self.log_button = QPushButton("Open metrics log…")
        self.train_button.clicked.connect(self.train)
        self.pause_button.clicked.connect(self._toggle_pause)
        self.stop_button.clicked.connect(self.worker.stop)
        self.load_button.clicked.connect(self._ask_checkpoint)
        self.save_button.clicked.connect(self._ask_save)
        self.log_button.clicked.connect(self._ask_metrics_log)
        self.followed = FollowedRun(self)  # a run folder another process writes
        self.followed.changed.connect(self._update_buttons)

        self._build_layout()
        self._connect_worker()
        self._add_shortcuts()
        self._on_state(self.worker.state.value)

    def _build_layout(self) -> None:
        form_scroll = QScrollArea()
        form_scroll.setWidget(self.form)
        form_scroll.setWidgetResizable(True)
        form_scroll.setMinimumWidth(280)
        controls = QHBoxLayout()
        for button in (self.train_button, self.pause_button, self.stop_button):
            controls.addWidget(button)
        files = QHBoxLayout()
        for button in (self.load_button, self.save_button):
            files.addWidget(button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(form_scroll, 1)
        left_layout.addLayout(controls)
        left_layout.addLayout(files)
        left_layout.addWidget(self.log_button)
        left_layout.addWidget(self.followed.box)

        samples_box = QWidget()
        samples_layout = QVBoxLayout(samples_box)
        samples_layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("<b>Fixed samples</b>")
        title.setToolTip("the same inputs at every sample: fixed z for a generator; (input, output, target) of "
                         "fixed pairs for an image-to-image model")
        samples_layout.addWidget(title)
        samples_layout.addWidget(self.samples, 1)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(samples_box)
        status = QWidget()
        status_layout = QVBoxLayout(status)
        status_layout.setContentsMargins(0, 0, 0, 0)
        status_layout.addWidget(QLabel("<b>Progress</b>"))
        status_layout.addWidget(self.progress)
        status_layout.addWidget(self.alert)
        status_layout.addWidget(self.run_label)
        status_layout.addStretch(1)
        lower.addWidget(status)
        lower.setStretchFactor(0, 3)  # the grid is what the eye goes to: it takes most of a narrow dock
        lower.setStretchFactor(1, 2)
        lower.setSizes([400, 300])

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.loss_plot)
        right.addWidget(lower)
        right.setSizes([350, 450])
        outer = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(left)
        outer.addWidget(right)
        outer.setStretchFactor(1, 1)
        outer.setSizes([320, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(outer)

    def _connect_worker(self) -> None:
        w = self.worker
        w.state_changed.connect(self._on_state)
        w.run_started.connect(self._on_run_started)
        w.metrics.connect(self.loss_plot.add_records)
        w.progress.connect(self.progress.set_progress)
        w.samples.connect(self.samples.add_grid)
        w.checkpoint_saved.connect(self._on_checkpoint)
        w.failed.connect(self._on_failed)
        self.studio.models.model_published.connect(self._on_model_published)
        self.studio.models.result_ready.connect(self._on_bundled_samples)

    # -- actions ------------------------------------------------------------------------------
    def train(self) -> None:
        """Start a new run from the form, or continue the loaded checkpoint."""
        self.alert.hide()
        if self._resume_from is not None:
            setup = self.form.setup()
            bundled = in_bundle(self._resume_from)  # the shipped files stay as they are
            request = RunRequest(
                total_steps=self.form.steps.value(),
                out_dir=paths.new_run_dir(setup.kind, setup.dataset) if bundled else self._resume_from.parent,
                resume_from=self._resume_from,
                sample_every=self.form.sample_every.value(),
                checkpoint_every=self.form.checkpoint_every.value(),
            )
        else:
            setup = self.form.setup()
            if self.studio.catalog.datasets[setup.dataset].needs_path and not setup.dataset_path:
                self._on_failed("choose a folder of images first (Browse…, or drop a folder on the window)")
                return
            request = RunRequest(
                total_steps=self.form.steps.value(),
                out_dir=paths.new_run_dir(setup.kind, setup.dataset),
                setup=setup,
                sample_every=self.form.sample_every.value(),
                checkpoint_every=self.form.checkpoint_every.value(),
            )
        self.progress.set_status("preparing data and model…")
        self.worker.start(request)

    def _toggle_pause(self) -> None:
        if self.worker.state is RunState.PAUSED:
            self.worker.resume()
        else:
            self.worker.pause()

    def load_checkpoint(self, path: Path) -> None:
        """Show a checkpoint's run (settings, losses so far); Train then continues it."""
        from studio.ml.checkpoints import CheckpointError, read_checkpoint_meta

        if self.worker.busy:
            self._on_failed("stop the current run before loading a checkpoint")
            return
        if self._refused_while_attached("loading a checkpoint to continue"):
            return
        try:
            meta = read_checkpoint_meta(path)
            setup = setup_from_meta(meta)
        except (CheckpointError, KeyError, OSError) as exc:
            self._on_failed(f"cannot load {path.name}: {exc}")
            return
        self.form.show_setup(setup)
        step = int(meta.get("step", 0))
        self.form.steps.setValue(max(self.form.steps.value(), step + 1000))
        self._resume_from = Path(path)
        self._show_history(Path(path).parent / "metrics.jsonl", step)
        self.alert.hide()
        self.run_label.setText(f"loaded {path} (step {step}); Train continues it")
        self.train_button.setText("Continue")
        self.studio.show_message(f"loaded checkpoint {path.name} at step {step}")

    def use_image_folder(self, folder: Path) -> None:
        if self._refused_while_attached("choosing training images"):
            return
        self._forget_checkpoint()
        self.form.use_folder(folder)
        self.studio.show_message(f"training data: {folder}")

    def open_metrics_log(self, path: Path) -> None:
        from studio.ml.training.run import read_metrics_log

        if self._refused_while_attached("opening a metrics log"):
            return
        try:
            records = read_metrics_log(path)
        except (OSError, ValueError) as exc:
            self._on_failed(f"cannot read {path.name}: {exc}")
            return
        self.loss_plot.clear()
        self.loss_plot.add_records(records)
        self.run_label.setText(f"showing {path} ({len(records)} steps)")

    # -- a run folder written by another process (attach.py) ------------------------------------
    def attach_run(self, folder: Path) -> bool:
        """Follow the run in ``folder`` live (losses, grids, progress, status; its new checkpoints
        into the other panels). Refused while the local worker trains."""
        if not self.followed.attach(Path(folder)):
            return False
        self._forget_checkpoint()
        return True

    def detach_run(self) -> None:
        self.followed.detach()

    def _refused_while_attached(self, what: str) -> bool:
        if self.followed.attached:
            self._on_failed(f"detach from the followed run ({self.followed.folder}) before {what}")
        return self.followed.attached

    def _forget_checkpoint(self) -> None:
        self._resume_from = None
        self.train_button.setText("Train")

    def _ask_checkpoint(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load checkpoint", str(paths.data_dir()),
                                              "Checkpoints (*.safetensors)")
        if path:
            self.load_checkpoint(Path(path))

    def _ask_save(self) -> None:
        start = self.run_info["out_dir"] if self.run_info else str(paths.data_dir())
        path, _ = QFileDialog.getSaveFileName(self, "Save checkpoint", start, "Checkpoints (*.safetensors)")
        if path:
            self.worker.save_checkpoint(Path(path).with_suffix(".safetensors"))

    def _ask_metrics_log(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open metrics log", str(paths.data_dir()),
                                              "Metrics logs (*.jsonl)")
        if path:
            self.open_metrics_log(Path(path))

    # -- worker signals -----------------------------------------------------------------------
    def _on_state(self, state: str) -> None:
        state = RunState(state)
        self._update_buttons()
        if state is RunState.PAUSED:
            self.progress.set_status("paused")
        elif state is RunState.FINISHED:
            self._forget_checkpoint()

    def _update_buttons(self) -> None:
        """The local run's buttons act on the local worker: disabled while it is busy, or while the
        monitor follows a run folder."""
        state = self.worker.state
        busy = self.worker.busy
        attached = self.followed.attached
        local = not attached
        self.train_button.setEnabled(not busy and local)
        self.form.setEnabled(not busy and local)
        self.load_button.setEnabled(not busy and local)
        self.log_button.setEnabled(local)
        self.pause_button.setEnabled(state in (RunState.RUNNING, RunState.PAUSED) and local)
        self.pause_button.setText("Resume" if state is RunState.PAUSED else "Pause")
        self.stop_button.setEnabled(state in (RunState.RUNNING, RunState.PAUSED) and local)
        self.save_button.setEnabled(self.run_info is not None and state is not RunState.PREPARING and local)
        box = self.followed.box
        box.attach_button.setEnabled(not busy)
        box.detach_button.setEnabled(attached)
        box.load_button.setEnabled(attached and self.followed.checkpoint is not None)

    def _show_history(self, log_path: Path, step: int) -> None:
        """Start the curves and grids afresh, with a run's logged losses up to ``step`` if any."""
        from studio.ml.training.run import read_metrics_log

        self.loss_plot.clear()
        self.samples.clear()
        if step > 0 and log_path.exists():
            self.loss_plot.add_records([r for r in read_metrics_log(log_path) if r.get("step", 0) <= step])

    def _on_run_started(self, info: dict) -> None:
        # any run, started here or by another panel (the switchboard's ablation trains one after another)
        self.followed.detach("a training run started here")
        self._show_history(Path(info["metrics_log"]), info["step"])
        self.run_info = info
        self._forget_checkpoint()
        self.run_label.setText(
            f"{info['kind']} on {info['dataset']['name']} ({data_summary(info['dataset'])}) from step "
            f"{info['step']}\nrun folder: {info['out_dir']}"
        )

    # -- a bundled model's run, on first launch ---------------------------------------------------
    def _on_model_published(self, name: str) -> None:
        loaded = self.studio.models.get(name)
        bundled = loaded.meta.get("bundled") if loaded is not None else None
        idle = (self.run_info is None and self._resume_from is None and not self.worker.busy
                and not self.followed.attached)
        if bundled and bundled.get("history") and idle and not self.samples.steps:
            self.show_bundled_run(name)

    def show_bundled_run(self, name: str) -> None:
        """The losses of the run that trained bundled model ``name``, samples it draws now, and its
        settings in the form (Train starts a new run from them, in a new folder)."""
        loaded = self.studio.models.get(name)
        meta, bundled = loaded.meta, loaded.meta["bundled"]
        self.form.show_setup(RunSetup(**meta["setup"]))
        self.open_metrics_log(Path(bundled["history"]))
        self._bundled_samples = (self.studio.models.submit(BUNDLED_SAMPLES, name, partial(draw_seeds, GRID_SEEDS)),
                                 int(meta["step"]))
        self.run_label.setText(f"bundled model {bundled['name']}: {bundled['description']}, {meta['step']} steps. "
                               "Its losses, and samples of seeds 0-63; Train starts a new run with these settings.")

    def _on_bundled_samples(self, requester: str, stamp: int, grid) -> None:
        mine = requester == BUNDLED_SAMPLES and stamp == self._bundled_samples[0]
        if mine and not self.samples.steps and not self.followed.attached:
            self.samples.add_grid(self._bundled_samples[1], grid)

    def _on_checkpoint(self, path: str, step: int) -> None:
        self.studio.show_message(f"checkpoint at step {step}: {path}", 5000)

    def _on_failed(self, message: str) -> None:
        self.alert.setText(message)
        self.alert.show()
        self.studio.show_message(message, 0)

    # -- shortcuts and sessions (studio/ui/shortcuts.py, studio/ui/sessions.py) -------------------
    def _add_shortcuts(self) -> None:
        """The one training run is the whole studio's: its keys work anywhere in the window (a
        button that is disabled now, such as Train during a run, ignores its key)."""
        add_shortcut(self, "Train / Continue", "F5", self.train_button.click, window_wide=True)
        add_shortcut(self, "Pause / Resume training", "F6", self.pause_button.click, window_wide=True)
        add_shortcut(self, "Stop training", "Shift+F5", self.stop_button.click, window_wide=True)

    def session_state(self) -> dict:
        """The run form (kind, dataset, data format, seed, the kind's parameters, schedule), the
        loaded checkpoint that Train would continue, and the run folder followed."""
        form = self.form
        chosen = form.kind.currentData() is not None and form.dataset.currentData() is not None
        return {
            "setup": form.setup().to_dict() if chosen else None,  # None: no kind or dataset to choose
            "steps": form.steps.value(),
            "sample_every": form.sample_every.value(),
            "checkpoint_every": form.checkpoint_every.value(),
            "continue_from": str(self._resume_from) if self._resume_from is not None else None,
            "attached": str(self.followed.folder) if self.followed.attached else None,
            "load_new_checkpoints": self.followed.box.auto_load.isChecked(),
        }

    def restore_session(self, state: dict) -> None:
        if not state.get("attached"):
            self.followed.detach()
        continue_from = state.get("continue_from")
        if continue_from:
            if Path(continue_from).is_file():
                self.load_checkpoint(Path(continue_from))  # its run's losses; Train continues it
            else:
                self._on_failed(f"the checkpoint the session continued, {continue_from}, is missing")
        if isinstance(state.get("setup"), dict):
            known = {f.name for f in fields(RunSetup)}
            self.form.show_setup(RunSetup(**{k: v for k, v in state["setup"].items() if k in known}))
        for key in ("steps", "sample_every", "checkpoint_every"):
            if key in state:
                getattr(self.form, key).setValue(int(state[key]))
        if "load_new_checkpoints" in state:
            self.followed.box.auto_load.setChecked(bool(state["load_new_checkpoints"]))
        if state.get("attached"):
            self.attach_run(Path(state["attached"]))  # a folder that is gone is reported by the follower

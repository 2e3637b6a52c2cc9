"""The sample sketchbook panel: samples of an image model, a short DCGAN sketch, dropped images.

Threads: the UI thread only arranges widgets. Samples are drawn on the studio's inference thread
(``studio.models.submit``), dropped files are read by a ``studio.jobs`` job and the sketch trains
on the training worker; their signals are connected to methods of this panel, so Qt delivers
them on the UI thread.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from studio import paths
from studio.runtime.training_worker import Progress, RunRequest, RunState
from studio.ui.file_drops import AcceptsFileDrops
from studio.ui.image_view import ImageView
from studio.ui.model_picker import ModelPicker, draws
from studio_example.plugin import IMAGE_EXTENSIONS, PANEL_ID
from studio_example.thumbnails import Thumbnails
from studio_example.work import ReadImages, draw_samples, read_images, sketch_setup

SAMPLES_PER_DRAW = 16
SNAPSHOT_EVERY = 50  # the worker publishes the generator with every sample grid: the picker follows
BUSY = {RunState.PREPARING.value, RunState.RUNNING.value, RunState.PAUSED.value}


def has_latent(module) -> bool:
    """The models this panel can draw from: generators of z with a latent size ``nz``."""
    return isinstance(getattr(module, "nz", None), int)


class SketchbookPanel(AcceptsFileDrops, QWidget):
    samples_shown = Signal(str)  # the model drawn from
    images_read = Signal(int)  # how many of the dropped files were usable

    def __init__(self, studio, parent: QWidget | None = None):
        super().__init__(parent)
        self.studio = studio
        self.samples = None  # the grid on show (uint8 HWC)
        self._stamp: int | None = None  # our newest inference request: older results are ignored
        self._read_jobs: set[int] = set()
        self._run_dir: Path | None = None  # the run we started, until it ends

        self.picker = ModelPicker(studio, accepts=has_latent, accepts_meta=draws(studio, "image"))
        self.seed = QSpinBox()
        self.seed.setMaximum(2**31 - 1)
        self.draw_button = QPushButton("Draw")
        self.view = ImageView("no model yet: train a sketch below, or Load… a checkpoint")
        self.steps = QSpinBox()
        self.steps.setRange(1, 100_000)
        self.steps.setValue(300)
        self.train_button = QPushButton("Train a sketch")
        self.progress = QProgressBar()
        self.thumbnails = Thumbnails()
        self.forget_button = QPushButton("Forget images")
        self.status = QLabel("Drop images here to train on them instead of the shapes.")
        self.status.setWordWrap(True)

        self.setAcceptDrops(True)
        self._build_layout()
        self._connect()

    def _build_layout(self) -> None:
        draw_row = QHBoxLayout()
        draw_row.addWidget(QLabel("seed"))
        draw_row.addWidget(self.seed, 1)
        draw_row.addWidget(self.draw_button)
        train_row = QHBoxLayout()
        train_row.addWidget(QLabel("steps"))
        train_row.addWidget(self.steps, 1)
        train_row.addWidget(self.train_button)
        train = QGroupBox("Sketch a DCGAN")
        train_layout = QVBoxLayout(train)
        train_layout.addLayout(train_row)
        train_layout.addWidget(self.progress)
        train_layout.addWidget(self.thumbnails)
        train_layout.addWidget(self.forget_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.picker)
        layout.addLayout(draw_row)
        layout.addWidget(self.view, 1)
        layout.addWidget(train)
        layout.addWidget(self.status)

    def _connect(self) -> None:
        models, jobs, training = self.studio.models, self.studio.jobs, self.studio.training
        models.result_ready.connect(self._on_result)
        models.request_failed.connect(self._on_request_failed)
        jobs.finished.connect(self._on_job_finished)
        jobs.failed.connect(self._on_job_failed)
        training.state_changed.connect(self._on_training_state)
        training.run_started.connect(self._on_run_started)
        training.progress.connect(self._on_progress)
        training.finished.connect(self._on_run_finished)
        training.failed.connect(self._on_run_failed)
        self.picker.model_changed.connect(self.draw)
        self.seed.valueChanged.connect(self.draw)
        self.draw_button.clicked.connect(self.draw)
        self.train_button.clicked.connect(self.train)
        self.forget_button.clicked.connect(self.thumbnails.clear)

    # -- samples ------------------------------------------------------------------------------
    def draw(self, *_) -> None:
        """Ask for samples of the chosen model; the newest request wins."""
        name = self.picker.current_name()
        if not name:
            self._stamp = None
            self.view.set_image(None)
            return
        self._stamp = self.studio.models.submit(PANEL_ID, name, draw_samples(SAMPLES_PER_DRAW, self.seed.value()))

    def _on_result(self, requester: str, stamp: int, grid) -> None:
        if requester == PANEL_ID and stamp == self._stamp:
            self.samples = grid
            self.view.set_image(grid)
            self.samples_shown.emit(self.picker.current_name())

    def _on_request_failed(self, requester: str, stamp: int, message: str) -> None:
        if requester == PANEL_ID and stamp == self._stamp:
            self._tell(f"drawing samples failed: {message}")

    # -- dropped images -------------------------------------------------------------------------
    def files_dropped(self, files: list[Path]) -> None:
        images = [f for f in files if f.suffix.lower() in IMAGE_EXTENSIONS]
        if len(images) < len(files):
            names = ", ".join(f.name for f in files if f not in images)
            self._tell(f"the sketchbook takes {', '.join(IMAGE_EXTENSIONS)} images, not {names}")
        if images:
            self.add_images(images)

    def add_images(self, files: list[Path]) -> None:
        """Read ``files`` in the background; the usable ones become thumbnails."""
        job = self.studio.jobs.submit(f"reading {len(files)} dropped image(s)", read_images(list(files)))
        self._read_jobs.add(job.id)

    def _on_job_finished(self, job_id: int, result: ReadImages) -> None:
        if job_id not in self._read_jobs:
            return  # another panel's job
        self._read_jobs.discard(job_id)
        for path, thumbnail in result.thumbnails:
            self.thumbnails.add(path, thumbnail)
        if result.errors:
            self._tell("; ".join(result.errors))
        self.images_read.emit(len(result.thumbnails))

    def _on_job_failed(self, job_id: int, message: str) -> None:
        if job_id in self._read_jobs:
            self._read_jobs.discard(job_id)
            self._tell(message)

    # -- training -------------------------------------------------------------------------------
    def train(self) -> None:
        """A short DCGAN run on the dropped images, or on the shapes when there are none."""
        if self.studio.training.busy:
            self._tell("the trainer is busy with another run: wait for it, or stop it in the trainer monitor")
            return
        images = self.thumbnails.paths()
        run_dir = paths.new_run_dir("dcgan", "sketch")
        try:
            setup = sketch_setup(run_dir, images)
        except OSError as exc:  # a dropped file deleted since, a full disk
            self._tell(f"could not copy the dropped images into {run_dir}: {exc}")
            return
        self._run_dir = run_dir
        self.studio.training.start(RunRequest(self.steps.value(), run_dir, setup, sample_every=SNAPSHOT_EVERY))
        on_what = f"{len(images)} dropped image(s)" if images else "the shapes"
        self._tell(f"training a DCGAN sketch on {on_what}…", error=False)

    def _ours(self, out_dir: str) -> bool:
        return self._run_dir is not None and out_dir == str(self._run_dir)

    def _on_training_state(self, state: str) -> None:
        self.train_button.setEnabled(state not in BUSY)

    def _on_run_started(self, info: dict) -> None:
        if self._ours(info["out_dir"]):
            self.progress.setRange(0, info["total_steps"])
            self.progress.setValue(info["step"])

    def _on_progress(self, progress: Progress) -> None:
        if self._run_dir is not None:  # the worker runs one run at a time: while ours lives, it is ours
            self.progress.setValue(progress.step)

    def _on_run_finished(self, out_dir: str) -> None:
        if self._ours(out_dir):
            self._run_dir = None
            self._tell(f"sketch done: pick it above; its checkpoint is in {out_dir}", error=False)

    def _on_run_failed(self, message: str) -> None:
        if self._run_dir is None:
            return
        if not self.studio.training.busy:  # our run failed, or never started; not a failed save
            self._run_dir = None
        self._tell(message)

    def _tell(self, text: str, error: bool = True) -> None:
        self.status.setStyleSheet(f"color: {'#b00020' if error else '#555555'};")
        self.status.setText(text)
        self.studio.show_message(text)

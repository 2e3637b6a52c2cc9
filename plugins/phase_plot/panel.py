"""The "Closed loop" panel: choose a model and start points, run the loop as a job, look at it.

Left: model, start points, Run/Cancel, counts per class (the legend: untick a class to hide it),
Export. Right: the phase plot and the return map; below them the chosen trajectory's verdict and
filmstrip. The loop runs on the job thread; the filmstrip's images on the inference thread, drawn
with the run's own copy of the weights.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.ml.analysis.closed_loop import ClosedLoopResult, filmstrip_steps
from studio.ml.data.image_file import ImageFileError, load_image_file
from studio.runtime.jobs import Job
from studio.runtime.studio import Studio
from studio.ui.alert import AlertLabel
from studio.ui.file_drops import AcceptsFileDrops
from studio.ui.model_picker import ModelPicker
from studio.ui.panel_layout import lay_out_model_panel
from studio.ui.shortcuts import add_shortcut
from studio_plugins.phase_plot.class_counts import ClassCounts
from studio_plugins.phase_plot.export import export_run
from studio_plugins.phase_plot.filmstrip import Filmstrip, describe
from studio_plugins.phase_plot.job import run_plan
from studio_plugins.phase_plot.phase_view import PhasePlot
from studio_plugins.phase_plot.return_map_view import ReturnMapPlot
from studio_plugins.phase_plot.run_bar import RunBar
from studio_plugins.phase_plot.start_form import SOURCE_TITLES, StartForm

REQUESTER = "phase_plot.filmstrip"
CHECK_SIZE = 32  # dropped files are test-read at this size; the run reads them at the model's
LEFT_WIDTH = 230  # pixels of the controls' column
PREFERRED_SIZE = QSize(1100, 460)  # pixels: below ~400 high the plots are too flat to read


def render_filmstrip(result: ClosedLoopResult, index: int, steps: list[int], _module, _device) -> tuple:
    """Inference-thread request: the frames of one trajectory, from the run's own weights."""
    return index, steps, result.images(index, steps).numpy()


class ClosedLoopPanel(AcceptsFileDrops, QWidget):
    def __init__(self, studio: Studio, parent: QWidget | None = None):
        super().__init__(parent)
        self.studio = studio
        self.result: ClosedLoopResult | None = None
        self.result_model: dict = {}  # name and metadata of the model the result came from
        self.selected: int | None = None
        self._job: Job | None = None
        self._job_model: dict = {}  # what result_model becomes when the job finishes
        self._filmstrip_stamp: int | None = None

        self.picker = ModelPicker(studio, accepts=lambda module: hasattr(module, "loop"))
        self.form = StartForm()
        self.run_bar = RunBar()
        self.counts = ClassCounts()
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save phase.png, returnmap.png, the filmstrip and summary.json to a folder")
        self.export_button.setEnabled(False)
        self.alert = AlertLabel()
        self.phase = PhasePlot()
        self.return_map = ReturnMapPlot()
        self.filmstrip = Filmstrip()
        self._build_layout()
        self._connect()
        add_shortcut(self, "Run the closed loop", "Ctrl+Return", self.run_bar.run_button.click)
        self.setAcceptDrops(True)

    def _build_layout(self) -> None:
        classes = QGroupBox("Orbits")
        classes_layout = QVBoxLayout(classes)
        classes_layout.addWidget(self.counts)
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.phase)
        plots.addWidget(self.return_map)
        plots.setSizes([600, 400])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(plots)
        right.addWidget(self.filmstrip)
        right.setStretchFactor(0, 1)
        right.setSizes([500, 150])
        lay_out_model_panel(self, self.picker, [self.form, self.run_bar, classes, self.export_button, self.alert],
                            right, LEFT_WIDTH, 900)

    def sizeHint(self) -> QSize:
        return PREFERRED_SIZE  # a hint, not a minimum: the window may still give the dock less

    def _connect(self) -> None:
        jobs, models = self.studio.jobs, self.studio.models
        jobs.progress.connect(self._on_job_progress)
        jobs.finished.connect(self._on_job_finished)
        jobs.failed.connect(self._on_job_failed)
        models.result_ready.connect(self._on_frames)
        models.request_failed.connect(self._on_frames_failed)
        self.picker.model_changed.connect(self._on_model_changed)
        self.run_bar.run_button.clicked.connect(self.run)
        self.run_bar.cancel_button.clicked.connect(self.cancel)
        self.export_button.clicked.connect(self._ask_export)
        self.phase.trajectory_picked.connect(self.select)
        self.return_map.coordinate_changed.connect(self._show_return_map)
        self.counts.visibility_changed.connect(self.phase.set_kind_visible)
        self.counts.visibility_changed.connect(self.return_map.set_kind_visible)

    # -- running ------------------------------------------------------------------------------
    def run(self) -> None:
        """Start a closed-loop job with the form's choices on the chosen model."""
        loaded = self.picker.current()
        if loaded is None:
            self._report("choose a model with a closed loop first (train a VAE-GAN or load a checkpoint)")
            return
        plan = self.form.plan()
        self.alert.hide()
        self._job_model = {"name": loaded.name, **{k: loaded.meta.get(k) for k in ("kind", "step", "checkpoint")}}
        job_fn = partial(run_plan, plan, loaded.module, loaded.meta, self.studio.datasets)
        self._job = self.studio.jobs.submit(f"closed loop of {loaded.name}", job_fn)
        self.run_bar.set_running(True)
        self.run_bar.set_status(f"running {plan.settings.steps} steps…")

    def _on_model_changed(self, name: str) -> None:
        """A bundled model is run once with the form's defaults, so a first launch shows a phase plot."""
        loaded = self.picker.current()
        if loaded is not None and loaded.meta.get("bundled") and self.result is None and self._job is None:
            self.run()

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self.run_bar.set_status("cancelling…")

    def _mine(self, job_id: int) -> bool:
        return self._job is not None and job_id == self._job.id

    def _on_job_progress(self, job_id: int, done: int, total: int) -> None:
        if self._mine(job_id):
            self.run_bar.set_progress(done, total)

    def _on_job_finished(self, job_id: int, result: ClosedLoopResult | None) -> None:
        if not self._mine(job_id):
            return
        self._job = None
        self.run_bar.set_running(False)
        if result is None:  # cancelled before it started
            self.run_bar.set_status("cancelled")
            return
        self.result_model = self._job_model
        self.show_result(result)

    def _on_job_failed(self, job_id: int, message: str) -> None:
        if self._mine(job_id):
            self._job = None
            self.run_bar.set_running(False)
            self.run_bar.set_status("failed")
            self._report(message)

    # -- showing ------------------------------------------------------------------------------
    def show_result(self, result: ClosedLoopResult) -> None:
        self.result = result
        kinds = [orbit.kind for orbit in result.orbits]
        self.phase.show_trajectories(result.projected(2), kinds, result.projection.explained_variance_ratio)
        self.return_map.set_dimensions(result.states.shape[-1])
        self._show_return_map(*self.return_map.current())
        self.counts.set_counts(result.counts, result.periods())
        timings = result.timings
        text = (f"{len(result.starts)} trajectories x {result.steps} steps ({result.settings.method}) in "
                f"{timings['total']:.1f} s, {timings['per_step_ms']:.1f} ms per step")
        if result.cancelled:
            text = f"cancelled at step {result.steps}: partial result. " + text
        self.run_bar.set_status(text)
        self.export_button.setEnabled(True)
        self.select(0)

    def _show_return_map(self, space: str, index: int) -> None:
        if self.result is not None:
            kinds = [orbit.kind for orbit in self.result.orbits]
            self.return_map.show_values(self.result.coordinate(index, space), kinds)

    def select(self, index: int | None) -> None:
        """Highlight trajectory ``index`` everywhere and ask for its filmstrip."""
        self.selected = index
        self.phase.select(index)
        self.return_map.select(index)
        self.filmstrip.clear_frames()
        if index is None or self.result is None:
            self.filmstrip.set_caption("Click a trajectory in the phase plot")
            return
        result = self.result
        orbit = result.orbits[index] if result.orbits else None
        self.filmstrip.set_caption(describe(index, result.starts.labels[index], orbit))
        steps = filmstrip_steps(orbit, result.steps)
        self._filmstrip_stamp = self.studio.models.submit(
            REQUESTER, self.result_model["name"], partial(render_filmstrip, result, index, steps))

    def _on_frames(self, requester: str, stamp: int, payload: tuple) -> None:
        if requester != REQUESTER or stamp != self._filmstrip_stamp:
            return
        index, steps, images = payload
        if index == self.selected:
            self.filmstrip.show_frames(images, steps)

    def _on_frames_failed(self, requester: str, stamp: int, message: str) -> None:
        if requester == REQUESTER and stamp == self._filmstrip_stamp:
            self._report(f"filmstrip: {message}")

    # -- files --------------------------------------------------------------------------------
    def files_dropped(self, paths: list[Path]) -> None:
        self.drop_files(paths)

    def drop_files(self, paths: list[Path]) -> None:
        """Checkpoints are loaded into the model picker; readable images become start points;
        anything else is named in a message and changes nothing."""
        images, problems = [], []
        for path in paths:
            if path.suffix == ".safetensors":
                self.picker.load_checkpoint(path)
                continue
            try:
                load_image_file(path, CHECK_SIZE, 3)
            except ImageFileError as exc:
                problems.append(str(exc))
            else:
                images.append(path)
        if images:
            self.form.add_files(images)
        if problems:
            self._report("; ".join(problems))
        elif images:
            self.alert.hide()

    # -- export -------------------------------------------------------------------------------
    def _ask_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the closed loop to a folder")
        if folder:
            self.export(Path(folder))

    def export(self, folder: Path) -> list[Path]:
        """phase.png, returnmap.png, filmstrip.png (the chosen trajectory) and summary.json."""
        if self.result is None:
            return []
        written = export_run(folder, self.result, selected=self.selected, hidden=self.phase.hidden,
                             coordinate=self.return_map.current(), frames=self.filmstrip.images,
                             summary=self.result.summary(model=self.result_model))
        self.studio.show_message(f"exported {', '.join(p.name for p in written)} to {folder}")
        return written

    def _report(self, message: str) -> None:
        self.alert.setText(message)
        self.alert.show()
        self.studio.show_message(message)

    # -- sessions (studio/ui/sessions.py) ---------------------------------------------------------
    def session_state(self) -> dict:
        """The model and the start form: where trajectories start, how many, seed, steps, method."""
        form = self.form
        return {"model": self.picker.current_name(), "source": form.source(), "count": form.count.value(),
                "seed": form.seed.value(), "steps": form.steps.value(), "method": form.method.currentText(),
                "files": [str(path) for path in form.files]}

    def restore_session(self, state: dict) -> None:
        form = self.form
        for spin, key in ((form.count, "count"), (form.seed, "seed"), (form.steps, "steps")):
            if key in state:
                spin.setValue(int(state[key]))
        if form.method.findText(str(state.get("method"))) >= 0:
            form.method.setCurrentText(str(state["method"]))
        files = [Path(name) for name in state.get("files", [])]
        form.forget_files()
        if any(path.is_file() for path in files):
            form.add_files([path for path in files if path.is_file()])
        missing = [str(path) for path in files if not path.is_file()]
        if missing:
            self._report(f"start image(s) of the session are missing: {', '.join(missing)}")
        source = state.get("source")
        if source in SOURCE_TITLES and (source != "images" or form.files):
            form.set_source(source)
        self.picker.choose(str(state.get("model") or ""))

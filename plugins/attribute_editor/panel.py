"""The "Attribute editor" panel: a start image moved along a direction model's directions, live.

Left: the model, the start (seed, training image, image file), one slider per direction with Undo
and Reset, export and recipes. Right: start and edited image; below, tabs with the order swap of
two directions and the three methods side by side.

Threads: a slider move sends one batch-1 request to the inference thread under the EDIT
requester, and newest wins, so a drag costs one edit per image shown. The order swap and the
method comparison cost two and three renders; they are asked for only once the sliders have
rested SECONDARY_DELAY_MS, and only for the tab on show, so they never queue in front of the
drag (the inference thread serves requesters in turn). Images become z in a ``studio.jobs`` job
(the encoder, or optimisation) with progress and Cancel; the training images load as a job too.
"""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtCore import QFileSystemWatcher, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QPushButton, QSplitter, QTabWidget, QWidget

from studio.catalog import data_key
from studio.ml.analysis.latent_paths import seed_latent
from studio.ml.data.image_file import ImageFileError, load_image_file
from studio.ml.training.directions_params import METHODS
from studio.runtime.jobs import Job
from studio.runtime.model_manager import LoadedModel
from studio.runtime.studio import Studio
from studio.ui.alert import AlertLabel
from studio.ui.file_drops import AcceptsFileDrops
from studio.ui.model_picker import ModelPicker, draws
from studio.ui.panel_layout import lay_out_model_panel
from studio.ui.shortcuts import add_shortcut
from studio_plugins.attribute_editor import PANEL_ID
from studio_plugins.attribute_editor.direction_sliders import DirectionSliders
from studio_plugins.attribute_editor.edit_view import EditView
from studio_plugins.attribute_editor.factors import FactorNames, factors_path, match_edits, read_factors
from studio_plugins.attribute_editor.method_compare_view import MethodCompareView
from studio_plugins.attribute_editor.order_swap_view import OrderSwapView
from studio_plugins.attribute_editor.recipe_files import RecipeFiles
from studio_plugins.attribute_editor.start_source import StartSource
from studio_plugins.attribute_editor.work import (
    Edited,
    Found,
    Start,
    count_images,
    describe_method,
    invert_image,
    invert_training_image,
    method_models,
    render_edit,
    render_order_swap,
    same_generator,
)

EDIT, SWAP, METHOD = f"{PANEL_ID}.edit", f"{PANEL_ID}.swap", f"{PANEL_ID}.method."  # our requesters
SECONDARY_DELAY_MS = 150
SWAP_STAND_IN = 0.5  # a slider at 0 swaps with this share of its range (see order_swap_view)
LEFT_WIDTH = 340
PREFERRED_SIZE = QSize(1180, 820)
NO_MODEL = ("No direction model yet: train one (kind Latent directions) in the trainer monitor, Load… a "
            "checkpoint above, or drop one on this panel.")


class AttributeEditorPanel(RecipeFiles, AcceptsFileDrops, QWidget):
    """``image_shown(stamp)`` is emitted once an edited image is on screen: a benchmark times a
    slider's move to it."""

    image_shown = Signal(int)

    def __init__(self, studio: Studio, parent: QWidget | None = None):
        super().__init__(parent)
        self.studio = studio
        self._model = ""
        self._factors = FactorNames.unknown(0)
        self._max_shift = 0.0  # the sliders' range, from the model's config
        self._start: Start | None = None
        self._start_drawn = False  # the start image of self._start is on show
        self._stamps: dict[str, int] = {}  # requester -> newest stamp: older results are ignored
        self._shown: dict[str, int] = {}  # requester -> stamp of the result on show
        self._edit_starts: dict[int, Start] = {}  # the start each pending edit request was made from
        self._method_notes: dict[str, str] = {}
        self._swap_fixed = (False, False)
        self._job: Job | None = None  # the running inversion
        self._images_job: int | None = None
        self._images_key: str | None = None
        self._stopped = False
        self.edited: Edited | None = None  # on show
        self.shown_start: Start | None = None  # the start of the image on show

        self.picker = ModelPicker(studio, accepts_meta=draws(studio, "edit"))
        self.source = StartSource()
        self.sliders = DirectionSliders()
        self.png_button = QPushButton("Save PNG…")
        self.recipe_button = QPushButton("Save recipe…")
        self.open_recipe_button = QPushButton("Open recipe…")
        self.alert = AlertLabel()
        self.edit_view = EditView(NO_MODEL)
        self.swap_view = OrderSwapView()
        self.methods_view = MethodCompareView()
        self.tabs = QTabWidget()
        self._secondary_timer = QTimer(self)
        self._secondary_timer.setSingleShot(True)
        self._secondary_timer.setInterval(SECONDARY_DELAY_MS)
        self._watcher = QFileSystemWatcher(self)  # factors.json appears when the evaluation finishes
        self._build_layout()
        self._connect()
        self._add_shortcuts()
        self.setAcceptDrops(True)
        self._on_model_changed(self.picker.current_name())

    def sizeHint(self) -> QSize:
        return PREFERRED_SIZE

    @property
    def edit_stamp(self) -> int | None:
        """The newest edit request's stamp: ``image_shown(edit_stamp)`` means the sliders' edit is on show."""
        return self._stamps.get(EDIT)

    def up_to_date(self, requester: str = EDIT) -> bool:
        """Whether the newest image asked of ``requester`` (EDIT, SWAP or METHOD + a method) is on
        show and none is waiting for the sliders to rest: tests and benchmarks wait on it."""
        waiting = requester != EDIT and self._secondary_timer.isActive()
        stamp = self._stamps.get(requester)
        return not waiting and stamp is not None and self._shown.get(requester) == stamp

    def _build_layout(self) -> None:
        self.png_button.setToolTip("the edited image as a PNG, at the model's size")
        self.recipe_button.setToolTip("the edit as JSON: the model's checkpoint and SHA-256, the start (seed or z) "
                                      "and the edits in order; Open recipe… draws it again")
        self.open_recipe_button.setToolTip("load an edit recipe and draw it (with the model it was made with)")
        export = QGroupBox("Export and recipes")
        grid = QGridLayout(export)
        grid.addWidget(self.png_button, 0, 0)
        grid.addWidget(self.recipe_button, 0, 1)
        grid.addWidget(self.open_recipe_button, 1, 1)
        self.tabs.addTab(self.swap_view, "Order swap")
        self.tabs.addTab(self.methods_view, "Three methods")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.edit_view)
        right.addWidget(self.tabs)
        right.setSizes([400, 380])
        lay_out_model_panel(self, self.picker, [self.source, self.sliders, export, self.alert], right,
                            LEFT_WIDTH, 840)

    def _connect(self) -> None:
        models, jobs = self.studio.models, self.studio.jobs
        self.picker.model_changed.connect(self._on_model_changed)
        self.source.seed_chosen.connect(self.use_seed)
        self.source.training_image_requested.connect(self.invert_training_image)
        self.source.files_requested.connect(self.files_dropped)
        self.source.cancel_requested.connect(self._cancel_job)
        self.sliders.changed.connect(self._render)
        self.swap_view.pair_changed.connect(self._render_secondary)
        self.tabs.currentChanged.connect(lambda _index: self._render_secondary())
        self._secondary_timer.timeout.connect(self._render_secondary)
        self.png_button.clicked.connect(self._ask_export_png)
        self.recipe_button.clicked.connect(self._ask_export_recipe)
        self.open_recipe_button.clicked.connect(self._ask_open_recipe)
        self._watcher.directoryChanged.connect(self._reread_factors)
        self._watcher.fileChanged.connect(self._reread_factors)
        models.result_ready.connect(self._on_result)
        models.request_failed.connect(self._on_request_failed)
        models.model_published.connect(self._on_any_published)
        jobs.progress.connect(self._on_job_progress)
        jobs.finished.connect(self._on_job_finished)
        jobs.failed.connect(self._on_job_failed)

    def stop(self) -> None:
        """The studio is closing: cancel the inversion, stop taking results and reports."""
        self._stopped = True
        self._secondary_timer.stop()
        if self._job is not None:
            self._job.cancel()

    # -- the model --------------------------------------------------------------------------------
    def _loaded(self) -> LoadedModel | None:
        return self.studio.models.get(self._model) if self._model else None

    def _config(self) -> dict:
        loaded = self._loaded()
        return loaded.meta.get("config", {}) if loaded is not None else {}

    def _generator(self) -> str:
        """The generator checkpoint of the model (a z found for an image is only valid with it);
        a model that does not name one has its own name instead: its z stay its own."""
        return str(self._config().get("generator", "") or f"the generator of {self._model}")

    def _on_model_changed(self, name: str) -> None:
        """A new model gets fresh sliders; a newer snapshot of the same one keeps the edit. The
        start is kept where it still means the same image (a seed always; an image's z with the
        same generator)."""
        previous, self._model = self._model, name
        loaded = self._loaded()
        self._stamps.clear()
        self._edit_starts.clear()
        if loaded is None:
            self.edited = self.shown_start = None
            self.sliders.set_directions(0, 1.0)
            self.swap_view.set_directions([])
            self.swap_view.clear("")
            self.source.set_model_ready(False)
            self.source.set_training_images(0)
            self._images_key = self._images_job = None
            self.methods_view.set_models({})
            self.edit_view.clear(NO_MODEL)
            return
        count, max_shift = loaded.module.directions.directions, float(self._config().get("max_shift", 3.0))
        self._factors = read_factors(loaded.meta.get("checkpoint"), count)
        self._watch_factors(loaded.meta.get("checkpoint"))
        if name == previous and len(self.sliders.sliders) == count and self._max_shift == max_shift:
            self.sliders.set_factors(self._factors)
        else:
            self.sliders.set_directions(count, max_shift, self._factors)
        self._max_shift = max_shift
        self.swap_view.set_directions(self.sliders.labels())
        self.source.set_model_ready(True, describe_method(loaded.module))
        self._load_training_images(loaded.meta.get("setup"))
        self._adopt_start(loaded)
        if not self._take_pending_recipe(loaded.meta.get("checkpoint")):
            self._render()

    def _adopt_start(self, loaded: LoadedModel) -> None:
        nz, start = loaded.module.nz, self._start
        if start is not None and start.seed is None:
            if start.z.numel() == nz and same_generator(start.generator, self._generator()):
                self._set_start(start, render=False)
                return
            self.studio.show_message(f"the z of {start.label} was found with another generator: "
                                     f"back to seed {self.source.seed.value()}")
        seed = start.seed if start is not None and start.seed is not None else self.source.seed.value()
        self._set_start(Start(f"seed {seed}", seed_latent(seed, nz), seed, generator=self._generator()), render=False)

    def _on_any_published(self, name: str) -> None:
        """Another direction model may fill (or update) a column of the three methods."""
        if name != self._model and self.tabs.currentWidget() is self.methods_view:
            self._secondary_timer.start()

    def _load_training_images(self, setup: dict | None) -> None:
        """Count the model's training images (loading them into ``studio.datasets``) once per data set."""
        if not setup:
            self._images_key = self._images_job = None
            self.source.set_training_images(0, "unknown data")
            return
        key = data_key(setup)
        if key == self._images_key:
            return
        self._images_key = key
        self.source.set_training_images(0, "loading…")
        self._images_job = self.studio.jobs.submit(f"loading the {setup.get('dataset')} images",
                                                   count_images(self.studio.datasets, setup)).id

    # -- factors.json -----------------------------------------------------------------------------
    def _watch_factors(self, checkpoint: str | None) -> None:
        watched = self._watcher.files() + self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)
        path = factors_path(checkpoint)
        if path is not None and path.parent.is_dir():
            self._watcher.addPath(str(path.parent))
            if path.is_file():
                self._watcher.addPath(str(path))

    def _reread_factors(self, *_) -> None:
        loaded = self._loaded()
        if loaded is None or self._stopped:
            return
        factors = read_factors(loaded.meta.get("checkpoint"), loaded.module.directions.directions)
        if factors != self._factors:
            self._factors = factors
            self.sliders.set_factors(factors)
            self.swap_view.set_directions(self.sliders.labels())
            self._watch_factors(loaded.meta.get("checkpoint"))  # a new file is watched from now on
            self._secondary_timer.start()

    # -- the start --------------------------------------------------------------------------------
    def use_seed(self, seed: int) -> None:
        loaded = self._loaded()
        if loaded is not None:
            self.source.set_seed(seed)
            self._set_start(Start(f"seed {seed}", seed_latent(seed, loaded.module.nz), seed,
                                  generator=self._generator()))

    def _set_start(self, start: Start, render: bool = True) -> None:
        self._start, self._start_drawn = start, False
        detail = f" <span style='color:#777'>({start.detail})</span>" if start.detail else ""
        self.source.show_start(f"start: <b>{start.label}</b>{detail}")
        if render:
            self._render()

    def invert_training_image(self, index: int) -> None:
        loaded = self._loaded()
        setup = loaded.meta.get("setup") if loaded is not None else None
        if loaded is None or not setup:
            self._report("the model's training images are not known")
            return
        job = invert_training_image(self._model, loaded.module, self.studio.datasets, setup, index, self._generator())
        self._start_job(f"{describe_method(loaded.module)} {setup.get('dataset')} #{index}", job)

    def open_image(self, path: Path) -> None:
        """Start from the image file ``path``, read at the model's size, once its z is found. A file
        that is not a usable image is named in the alert and changes nothing."""
        loaded = self._loaded()
        if loaded is None:
            self._report(f"choose a model before opening {path.name}: it is read at the model's size")
            return
        try:
            image = load_image_file(path, *self._image_shape(loaded))
        except ImageFileError as exc:
            self._report(str(exc))
            return
        job = invert_image(self._model, loaded.module, image, path.name, self._generator())
        self._start_job(f"{describe_method(loaded.module)} {path.name}", job)

    def _image_shape(self, loaded: LoadedModel) -> tuple[int, int]:
        config, generator = loaded.meta.get("config", {}), loaded.module.generator
        return (int(config.get("image_size", getattr(generator, "image_size", 32))),
                int(config.get("channels", getattr(generator, "channels", 3))))

    def _start_job(self, name: str, fn) -> None:
        if self._job is not None:
            self._job.cancel()  # the newer image wins
        self._job = self.studio.jobs.submit(name, fn)
        self.source.job_started(name)

    def _cancel_job(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def _on_job_progress(self, job_id: int, done: int, total: int) -> None:
        if self._job is not None and job_id == self._job.id:
            self.source.job_progress(done, total)

    def _on_job_finished(self, job_id: int, result) -> None:
        if self._stopped:
            return
        if job_id == self._images_job:
            self._images_job = None
            if result is None:  # cancelled before it started: loaded again when the model is chosen again
                self._images_key = None
                self.source.set_training_images(0, "cancelled")
            else:
                self.source.set_training_images(int(result))
        elif self._job is not None and job_id == self._job.id:
            self._job = None
            self.source.job_ended()
            self._on_found(result)

    def _on_found(self, found: Found | None) -> None:
        if found is None or found.cancelled:
            self.studio.show_message("cancelled: the start is unchanged")
        elif not same_generator(found.start.generator, self._generator()):
            self.studio.show_message(f"the model changed while finding the z of {found.start.label}: not used")
        else:
            self.alert.hide()
            self._set_start(found.start)

    def _on_job_failed(self, job_id: int, message: str) -> None:
        if self._stopped:
            return
        if job_id == self._images_job:
            self._images_job, self._images_key = None, None
            self.source.set_training_images(0, "unavailable")
            self._report(message)
        elif self._job is not None and job_id == self._job.id:
            self._job = None
            self.source.job_ended()
            self._report(message)

    # -- drawing ----------------------------------------------------------------------------------
    def _submit(self, requester: str, model: str, fn) -> int:
        stamp = self.studio.models.submit(requester, model, fn)
        self._stamps[requester] = stamp
        return stamp

    def _render(self) -> None:
        """The edited image now; the swap or the methods once the sliders rest."""
        if self._stopped or self._loaded() is None or self._start is None:
            return
        start = self._start
        stamp = self._submit(EDIT, self._model, render_edit(start.z, self.sliders.edits(), not self._start_drawn))
        self._edit_starts = {stamp: start}  # older requests' results are dropped anyway
        self._secondary_timer.start()

    def _on_result(self, requester: str, stamp: int, result) -> None:
        if self._stopped or self._stamps.get(requester) != stamp:
            return
        self._shown[requester] = stamp
        if requester == EDIT:
            self._show_edited(result, self._edit_starts.pop(stamp, self._start))
            self.image_shown.emit(stamp)
        elif requester == SWAP:
            self.swap_view.show_swap(result, self._swap_fixed)
        elif requester.startswith(METHOD):
            method = requester[len(METHOD):]
            self.methods_view.show_image(method, result.image, self._method_notes.get(method, ""))

    def _show_edited(self, result: Edited, start: Start) -> None:
        self.edited, self.shown_start = result, start
        if result.start_image is not None:
            self._start_drawn = start is self._start
            detail = f"<br><span style='color:#777'>{start.detail}</span>" if start.detail else ""
            self.edit_view.show_start(result.start_image, f"{start.label}{detail}")
        count = len(result.edits)
        caption = f"{count} edit{'s' if count != 1 else ''} by the {self._config().get('method', '')} directions"
        self.edit_view.show_edited(result.image, caption if count else "no edit: move a slider")

    def _on_request_failed(self, requester: str, stamp: int, message: str) -> None:
        if self._stopped or self._stamps.get(requester) != stamp:
            return
        if requester.startswith(METHOD):
            self.methods_view.show_failure(requester[len(METHOD):], message)
        else:
            self._report(f"{'editing' if requester == EDIT else 'the order swap'} failed: {message}")

    def _render_secondary(self) -> None:
        if self._stopped:
            return
        self._secondary_timer.stop()
        if self.tabs.currentWidget() is self.swap_view:
            self._render_swap()
        else:
            self._render_methods()

    def _render_swap(self) -> None:
        """Directions k and l both ways round, after the other edits (see order_swap_view)."""
        loaded, pair = self._loaded(), self.swap_view.pair()
        if loaded is None or self._start is None:
            self.swap_view.clear("")
            return
        if pair is None:
            self._stamps.pop(SWAP, None)
            one = loaded.module.directions.directions < 2
            self.swap_view.clear("this model has one direction: nothing to swap" if one
                                 else "choose two different directions")
            return
        k, l = pair  # noqa: E741
        amounts = (self.sliders.amount(k), self.sliders.amount(l))
        stand_in = SWAP_STAND_IN * self._max_shift
        self._swap_fixed = (amounts[0] == 0.0, amounts[1] == 0.0)
        tk, tl = (amount if amount != 0.0 else stand_in for amount in amounts)
        others = [(j, t) for j, t in self.sliders.edits() if j not in pair]
        self._submit(SWAP, self._model, render_order_swap(self._start.z, others, k, tk, l, tl))

    def _render_methods(self) -> None:
        """The edit on show by each method's model of the same generator, from the same z."""
        if self._loaded() is None or self._start is None:
            self.methods_view.set_models({})
            return
        manager = self.studio.models
        loaded = [(name, model.meta) for name in manager.names() if (model := manager.get(name)) is not None]
        found = method_models(loaded, self._generator(), self._model, METHODS)
        self.methods_view.set_models(found, self._model)
        edits = self.sliders.edits()
        for method, name in found.items():
            model = manager.get(name) if name else None
            if model is None:
                self._stamps.pop(METHOD + method, None)
                continue
            if name == self._model:
                mapped, notes = list(edits), ["the edit as shown"]
            else:
                count = model.module.directions.directions
                other = read_factors(model.meta.get("checkpoint"), count)
                mapped, notes = match_edits(edits, self._factors, other, count)
            amounts = ", ".join(f"#{k} {t:+.2f}" for k, t in mapped) or "no edit"
            matched = "; ".join(notes) if name != self._model and edits else ""
            self._method_notes[method] = (f"{name}<br>{amounts}" +
                                          (f"<br><span style='color:#777'>{matched}</span>" if matched else ""))
            self._submit(METHOD + method, name, render_edit(self._start.z, mapped))

    # -- dropped files ----------------------------------------------------------------------------
    def files_dropped(self, paths: list[Path]) -> None:
        """A checkpoint is loaded, a .json opened as a recipe, an image becomes the start."""
        paths = [Path(p) for p in paths]
        checkpoints = [p for p in paths if p.suffix.lower() == ".safetensors"]
        recipes = [p for p in paths if p.suffix.lower() == ".json"]
        images = [p for p in paths if p not in checkpoints and p not in recipes]
        if checkpoints:
            self.picker.load_checkpoint(checkpoints[-1])
        if recipes:
            self.open_recipe(recipes[-1])
        elif images:
            self.open_image(images[0])
            if len(images) > 1:
                self.studio.show_message(f"starting from {images[0].name}; drop one image at a time")

    def _report(self, message: str) -> None:
        self.alert.setText(message)
        self.alert.show()
        self.studio.show_message(message)

    # -- shortcuts and sessions (studio/ui/shortcuts.py, studio/ui/sessions.py) -------------------
    def _add_shortcuts(self) -> None:
        """Common keys, so they act only while the focus is in this panel."""
        add_shortcut(self, "Reset sliders", "Ctrl+R", self.sliders.reset_button.click)
        add_shortcut(self, "Undo the last slider change", "Ctrl+Z", self.sliders.undo_button.click)
        add_shortcut(self, "Save PNG…", "Ctrl+E", self.png_button.click)

    def session_state(self) -> dict:
        """The model, the seed box, the start (its seed, or its z with the generator it belongs
        to), the edit (sliders in the order they were moved) and the tab on show."""
        start, saved = self._start, None
        if start is not None:
            saved = {"label": start.label, "seed": start.seed, "detail": start.detail, "generator": start.generator,
                     "z": None if start.seed is not None else [float(x) for x in start.z.tolist()]}
        return {"model": self.picker.current_name(), "seed": self.source.seed.value(), "start": saved,
                "edits": [[k, t] for k, t in self.sliders.edits()], "tab": self.tabs.currentIndex()}

    def restore_session(self, state: dict) -> None:
        """The seed box and tab now; the start and the edit once the model is chosen."""
        if "seed" in state:
            self.source.set_seed(int(state["seed"]))
        if 0 <= int(state.get("tab", -1)) < self.tabs.count():
            self.tabs.setCurrentIndex(int(state["tab"]))
        self.picker.choose(str(state.get("model") or ""), then=lambda: self._restore_edit(state))

    def _restore_edit(self, state: dict) -> None:
        loaded = self._loaded()
        if loaded is None:
            return
        nz, saved, start = loaded.module.nz, state.get("start") or {}, None
        if saved.get("seed") is not None:
            seed = int(saved["seed"])
            start = Start(f"seed {seed}", seed_latent(seed, nz), seed, generator=self._generator())
        elif saved.get("z") is not None:
            z = torch.tensor(saved["z"], dtype=torch.float32)
            if z.numel() == nz and same_generator(str(saved.get("generator", "")), self._generator()):
                start = Start(str(saved.get("label", "the session's z")), z, None, str(saved.get("detail", "")),
                              self._generator())
            else:
                self._report(f"the session's start, {saved.get('label')}, was found with another generator: "
                             f"starting from seed {self.source.seed.value()}")
        if start is not None:
            self._set_start(start, render=False)
        try:
            self.sliders.set_edits(state.get("edits", []), undoable=False)  # draws
        except (IndexError, TypeError, ValueError) as exc:
            self._report(f"the session's edit does not fit {self._model}: {exc}")
            self._render()

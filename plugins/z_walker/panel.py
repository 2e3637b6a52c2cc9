"""The z-space walker panel: keyframes on the left, the walk on the right, novelty below.

Threads: the UI thread only arranges widgets. The image under the slider, the path's frames and
nearest-neighbour searches go to ``studio.models.submit`` (newest request wins, so a drag costs
one forward pass per frame drawn); turning images into keyframes and indexing the training set
are ``studio.jobs`` jobs with progress and Cancel. The functions they run live in ``work.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QGroupBox, QLabel, QSplitter, QVBoxLayout, QWidget

from studio.catalog import data_key
from studio.ml.analysis.latent_paths import seed_latent
from studio.ml.analysis.novelty import Neighbours, NoveltyReference
from studio.ml.analysis.path_export import save_gif, save_strip
from studio.runtime.model_manager import LoadedModel
from studio.runtime.studio import Studio
from studio.ui.file_drops import AcceptsFileDrops
from studio.ui.model_picker import ModelPicker, draws
from studio.ui.shortcuts import add_shortcut
from studio_plugins.z_walker import PANEL_ID
from studio_plugins.z_walker.job_status import JobStatus
from studio_plugins.z_walker.keyframe_list import KeyframeList
from studio_plugins.z_walker.novelty_view import NoveltyView
from studio_plugins.z_walker.pca_plot import PcaPlot
from studio_plugins.z_walker.sources import KeyframeSources
from studio_plugins.z_walker.walk_view import WalkView
from studio_plugins.z_walker.work import (
    EncodeResult,
    Keyframe,
    PathResult,
    PointResult,
    build_reference,
    describe_method,
    encode_dataset_images,
    encode_files,
    nearest_of,
    render_path,
    render_point,
)

POINT, PATH, NEAREST = PANEL_ID, f"{PANEL_ID}/path", f"{PANEL_ID}/nearest"  # our requester names
NEAREST_DELAY_MS = 150  # search the training set once the slider has rested this long
DETAILS_MS = 100  # while the slider moves: how often the PCA map and novelty follow the point
FIRST_WALK_SEEDS = (0, 1, 2, 3)  # the keyframes a bundled model starts with
NO_MODEL = ("No model yet: train one in the trainer monitor, or Load… a checkpoint above "
            "(or drop a .safetensors file on this panel).")
NO_KEYFRAMES = "Add keyframes on the left: a seed, a training image, or drop image files on this panel."


def walks(module) -> bool:
    """The models this panel can walk: generators with a latent size."""
    return isinstance(getattr(module, "nz", None), int)


class ZWalkerPanel(AcceptsFileDrops, QWidget):
    """``point_shown(s)`` is emitted once the image at path position ``s`` is on screen: a benchmark
    times a slider move to it (benchmarks/walker_latency.py)."""

    point_shown = Signal(float)

    def __init__(self, studio: Studio, parent: QWidget | None = None):
        super().__init__(parent)
        self.studio = studio
        self._model = ""
        self._reference: NoveltyReference | None = None
        self._reference_key: str | None = None  # the training set indexed (or being indexed)
        self._reference_job: int | None = None
        self._dataset_name = ""
        self._path: PathResult | None = None
        self._point: PointResult | None = None
        self._stamps: dict[str, int] = {}  # requester -> newest stamp: older results are ignored
        self._stopped = False  # set when the studio closes: late results and reports are ignored

        self.picker = ModelPicker(studio, accepts=walks, accepts_meta=draws(studio, "image"))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        self.job_status = JobStatus()
        self.sources = KeyframeSources()
        self.keyframes = KeyframeList()
        self.walk = WalkView(NO_MODEL)
        self.scrubber = self.walk.scrubber
        self.novelty = NoveltyView()
        self.pca = PcaPlot()
        self._nearest_timer = QTimer(self)
        self._nearest_timer.setSingleShot(True)
        self._nearest_timer.setInterval(NEAREST_DELAY_MS)
        # while the slider moves, the point's place on the PCA map and its novelty follow at most
        # every DETAILS_MS: repainting them costs ~5 ms, as much as drawing the point itself
        self._details_timer = QTimer(self, singleShot=True, interval=DETAILS_MS, timeout=self._show_point_details)

        self.setAcceptDrops(True)
        self._build_layout()
        self._restore_state()
        self._connect()
        add_shortcut(self, "Play / pause the walk", "Space", self.scrubber.play_button.click)
        self._on_model_changed(self.picker.current_name())

    # -- layout -------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        keys = QGroupBox("Keyframes")
        keys_layout = QVBoxLayout(keys)
        keys_layout.addWidget(self.sources)
        keys_layout.addWidget(self.keyframes, 1)

        novelty = QGroupBox("Is it novel? Nearest training image")
        QVBoxLayout(novelty).addWidget(self.novelty)
        pca = QGroupBox("PCA of pixels: training images and the path")
        QVBoxLayout(pca).addWidget(self.pca)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(keys)
        top.addWidget(self.walk)
        top.setStretchFactor(1, 1)
        top.setSizes([260, 460])
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(novelty)
        bottom.addWidget(pca)
        bottom.setSizes([360, 360])
        outer = QSplitter(Qt.Orientation.Vertical)
        outer.addWidget(top)
        outer.addWidget(bottom)
        outer.setStretchFactor(0, 3)  # the walk first; novelty and PCA take what is left
        outer.setStretchFactor(1, 2)
        outer.setSizes([540, 360])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.picker)
        layout.addWidget(self.message)
        layout.addWidget(self.job_status)
        layout.addWidget(outer, 1)

    def _connect(self) -> None:
        models, jobs = self.studio.models, self.studio.jobs
        models.result_ready.connect(self._on_result)
        models.request_failed.connect(self._on_request_failed)
        jobs.finished.connect(self._on_job_finished)
        jobs.failed.connect(self._on_job_failed)
        jobs.progress.connect(self.job_status.on_progress)
        self.picker.model_changed.connect(self._on_model_changed)
        self.sources.seed_requested.connect(self.add_seed)
        self.sources.dataset_image_requested.connect(self.add_training_image)
        self.sources.files_requested.connect(self.add_image_files)
        self.keyframes.changed.connect(self._path_changed)
        self.walk.path_changed.connect(self._path_changed)
        self.walk.export_to.connect(self._export_to)
        self.scrubber.position_changed.connect(self._render_point)
        self._nearest_timer.timeout.connect(self._ask_nearest)
        for signal in self.walk.settings_signals():
            signal.connect(self._save_state)

    def stop(self) -> None:
        """The studio is closing: stop playback and stop taking results and job reports."""
        self._stopped = True
        self.scrubber.stop()
        self._nearest_timer.stop()
        self.job_status.cancel_all()

    # -- remembered settings -----------------------------------------------------------------
    def _restore_state(self) -> None:
        settings = self.studio.settings
        settings.beginGroup(PANEL_ID)
        try:
            self.walk.restore(settings)
        finally:
            settings.endGroup()

    def _save_state(self, *_) -> None:
        settings = self.studio.settings
        settings.beginGroup(PANEL_ID)
        self.walk.save(settings)
        settings.endGroup()

    # -- the model ----------------------------------------------------------------------------
    def _loaded(self) -> LoadedModel | None:
        return self.studio.models.get(self._model) if self._model else None

    def _on_model_changed(self, name: str) -> None:
        previous, self._model = self._model, name
        loaded = self._loaded()
        if loaded is None:
            self.sources.set_model_ready(False)
            self._path_changed()
            return
        self.sources.set_model_ready(True, describe_method(loaded.module))
        if name != previous and len(self.keyframes):
            self._adopt_keyframes(loaded.module.nz)
        elif loaded.meta.get("bundled") and not len(self.keyframes):  # a first launch shows a walk
            self.keyframes.blockSignals(True)  # one redraw, below
            for seed in FIRST_WALK_SEEDS:
                self.add_seed(seed)
            self.keyframes.blockSignals(False)
        self._index_training_images(loaded.meta.get("setup"))
        self._path_changed()  # also for a newer snapshot of the same model: redraw everything

    def _adopt_keyframes(self, nz: int) -> None:
        """Keyframes for another model: seeds are re-drawn at its latent size; images were encoded
        by the old model, so they go (the user adds them again)."""
        kept = [Keyframe(k.label, seed_latent(k.seed, nz).numpy(), seed=k.seed)
                for k in self.keyframes.keyframes() if k.seed is not None]
        dropped = len(self.keyframes) - len(kept)
        self.keyframes.blockSignals(True)  # one redraw, from _on_model_changed
        self.keyframes.replace(kept)
        self.keyframes.blockSignals(False)
        if dropped:
            self._tell(f"{dropped} image keyframe(s) were encoded by the previous model and were removed; "
                       "add them again for this one", error=False)

    def _index_training_images(self, setup: dict | None) -> None:
        """Load and index the model's training images once per training set (a job)."""
        if not setup:
            self._set_reference(None, None)
            self.novelty.set_status("this model does not record its training data")
            self.pca.clear("no training data known for this model")
            return
        key = data_key(setup)
        if key == self._reference_key:
            return  # indexed, or being indexed
        self._set_reference(None, key)
        self._dataset_name = str(setup.get("dataset", "training"))
        self.novelty.set_status(f"loading the {self._dataset_name} training images…")
        self.pca.clear(f"indexing the {self._dataset_name} training images…")
        job = self.studio.jobs.submit(f"indexing {self._dataset_name} images",
                                      build_reference(self.studio.datasets, setup))
        self._reference_job = job.id

    def _set_reference(self, reference: NoveltyReference | None, key: str | None) -> None:
        self._reference, self._reference_key = reference, key
        self.sources.set_training_images(len(reference.images) if reference is not None else 0)
        if reference is not None:
            self.novelty.set_typical(reference.typical)
            self.pca.set_training(reference.training_xy, reference.pca.explained_variance_ratio, self._dataset_name)

    # -- keyframes ----------------------------------------------------------------------------
    def add_seed(self, seed: int) -> None:
        loaded = self._loaded()
        if loaded is None:
            self._tell("load a model before adding keyframes")
            return
        z = seed_latent(seed, loaded.module.nz).numpy()
        self.keyframes.add([Keyframe(f"seed {seed}", z, seed=seed)])

    def add_training_image(self, index: int) -> None:
        loaded, reference = self._loaded(), self._reference
        if loaded is None or reference is None:
            self._tell("the training images are not loaded yet")
            return
        if not 0 <= index < len(reference.images):
            self._tell(f"there is no training image #{index}: {self._dataset_name} has {len(reference.images)}")
            return
        job_fn = encode_dataset_images(self._model, loaded.module, reference, [index], self._dataset_name)
        self._start_encoding(f"{describe_method(loaded.module)} {self._dataset_name} #{index}", job_fn)

    def add_image_files(self, files: list[Path]) -> None:
        """Images as keyframes (a job): read as the model's inputs, then encoded or inverted.
        A file that is not a usable image is reported by name and adds nothing."""
        loaded = self._loaded()
        if loaded is None:
            self._tell(f"load a model before adding {', '.join(Path(f).name for f in files)}")
            return
        shape = _input_shape(loaded)
        if shape is None:
            self._tell(f"{self._model} does not say what size its images are; cannot read image files for it")
            return
        names = ", ".join(Path(f).name for f in files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        job_fn = encode_files(self._model, loaded.module, [Path(f) for f in files], *shape)
        self._start_encoding(f"{describe_method(loaded.module)} {names}", job_fn)

    def _start_encoding(self, name: str, job_fn) -> None:
        self.job_status.track(self.studio.jobs.submit(name, job_fn))

    def _on_encoded(self, result: EncodeResult | None) -> None:
        if result is None:
            self._tell("cancelled before it started: no keyframes added", error=False)
            return
        if result.errors:
            self._tell("; ".join(result.errors) + ("" if result.keyframes else ". Nothing was added."))
        if result.cancelled:
            self._tell("cancelled: no keyframes added", error=False)
        elif result.model != self._model:
            self._tell(f"the model changed while encoding: {len(result.keyframes)} keyframe(s) not added", error=False)
        elif result.keyframes:
            if not result.errors:
                self.message.hide()
            self.keyframes.add(result.keyframes)

    # -- drawing ------------------------------------------------------------------------------
    def _submit(self, requester: str, fn) -> None:
        self._stamps[requester] = self.studio.models.submit(requester, self._model, fn)

    def _path_changed(self, *_) -> None:
        self._path, self._point = None, None
        self._stamps.clear()  # results of the old path are no longer wanted
        self._nearest_timer.stop()
        ready = self._loaded() is not None and len(self.keyframes) > 0
        self.walk.set_ready(ready, NO_KEYFRAMES if self._loaded() is not None else NO_MODEL)
        if not ready:
            self.novelty.show_generated(None, "generated")
            self.pca.set_path(None)
            self.pca.set_current(None)
            return
        latents = self.keyframes.latents()
        self._submit(PATH, render_path(latents, self.walk.frame_count(), self.walk.mode_name(), self._reference))
        self._render_point(self.scrubber.position())

    def _render_point(self, s: float) -> None:
        if self._loaded() is None or len(self.keyframes) == 0:
            return
        self._nearest_timer.stop()
        self._stamps.pop(NEAREST, None)  # a search still running is for the image being replaced
        self._submit(POINT, render_point(self.keyframes.latents(), s, self.walk.mode_name(), self._reference))

    def _on_result(self, requester: str, stamp: int, result) -> None:
        if self._stopped or self._stamps.get(requester) != stamp:
            return  # another panel's, or overtaken by a newer request of ours
        if requester == POINT:
            self._show_point(result)
        elif requester == PATH:
            self._show_path(result)
        elif requester == NEAREST and self._reference is not None:
            self._show_nearest(result)

    def _show_point(self, point: PointResult) -> None:
        self._point = point
        self.walk.view.set_image(point.image)
        if not self.scrubber.moving():
            self._show_point_details()
        elif not self._details_timer.isActive():
            self._details_timer.start()
        self.point_shown.emit(point.s)

    def _show_point_details(self) -> None:
        point = self._point
        if point is None:
            return
        self.novelty.show_generated(point.image, f"generated at s = {point.s:.3f}")
        self.pca.set_current(point.xy)
        self._update_nearest()

    def _show_path(self, path: PathResult) -> None:
        self._path = path
        self.keyframes.set_thumbnails(path.keyframe_images)
        self.walk.show_strip(path.frames)
        self.pca.set_path(path.xy, path.keyframe_xy)
        self._update_nearest()

    def _update_nearest(self) -> None:
        """The shown image's nearest training image: from the path's own search when the image is
        one of its frames, else searched for once the slider rests."""
        point, path = self._point, self._path
        if point is None or self._reference is None:
            return
        if path is not None and path.neighbours is not None:
            frame = np.flatnonzero(np.isclose(path.positions, point.s, rtol=0, atol=1e-6))
            if len(frame):
                self._show_nearest(Neighbours(path.neighbours.index[frame], path.neighbours.distance[frame]))
                return
        self._nearest_timer.start()

    def _ask_nearest(self) -> None:
        if self._point is not None and self._reference is not None and self._loaded() is not None:
            self._submit(NEAREST, nearest_of(self._point.image, self._reference))

    def _show_nearest(self, found: Neighbours) -> None:
        index = int(found.index[0])
        self.novelty.show_nearest(self._reference.images[index], index, float(found.distance[0]))

    # -- export -------------------------------------------------------------------------------
    def export_strip(self, path: Path) -> Path | None:
        """The path's frames side by side as a PNG; None (with a message) when there is no path."""
        frames = self._frames_to_export()
        return None if frames is None else self._saved(save_strip(frames, path, self.walk.export_scale.value()))

    def export_gif(self, path: Path) -> Path | None:
        """The path's frames as a GIF that loops forever, at the playback speed."""
        frames = self._frames_to_export()
        if frames is None:
            return None
        return self._saved(save_gif(frames, path, self.scrubber.fps.value(), self.walk.export_scale.value()))

    def _frames_to_export(self):
        if self._path is None:
            self._tell("nothing to export yet: add keyframes and wait for the path to be drawn")
            return None
        return self._path.frames

    def _saved(self, path: Path) -> Path:
        self.studio.show_message(f"saved {len(self._path.frames)} frames to {path}")
        return path

    def _export_to(self, kind: str, path: Path) -> None:
        try:
            (self.export_strip if kind == "strip" else self.export_gif)(path)
        except OSError as exc:
            self._tell(f"could not write {path.name}: {exc}")

    # -- drops --------------------------------------------------------------------------------
    def files_dropped(self, paths: list[Path]) -> None:
        self.take_files(paths)

    def take_files(self, files: list[Path]) -> None:
        """Dropped files: a checkpoint becomes the model, anything else is tried as an image."""
        checkpoints = [f for f in files if f.suffix.lower() == ".safetensors"]
        images = [f for f in files if f.suffix.lower() != ".safetensors"]
        if checkpoints:
            self.picker.load_checkpoint(checkpoints[-1])
        if images:
            self.add_image_files(images)

    # -- services' signals --------------------------------------------------------------------
    def _on_request_failed(self, requester: str, stamp: int, message: str) -> None:
        if not self._stopped and self._stamps.get(requester) == stamp:
            self._tell(f"drawing the walk failed: {message}")

    def _on_job_finished(self, job_id: int, result) -> None:
        if self._stopped:
            return
        if job_id == self._reference_job:
            self._reference_job = None
            if isinstance(result, NoveltyReference):
                self._set_reference(result, self._reference_key)
                self._path_changed()  # redraw with nearest images and PCA coordinates
            else:  # cancelled: indexed again when a model of that data is chosen again
                self._reference_key = None
                self.novelty.set_status("indexing the training images was cancelled")
                self.pca.clear("indexing the training images was cancelled")
        elif self.job_status.done(job_id) is not None:
            self._on_encoded(result)

    def _on_job_failed(self, job_id: int, message: str) -> None:
        if self._stopped:
            return
        if job_id == self._reference_job:
            self._reference_job = None
            self.novelty.set_status(message)
            self.pca.clear(message)
            self._tell(message)
        elif self.job_status.done(job_id) is not None:
            self._tell(message)

    def _tell(self, text: str, error: bool = True) -> None:
        colour = "#b00020" if error else "#555555"
        self.message.setStyleSheet(f"color: {colour}; font-weight: {'bold' if error else 'normal'};")
        self.message.setText(text)
        self.message.show()
        self.studio.show_message(text)

    # -- sessions (studio/ui/sessions.py) -----------------------------------------------------
    def session_state(self) -> dict:
        """The model, the keyframes (their z, so image keyframes need no image), the slider's
        position and the path's settings."""
        walk = self.walk
        keyframes = [{"label": k.label, "z": [float(x) for x in k.z], "detail": k.detail, "seed": k.seed}
                     for k in self.keyframes.keyframes()]
        return {"model": self.picker.current_name(), "keyframes": keyframes, "position": self.scrubber.position(),
                "mode": walk.mode_name(), "frames": walk.frames.value(), "fps": self.scrubber.fps.value(),
                "loop": self.scrubber.loop.isChecked(), "export_scale": walk.export_scale.value()}

    def restore_session(self, state: dict) -> None:
        """The path's settings now; the keyframes and position once the model is chosen."""
        walk = self.walk
        if "mode" in state:
            walk.mode.setCurrentIndex(max(walk.mode.findData(state["mode"]), 0))
        for spin, key in ((walk.frames, "frames"), (self.scrubber.fps, "fps"), (walk.export_scale, "export_scale")):
            if key in state:
                spin.setValue(int(state[key]))
        if "loop" in state:
            self.scrubber.loop.setChecked(bool(state["loop"]))
        self.picker.choose(str(state.get("model") or ""), then=lambda: self._restore_keyframes(state))

    def _restore_keyframes(self, state: dict) -> None:
        loaded = self._loaded()
        if loaded is None:
            return
        nz, kept, dropped = loaded.module.nz, [], 0
        for saved in state.get("keyframes", []):
            seed = saved.get("seed")
            z = np.asarray(saved.get("z", []), dtype=np.float32)
            if seed is not None and z.shape != (nz,):
                z = seed_latent(int(seed), nz).numpy()  # a seed means the same at any latent size
            if z.shape != (nz,):
                dropped += 1
                continue
            kept.append(Keyframe(str(saved.get("label", "")), z, str(saved.get("detail", "")),
                                 None if seed is None else int(seed)))
        self.keyframes.replace(kept)  # redraws the path; the scrubber is re-spaced for its frames
        slider = self.scrubber.slider
        slider.setValue(round(min(max(float(state.get("position", 0.0)), 0.0), 1.0) * slider.maximum()))
        if dropped:
            self._tell(f"{dropped} keyframe(s) of the session have another latent size than {self._model}: "
                       "not restored", error=False)


def _input_shape(loaded: LoadedModel) -> tuple[int, int] | None:
    """(image size, channels) of the model's images, from its config (or the generator itself)."""
    config = loaded.meta.get("config", {})
    generator = getattr(loaded.module, "generator", loaded.module)
    size = config.get("image_size", getattr(generator, "image_size", None))
    channels = config.get("channels", getattr(generator, "channels", None))
    return (int(size), int(channels)) if size and channels else None


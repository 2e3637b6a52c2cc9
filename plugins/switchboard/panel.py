"""The "Concat switchboard" panel: a side -> frontal U-Net with its latents switched on and off.

Left: model, input (a pair of the model's data or a dropped image, and a colour probe), the five
latent switches, the figure 5/6 buttons. Right: input, output, target and |difference| with the
MSE; below, tabs with the one-on/one-off grid and the skip ablation.

A switch or a new input sends one batch-1 request to the inference thread (the input already a
float tensor there: the request is the forward alone) and newest wins, so a storm of clicks costs
one forward per image shown. The grids go to the inference thread under their own requester; the
model's pairs load as a job; the ablation trains through the studio's one TrainingWorker.
"""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QSplitter, QTabWidget, QWidget

from studio.catalog import RunSetup, data_key
from studio.ml.analysis.image_table import save_image_table
from studio.ml.analysis.switchboard import mask_label
from studio.ml.data.image_file import ImageFileError, load_image_file
from studio.ml.data.paired import PairedImages
from studio.ml.models.unet import SKIPPABLE
from studio.ml.training.unet import spread
from studio.runtime.model_manager import LoadedModel
from studio.runtime.studio import Studio
from studio.ui.alert import AlertLabel
from studio.ui.file_drops import AcceptsFileDrops
from studio.ui.model_picker import ModelPicker, draws
from studio.ui.panel_layout import lay_out_model_panel
from studio.ui.shortcuts import add_shortcut
from studio_plugins.switchboard import PANEL_ID
from studio_plugins.switchboard.ablation_box import AblationBox
from studio_plugins.switchboard.comparison_view import ComparisonView
from studio_plugins.switchboard.input_source import InputSource
from studio_plugins.switchboard.latent_toggles import LatentToggles
from studio_plugins.switchboard.mask_grid_view import GridButtons, MaskGridView
from studio_plugins.switchboard.work import (
    NO_PROBE,
    MaskGrid,
    ShownInput,
    Translation,
    load_pairs,
    render_mask_grid,
    shown_input,
    translate_shown,
)

OUTPUT, GRID = f"{PANEL_ID}.output", f"{PANEL_ID}.grid"  # our requesters: one newest-wins queue each
GRID_TEST_PAIRS = 3  # rows of a grid after the input on show
LEFT_WIDTH = 290
PREFERRED_SIZE = QSize(1150, 760)
NO_MODEL = ("No U-Net yet: train one (kind U-Net) in the trainer monitor, Load… a checkpoint above, "
            "or run the ablation below.")


class SwitchboardPanel(AcceptsFileDrops, QWidget):
    """``output_shown(stamp)`` is emitted once a translation is on screen: a benchmark times a
    switch's click to it."""

    output_shown = Signal(int)

    def __init__(self, studio: Studio, parent: QWidget | None = None):
        super().__init__(parent)
        self.studio = studio
        self._model = ""
        self._skips: tuple[int, ...] | None = None
        self._pairs_key: str | None = None  # the pairs loaded (or loading)
        self._pairs_job: int | None = None
        self._stamps: dict[str, int] = {}  # requester -> newest stamp: older results are ignored
        self.dropped: tuple[Path, torch.Tensor] | None = None  # a dropped image, uint8 (C, H, W)
        self.shown: ShownInput | None = None
        self.translation: Translation | None = None

        self.picker = ModelPicker(studio, accepts_meta=draws(studio, "translation"))
        self.source = InputSource()
        self.toggles = LatentToggles()
        self.grid_buttons = GridButtons()
        self.alert = AlertLabel()
        self.comparison = ComparisonView(NO_MODEL)
        self.grid_view = MaskGridView()
        self.ablation = AblationBox(studio)
        self.tabs = QTabWidget()
        self._build_layout()
        self._connect()
        self._add_shortcuts()
        self.setAcceptDrops(True)
        self._on_model_changed(self.picker.current_name())

    def sizeHint(self) -> QSize:
        return PREFERRED_SIZE

    def _build_layout(self) -> None:
        self.tabs.addTab(self.grid_view, "One on / one off")
        self.tabs.addTab(self.ablation, "Ablation (Tables 1-4)")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.comparison)
        right.addWidget(self.tabs)
        right.setStretchFactor(1, 1)  # spare height to the grid and the table: the images keep whole factors
        right.setSizes([270, 480])
        lay_out_model_panel(self, self.picker, [self.source, self.toggles, self.grid_buttons, self.alert],
                            right, LEFT_WIDTH, 860)

    def _connect(self) -> None:
        studio = self.studio
        self.picker.model_changed.connect(self._on_model_changed)
        self.source.changed.connect(self._input_changed)
        self.toggles.changed.connect(lambda _keep: self._render())
        self.grid_buttons.requested.connect(self.show_mask_grid)
        self.grid_view.export_clicked.connect(self._ask_export_grid)
        studio.models.result_ready.connect(self._on_result)
        studio.models.request_failed.connect(self._on_request_failed)
        studio.jobs.finished.connect(self._on_job_finished)
        studio.jobs.failed.connect(self._on_job_failed)

    # -- the model --------------------------------------------------------------------------------
    def _loaded(self) -> LoadedModel | None:
        return self.studio.models.get(self._model) if self._model else None

    def _on_model_changed(self, name: str) -> None:
        """A new model resets the switches (those it lacks disabled); a newer snapshot of the same
        one keeps them unless its skips changed. The input is kept where the data allows."""
        previous, self._model = self._model, name
        loaded = self._loaded()
        if loaded is None:
            self._skips, self.shown, self.translation = None, None, None
            self._pairs_key = self._pairs_job = None  # a model on the same data loads them again
            self.toggles.set_model_skips(None)
            self.source.set_pairs(None, "no model yet")
            self.comparison.clear(NO_MODEL)
            self.ablation.set_setup(None, "")
            return
        skips = tuple(getattr(loaded.module, "skips", SKIPPABLE))
        if name != previous or skips != self._skips:
            self.toggles.set_model_skips(skips)
        self._skips = skips
        self.source.set_colour(self._image_shape()[1] == 3)
        setup = loaded.meta.get("setup")
        self.ablation.set_setup(RunSetup(**setup) if setup else None, f"the data of {name}" if setup else "")
        self._load_pairs(setup)
        if self.dropped is not None and not self._read_image(self.dropped[0]):  # at this model's size
            self.dropped = None
            self.source.set_dropped(None)
        self._input_changed()

    def _image_shape(self) -> tuple[int, int]:
        """(size, channels) of the chosen model's images."""
        loaded = self._loaded()
        config = loaded.meta.get("config", {})
        return (int(getattr(loaded.module, "image_size", config.get("image_size", 64))),
                int(getattr(loaded.module, "channels", config.get("channels", 3))))

    def _load_pairs(self, setup: dict | None) -> None:
        """The model's own pairs, loaded once per data set (a job)."""
        if not setup:
            self._pairs_key, self._pairs_job = None, None
            self.source.set_pairs(None, "this model does not say what it was trained on: drop an image")
            return
        key = data_key(setup)
        if key == self._pairs_key:
            return
        self._pairs_key = key
        self.source.set_pairs(None, f"loading the {setup['dataset']} pairs…")
        self._pairs_job = self.studio.jobs.submit(f"loading the {setup['dataset']} pairs",
                                                  load_pairs(self.studio.datasets, setup)).id

    # -- the input and its translation ------------------------------------------------------------
    def _input_changed(self) -> None:
        """Prepare the input on show (probe applied) and ask for its translation."""
        if self._loaded() is None:
            return
        probe = self.source.current_probe()
        if self.source.dropped_name is None:
            self.dropped = None  # the user went back to the pairs
        if self.dropped is not None:
            path, image = self.dropped
            label, target = path.name, None
        else:
            index = self.source.pair_index()
            if index is None:
                self.shown = None
                self.comparison.clear(self.source.pair_label.text() or NO_MODEL)
                return
            pairs = self.source.pairs
            label, image, target = pairs.labels[index], pairs.inputs[index], pairs.targets[index]
        self.shown = shown_input(label, image, target, probe)
        caption = label if probe == NO_PROBE else f"{label}, {probe}"
        self.comparison.show_input(self.shown.input_image(), caption, self.shown.target_image())
        self._render()

    def _render(self) -> None:
        if self.shown is not None and self._model:
            self._stamps[OUTPUT] = self.studio.models.submit(OUTPUT, self._model,
                                                             translate_shown(self.shown, self.toggles.keep()))

    def _on_result(self, requester: str, stamp: int, result) -> None:
        if self._stamps.get(requester) != stamp:
            return
        if requester == OUTPUT:
            self.translation = result
            self.comparison.show_translation(result, mask_label(result.keep))
            self.output_shown.emit(stamp)
        elif requester == GRID:
            self.grid_view.show_grid(result)

    def _on_request_failed(self, requester: str, stamp: int, message: str) -> None:
        if self._stamps.get(requester) == stamp:
            self._report(f"{'translating' if requester == OUTPUT else 'the grid'} failed: {message}")

    # -- figures 5 and 6 --------------------------------------------------------------------------
    def show_mask_grid(self, mode: str) -> None:
        """"one-on" or "one-off" for the input on show and GRID_TEST_PAIRS test pairs (same probe)."""
        if self.shown is None:
            self._report("choose a model and an input first")
            return
        shown = [self.shown]
        pairs, probe = self.source.pairs, self.shown.probe
        if pairs is not None:
            split = "test" if pairs.test.any() else "train"
            chosen = [i for i in spread(pairs.indices(split), GRID_TEST_PAIRS + 1).tolist()
                      if i != self.source.pair_index()][:GRID_TEST_PAIRS]
            shown += [shown_input(pairs.labels[i], pairs.inputs[i], None, probe) for i in chosen]
        rows = [s.label if probe == NO_PROBE else f"{s.label}, {probe}" for s in shown]
        inputs = torch.cat([s.input for s in shown])
        self._stamps[GRID] = self.studio.models.submit(GRID, self._model,
                                                       render_mask_grid(inputs, rows, mode, self._model))
        self.grid_view.clear(f"computing the {mode} grid…")
        self.tabs.setCurrentWidget(self.grid_view)

    def _ask_export_grid(self) -> None:
        grid = self.grid_view.grid
        if grid is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export the grid", f"{grid.mode}.png", "PNG images (*.png)")
        if path:
            self.export_grid(Path(path))

    def export_grid(self, path: Path) -> Path | None:
        """The grid on show, with its column and row titles, as a PNG (2x enlarged)."""
        grid: MaskGrid | None = self.grid_view.grid
        if grid is None:
            return None
        try:
            written = save_image_table(grid.images, grid.columns, path.with_suffix(".png"), rows=grid.rows)
        except OSError as exc:
            self._report(f"could not write {path.name}: {exc}")
            return None
        self.studio.show_message(f"exported {written}")
        return written

    # -- dropped files ----------------------------------------------------------------------------
    def files_dropped(self, paths: list[Path]) -> None:
        """A checkpoint is loaded into the picker; an image becomes the input (without a target)."""
        checkpoints = [p for p in paths if p.suffix.lower() == ".safetensors"]
        images = [p for p in paths if p.suffix.lower() != ".safetensors"]
        if checkpoints:
            self.picker.load_checkpoint(checkpoints[-1])
        if images:
            self.open_image(images[0])
            if len(images) > 1:
                self.studio.show_message(f"showing {images[0].name}; drop one image at a time")

    def open_image(self, path: Path) -> None:
        """Translate the image file ``path``, read at the model's size and channels. A file that is
        not a usable image is named in a message and changes nothing."""
        if self._loaded() is None:
            self._report(f"choose a model before dropping {path.name}: it is read at the model's size")
        elif self._read_image(path):
            self.alert.hide()
            self.source.set_dropped(path.name)
            self._input_changed()

    def _read_image(self, path: Path) -> bool:
        try:
            self.dropped = (path, load_image_file(path, *self._image_shape()))
        except ImageFileError as exc:
            self._report(str(exc))
            return False
        return True

    # -- jobs -------------------------------------------------------------------------------------
    def _on_job_finished(self, job_id: int, pairs) -> None:
        if job_id == self._pairs_job:
            self._pairs_job = None
            if isinstance(pairs, PairedImages):
                self.source.set_pairs(pairs)
                self._input_changed()
            else:  # cancelled: loaded again when a model of that data is chosen again
                self._pairs_key = None
                self.source.set_pairs(None, "loading the pairs was cancelled: choose the model again, or drop an image")

    def _on_job_failed(self, job_id: int, message: str) -> None:
        if job_id == self._pairs_job:
            self._pairs_job, self._pairs_key = None, None
            self.source.set_pairs(None, "the model's pairs could not be loaded: drop an image")
            self._report(message)

    def _report(self, message: str) -> None:
        self.alert.setText(message)
        self.alert.show()
        self.studio.show_message(message)

    # -- shortcuts and sessions (studio/ui/shortcuts.py, studio/ui/sessions.py) -------------------
    def _add_shortcuts(self) -> None:
        """Keys no other panel uses: they work anywhere in the window while the switchboard is on show."""
        add_shortcut(self, "All skips on", "Ctrl+Shift+A", lambda: self.toggles.set_skips(True), window_wide=True)
        add_shortcut(self, "All skips off (bottleneck only)", "Ctrl+Shift+N", lambda: self.toggles.set_skips(False),
                     window_wide=True)

    def session_state(self) -> dict:
        """The model, the latent switches, the input (split, pair, probe, or a dropped image's path)
        and the ablation's choices."""
        source = self.source
        return {"model": self.picker.current_name(), "keep": list(self.toggles.keep()),
                "split": source.split.currentText(), "position": source.position.value(),
                "probe": source.current_probe(), "dropped": str(self.dropped[0]) if self.dropped is not None else None,
                "ablation": {"variants": list(self.ablation.variants()), "steps": self.ablation.steps.value()}}

    def restore_session(self, state: dict) -> None:
        """The ablation's choices now; the switches and the input once the model is chosen, the
        pair once its pairs are loaded."""
        ablation = state.get("ablation") or {}
        if "variants" in ablation:
            for skips, box in self.ablation.checks.items():
                box.setChecked(skips in ablation["variants"])
        if "steps" in ablation:
            self.ablation.steps.setValue(int(ablation["steps"]))
        self._session_pair = None
        self.picker.choose(str(state.get("model") or ""), then=lambda: self._restore_input(state))

    def _restore_input(self, state: dict) -> None:
        if "keep" in state:
            self.toggles.set_keep([bool(on) for on in state["keep"]])
        probe = str(state.get("probe", NO_PROBE))
        if self.source.probe.isEnabled() and self.source.probe.findText(probe) >= 0:
            self.source.probe.setCurrentText(probe)
        dropped = state.get("dropped")
        if dropped and Path(dropped).is_file():
            self.open_image(Path(dropped))
            return
        if dropped:
            self._report(f"the image the session showed is missing: {dropped}")
        self._session_pair = (str(state.get("split", "")), int(state.get("position", 0)))
        if not getattr(self, "_waits_for_pairs", False):
            self._waits_for_pairs = True
            self.studio.jobs.finished.connect(self._restore_pair)  # after _on_job_finished shows the pairs
        self._restore_pair()

    def _restore_pair(self, *_job) -> None:
        if getattr(self, "_session_pair", None) is None or self.source.pairs is None:
            return
        (split, position), self._session_pair = self._session_pair, None
        if self.source.split.findText(split) >= 0:
            self.source.split.setCurrentText(split)
        self.source.position.setValue(position)

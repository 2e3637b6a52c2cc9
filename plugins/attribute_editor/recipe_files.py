"""The attribute editor's files: the edited image as PNG, and edit recipes written and replayed.

A mixin of the panel (kept apart so that the panel reads as what it shows): it uses the panel's
model (``_loaded``, ``_model``, ``picker``), the image on show (``edited``, ``shown_start``), the
sliders, ``_set_start`` and ``_report``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog

from studio.ml.analysis.edit_recipe import EditRecipe, RecipeError, check_model, file_sha256
from studio_plugins.attribute_editor.work import Start


class RecipeFiles:
    """Export and recipes; ``open_recipe`` finds (or loads) the model a recipe was made with."""

    _pending_recipe: tuple[EditRecipe, Path, Path] | None = None  # (recipe, its file, the checkpoint loading)
    _hashes: dict[tuple, str] | None = None  # (path, mtime, size) -> SHA-256

    def _ask_export_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the edited image", "edited.png", "PNG images (*.png)")
        if path:
            self.export_png(Path(path))

    def _ask_export_recipe(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the edit recipe", "edit.json", "Edit recipes (*.json)")
        if path:
            self.export_recipe(Path(path))

    def _ask_open_recipe(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an edit recipe", "", "Edit recipes (*.json);;All files (*)")
        if path:
            self.open_recipe(Path(path))

    def export_png(self, path: Path) -> Path | None:
        """The edited image on show, at the model's size."""
        from PIL import Image

        if self.edited is None:
            self._report("nothing to export yet: choose a model")
            return None
        pixels = self.edited.image.permute(1, 2, 0).numpy()
        path = path.with_suffix(".png")
        try:
            Image.fromarray(np.ascontiguousarray(pixels[..., 0] if pixels.shape[2] == 1 else pixels)).save(path)
        except OSError as exc:
            self._report(f"could not write {path.name}: {exc}")
            return None
        self.studio.show_message(f"exported {path}")
        return path

    def current_recipe(self) -> EditRecipe | None:
        """The recipe of the image on show."""
        loaded, edited, start = self._loaded(), self.edited, self.shown_start
        if loaded is None or edited is None or start is None:
            return None
        checkpoint = str(loaded.meta.get("checkpoint") or "")
        sha = self._sha256(checkpoint) if checkpoint and Path(checkpoint).is_file() else ""
        z = None if start.seed is not None else [float(x) for x in start.z.tolist()]
        return EditRecipe(checkpoint, sha, loaded.module.method, [tuple(e) for e in edited.edits], start.seed, z,
                          self.sliders.labels())

    def export_recipe(self, path: Path) -> Path | None:
        recipe = self.current_recipe()
        if recipe is None:
            self._report("nothing to export yet: choose a model")
            return None
        try:
            written = recipe.save(path.with_suffix(".json"))
        except OSError as exc:
            self._report(f"could not write {path.name}: {exc}")
            return None
        unsaved = "" if recipe.checkpoint_sha256 else " (the model has no checkpoint file: the recipe cannot name it)"
        self.studio.show_message(f"exported {written}{unsaved}")
        return written

    def open_recipe(self, path: Path) -> bool:
        """Draw the recipe at ``path`` with the model it was made with: the one on show or another
        loaded one if its checkpoint's SHA-256 matches, else its checkpoint is loaded first. A
        recipe that is unreadable or made with another model is named in the alert."""
        try:
            recipe = EditRecipe.load(path)
        except RecipeError as exc:
            self._report(str(exc))
            return False
        name = self._model_for(recipe)
        if name is not None:
            if name != self._model:
                self.picker.combo.setCurrentText(name)  # _on_model_changed runs now
            return self._apply_recipe(recipe, path)
        checkpoint = Path(recipe.checkpoint) if recipe.checkpoint else None
        try:
            if checkpoint is not None and checkpoint.is_file():
                check_model(recipe, checkpoint)  # the file at that path may have been trained on since
                self._pending_recipe = (recipe, path, checkpoint)
                self.picker.load_checkpoint(checkpoint)
                self.studio.show_message(f"loading {checkpoint} for {path.name}…")
                return True
            current = self._loaded().meta.get("checkpoint") if self._loaded() is not None else None
            if current and Path(current).is_file():
                check_model(recipe, current)
            raise RecipeError(f"it was made with a {recipe.method} model from {recipe.checkpoint or 'no file'}; "
                              "load that checkpoint first")
        except RecipeError as exc:
            self._report(f"{path.name}: {exc}")
            return False

    def _model_for(self, recipe: EditRecipe) -> str | None:
        """The loaded direction model the recipe was made with (the one on show first)."""
        names = [self._model] * bool(self._model) + [n for n in self.studio.models.names() if n != self._model]
        for name in names:
            loaded = self.studio.models.get(name)
            if loaded is None or loaded.meta.get("kind") != "directions" or loaded.module.method != recipe.method:
                continue
            checkpoint = str(loaded.meta.get("checkpoint") or "")
            if recipe.checkpoint_sha256:
                if checkpoint and Path(checkpoint).is_file() and self._sha256(checkpoint) == recipe.checkpoint_sha256:
                    return name
            elif name == self._model or same_path(checkpoint, recipe.checkpoint):
                return name  # a recipe of a model never saved: the one on show, if its method fits
        return None

    def _apply_recipe(self, recipe: EditRecipe, path: Path) -> bool:
        loaded = self._loaded()
        try:
            if loaded is None:
                raise RecipeError("no model to draw it with")
            if recipe.method != loaded.module.method:
                raise RecipeError(f"it was made with a {recipe.method} model, not a {loaded.module.method} one")
            z = recipe.start_latent(loaded.module.nz)[0]
            count = loaded.module.directions.directions
            if any(not 0 <= k < count for k, _t in recipe.edits):
                raise RecipeError(f"it edits directions the model lacks (it has {count})")
        except RecipeError as exc:
            self._report(f"{path.name}: {exc}")
            return False
        if recipe.seed is not None:
            self.source.set_seed(recipe.seed)
        label = f"seed {recipe.seed}" if recipe.seed is not None else f"the z of {path.name}"
        self._set_start(Start(label, z, recipe.seed, f"recipe {path.name}", self._generator()), render=False)
        self.sliders.set_edits(recipe.edits)  # draws
        self.alert.hide()
        self.studio.show_message(f"replaying {path.name}")
        return True

    def _sha256(self, path: str) -> str:
        """The checkpoint's SHA-256, computed once per version of the file."""
        if self._hashes is None:
            self._hashes = {}
        stat = os.stat(path)
        key = (os.path.realpath(path), stat.st_mtime_ns, stat.st_size)
        if key not in self._hashes:
            self._hashes[key] = file_sha256(path)
        return self._hashes[key]

    def _take_pending_recipe(self, checkpoint) -> bool:
        """Replay the recipe that waited for ``checkpoint`` to load, if it did."""
        pending = self._pending_recipe
        if pending is None or not same_path(checkpoint, pending[2]):
            return False
        self._pending_recipe = None
        self._apply_recipe(pending[0], pending[1])
        return True


def same_path(a, b) -> bool:
    return bool(a) and bool(b) and os.path.realpath(str(a)) == os.path.realpath(str(b))


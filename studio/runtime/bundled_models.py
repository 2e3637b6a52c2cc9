"""Loading the bundled models (``checkpoints/``, see :mod:`studio.bundle`) into a running studio.

One job loads them in the manifest's order and publishes each as soon as it is ready, so every
panel's model picker takes the first bundled model that fits it while the rest still load. A
bundled model's metadata carries ``meta["bundled"]`` (its name, description and, for the trainer
monitor, the thinned loss history of its run). A file that is missing, altered or unreadable is
reported by name and skipped; the others still load.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from studio.bundle import BundledModel, BundleError, bundle_dir, check_file, read_manifest
from studio.runtime.model_loading import load_model_with_cached_data
from studio.runtime.model_manager import model_name_for

if TYPE_CHECKING:  # pragma: no cover - typing only
    from studio.runtime.jobs import Job, JobContext
    from studio.runtime.studio import Studio

log = logging.getLogger(__name__)


def bundled_model_name(model: BundledModel) -> str:
    return model_name_for(model.path, model.kind)


def read_bundle(studio: Studio) -> list[BundledModel]:
    """The bundled models' manifest (cheap: no weights are read); [] when there is no bundle, and
    a message when its manifest is unreadable."""
    folder = bundle_dir()
    if folder is None:
        return []
    try:
        return read_manifest(folder)
    except BundleError as exc:
        studio.show_message(str(exc), 0)
        return []


def load_bundled_models(studio: Studio) -> Job | None:
    """Start loading ``studio.bundle`` in a job (None when it is empty)."""
    if not studio.bundle:
        return None
    return studio.jobs.submit(f"loading {len(studio.bundle)} bundled models", _loader(studio, list(studio.bundle)))


def _loader(studio: Studio, models: list[BundledModel]):
    def load(context: JobContext) -> list[str]:
        loaded: list[str] = []
        for done, model in enumerate(models):
            if context.cancelled():
                break
            context.progress(done, len(models))
            try:
                check_file(model)
                module, meta = load_model_with_cached_data(studio, model.path)
            except Exception as exc:  # one bad file must not keep the others out
                log.warning("bundled model %s not loaded", model.path, exc_info=True)
                studio.show_message(f"bundled model {model.file} not loaded: {exc}", 0)
                continue
            meta["bundled"] = {"name": model.name, "description": model.description,
                               "history": str(model.history_path) if model.history_path else None}
            studio.models.publish(bundled_model_name(model), module, meta)
            loaded.append(model.name)
        context.progress(len(models), len(models))
        return loaded

    return load

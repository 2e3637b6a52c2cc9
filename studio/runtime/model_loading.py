"""Loading a checkpoint's model into the studio: one job body for every place that does it (a
panel's model picker, a session being restored, the trainer monitor following a run)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from studio.runtime.model_manager import model_name_for

if TYPE_CHECKING:  # pragma: no cover - typing only
    from studio.runtime.jobs import Job, JobContext
    from studio.runtime.studio import Studio


def load_model_job(studio: Studio, path: Path | str, name: str | None = None) -> Callable[[JobContext], str | None]:
    """A job (``studio.jobs.submit``) that loads the model saved in checkpoint ``path`` and publishes
    it in ``studio.models`` as ``name`` (default ``model_name_for(path, kind)``), with its training
    data in ``studio.datasets``; it returns the name, or None when cancelled before publishing.

    The data come from the DatasetCache, so loading one run's checkpoints again and again (a
    followed run writes one every few hundred steps) builds its data once."""
    path = Path(path)

    def load(context: JobContext) -> str | None:
        context.progress(0, 1)
        module, meta = load_model_with_cached_data(studio, path)
        if context.cancelled():
            return None  # not published: the studio is as before
        published = name or model_name_for(path, meta["kind"])
        studio.models.publish(published, module, meta)
        context.progress(1, 1)
        return published

    return load


def load_model_with_cached_data(studio: Studio, path: Path) -> tuple:
    """(inference model, metadata) of checkpoint ``path``, its training data taken from (and left in)
    the studio's DatasetCache. Call it from a job: it builds the data the first time."""
    from studio.catalog import setup_from_meta
    from studio.ml.checkpoints import read_checkpoint_meta

    dataset = studio.datasets.get(setup_from_meta(read_checkpoint_meta(path)))
    module, meta, _ = studio.catalog.load_model(path, studio.models.device, dataset)
    return module, meta


def submit_model_load(studio: Studio, path: Path | str, name: str | None = None) -> Job:
    """Submit ``load_model_job(studio, path, name)`` to the job thread; returns its handle."""
    path = Path(path)
    return studio.jobs.submit(f"loading {path.name}", load_model_job(studio, path, name))

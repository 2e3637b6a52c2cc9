"""Training data by run setup, loaded once and shared by the panels that look at a model."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from studio.catalog import Catalog, RunSetup, data_key

if TYPE_CHECKING:  # pragma: no cover - typing only
    from studio.ml.data.base import ImageDataset


class DatasetCache:
    """``get(setup)`` builds a dataset through the catalog the first time and keeps it.

    Thread-safe; call it from a job (building the walk or reading a folder takes a second or more).
    A model's metadata carries its run setup (``meta["setup"]``), so a panel finds the images a
    model was trained on from the model alone.
    """

    def __init__(self, catalog: Catalog):
        self._catalog = catalog
        self._loaded: dict[str, ImageDataset] = {}
        self._lock = threading.Lock()

    def get(self, setup: RunSetup | dict) -> ImageDataset:
        setup = setup if isinstance(setup, RunSetup) else RunSetup(**setup)
        key = self._key(setup)
        with self._lock:  # one load at a time: two panels asking at once share the result
            if key not in self._loaded:
                self._loaded[key] = self._catalog.load_dataset(setup)
            return self._loaded[key]

    def put(self, setup: RunSetup | dict, dataset: ImageDataset) -> None:
        setup = setup if isinstance(setup, RunSetup) else RunSetup(**setup)
        with self._lock:
            self._loaded[self._key(setup)] = dataset

    _key = staticmethod(data_key)

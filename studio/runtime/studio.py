"""The ``Studio`` object: what every plugin hook and panel factory is handed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Signal

from studio.catalog import Catalog
from studio.plugin_manager import PluginManager
from studio.runtime.datasets import DatasetCache
from studio.runtime.jobs import JobRunner
from studio.runtime.model_manager import ModelManager
from studio.runtime.openmp import compute_serially_on_this_thread
from studio.runtime.training_worker import TrainingWorker

if TYPE_CHECKING:  # pragma: no cover - typing only
    from PySide6.QtWidgets import QMainWindow, QWidget

    from studio.bundle import BundledModel
    from studio.runtime.audio_engine import AudioEngine
    from studio.runtime.run_follower import RunFollower


class Studio(QObject):
    """The host's services, shared by all panels.

    - ``models``: the :class:`ModelManager` (device, models by name, inference thread)
    - ``training``: the one :class:`TrainingWorker`
    - ``jobs``: the :class:`JobRunner` for long computations with progress and cancel
    - ``datasets``: the :class:`DatasetCache`: a model's training images from its run setup
    - ``audio``: the :class:`AudioEngine` (sound output, opened on first use)
    - ``runs``: the :class:`RunFollower` that follows a run folder written by another process
      (its thread is started on first use)
    - ``catalog``: model kinds and datasets contributed by plugins
    - ``plugins``: the plugin manager (names, problems)
    - ``bundle``: the bundled models (``checkpoints/``) the studio loads at launch, if any
    - ``settings``: a ``QSettings`` for panels to keep their own state (use your panel id as group)
    """

    message = Signal(str, int)  # text, milliseconds to show it (0: until the next one)

    def __init__(
        self,
        plugins: PluginManager,
        catalog: Catalog,
        models: ModelManager,
        training: TrainingWorker,
        settings: QSettings,
    ):
        super().__init__()
        self.plugins = plugins
        self.catalog = catalog
        self.models = models
        self.training = training
        self.jobs = JobRunner(self)
        self.datasets = DatasetCache(catalog)
        self.settings = settings
        self.window: QMainWindow | None = None
        self.panels: dict[str, QWidget] = {}
        self.bundle: list[BundledModel] = []  # the bundled models being loaded (studio.runtime.bundled_models)
        self._audio: AudioEngine | None = None
        self._runs: RunFollower | None = None

    @classmethod
    def create(cls, settings: QSettings, device: str | None = None, plugins: PluginManager | None = None) -> Studio:
        """Discover plugins (unless given) and start the shared services."""
        compute_serially_on_this_thread()  # the UI thread never holds an OpenMP team (runtime/openmp.py)
        if plugins is None:
            plugins = PluginManager()
            plugins.discover()
        catalog = Catalog.from_plugins(plugins)
        models = ModelManager(device)
        return cls(plugins, catalog, models, TrainingWorker(catalog, models), settings)

    @property
    def audio(self) -> AudioEngine:
        """The one audio output, made on first use: a studio that plays nothing opens no device."""
        if self._audio is None:
            from studio.runtime.audio_engine import AudioEngine

            self._audio = AudioEngine(self)
        return self._audio

    @property
    def runs(self) -> RunFollower:
        """The run follower, made on first use: a studio that follows no run folder starts no thread."""
        if self._runs is None:
            from studio.runtime.run_follower import RunFollower

            self._runs = RunFollower(parent=self)
        return self._runs

    def show_message(self, text: str, timeout_ms: int = 8000) -> None:
        """Show ``text`` in the status bar (and the log). Safe to call from any thread."""
        self.message.emit(text, timeout_ms)

    def shutdown(self) -> None:
        """Stop training (writing its checkpoint), following a run folder, the jobs, the inference
        thread and the sound."""
        if self._audio is not None:
            self._audio.close()
        if self._runs is not None:
            self._runs.shutdown()
        self.training.shutdown()
        self.jobs.shutdown()
        self.models.shutdown()

"""File > Open/Save session: collects a ``Session`` from the main window and applies one to it.

A panel takes part by implementing two optional methods (``docs/plugins.md``)::

    def session_state(self) -> dict: ...            # JSON-able: what to save
    def restore_session(self, state: dict) -> None: ...

A panel that raises, or returns something that is not JSON, is named in a message and left out;
the others are saved or restored all the same. Restoring loads the session's checkpoints that the
studio does not hold yet on the job thread; a panel asks for its model with
``ModelPicker.choose(name, then=...)``, which takes effect when the model is published.
"""

from __future__ import annotations

import json
import logging
import os
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from studio import paths
from studio.runtime.model_loading import submit_model_load
from studio.runtime.session import Session, SessionError, last_session_path, read_session, save_session

if TYPE_CHECKING:  # pragma: no cover - typing only
    from studio.ui.main_window import MainWindow

log = logging.getLogger(__name__)

FILE_FILTER = "latent-studio sessions (*.json);;All files (*)"


class SessionController(QObject):
    """``path``: the session file open now (None until one is opened or saved); ``problems``: what
    went wrong in the last save or restore, including checkpoints that failed to load since."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.studio = window.studio
        self.path: Path | None = None
        self.problems: list[str] = []
        self._loads: dict[int, tuple[str, Path]] = {}  # job id -> (model name, checkpoint)
        self.studio.jobs.finished.connect(self._on_job_finished)
        self.studio.jobs.failed.connect(self._on_job_failed)

    def install(self, menu: QMenu) -> None:
        """The File menu's session entries and Quit."""
        menu.addAction("&Open session…", QKeySequence("Ctrl+O"), self.ask_open)
        menu.addAction("&Reopen last session", self._menu_reopen_last)
        menu.addSeparator()
        menu.addAction("&Save session", QKeySequence("Ctrl+S"), self.save_current)
        menu.addAction("Save session &as…", QKeySequence("Ctrl+Shift+S"), self.ask_save_as)
        menu.addSeparator()
        menu.addAction("&Quit", QKeySequence("Ctrl+Q"), self.window.close)

    # -- collecting -------------------------------------------------------------------------------
    def collect(self) -> Session:
        """The window as it is now; ``problems`` lists the panels left out."""
        from studio.ui.main_window import LAYOUT_VERSION

        window, studio = self.window, self.studio
        self.problems = []
        models = {}
        for name in studio.models.names():
            loaded = studio.models.get(name)
            checkpoint = loaded.meta.get("checkpoint") if loaded is not None else None
            if checkpoint:  # live training snapshots have none: they are not files to load again
                models[name] = str(Path(checkpoint).absolute())
        panels = {}
        for panel_id, widget in studio.panels.items():
            if not callable(getattr(widget, "session_state", None)):
                continue
            ok, state = self._panel_call(panel_id, "session_state", widget.session_state)
            if not ok:
                continue
            try:
                if not isinstance(state, dict):
                    raise TypeError(f"it is a {type(state).__name__}, not a dict")
                json.dumps(state, allow_nan=False)
            except (TypeError, ValueError) as exc:
                self._problem(f"{self._owner(panel_id)} gave a session state that cannot be saved as JSON: {exc}")
                continue
            panels[panel_id] = state
        return Session(
            geometry=bytes(window.saveGeometry().data()),
            state=bytes(window.saveState(LAYOUT_VERSION).data()),
            open_panels=[panel_id for panel_id, dock in window.docks.items() if not dock.isHidden()],
            models=models,
            panels=panels,
        )

    def save(self, path: str | os.PathLike, remember: bool = True) -> Path | None:
        """Write the session to ``path``; with ``remember`` it becomes the session Save writes to."""
        path = Path(path)
        session = self.collect()
        try:
            written = save_session(path, session)
        except (OSError, TypeError, ValueError) as exc:
            self._problem(f"could not save the session to {path}: {exc}")
            return None
        if remember:
            self._set_path(written)
            self._tell(f"saved the session to {written}")
        return written

    def autosave(self) -> Path | None:
        """The window is closing: keep its session as the last one (File > Reopen last session)."""
        try:
            return self.save(last_session_path(), remember=False)
        except Exception:  # never stop the window from closing
            log.error("could not save the last session:\n%s", traceback.format_exc())
            return None

    # -- restoring --------------------------------------------------------------------------------
    def open(self, path: str | os.PathLike) -> bool:
        """Read and apply the session in ``path``; False (with a message naming the file) if it
        cannot be read. Problems with single panels or models are reported and the rest restored."""
        path = Path(path)
        try:
            session = read_session(path)
        except SessionError as exc:
            self.problems = [str(exc)]
            self.studio.show_message(str(exc), 0)
            return False
        self.apply(session, path.name)
        self._set_path(path)
        return True

    def apply(self, session: Session, source: str = "the session") -> None:
        self.problems = []
        self._restore_layout(session, source)
        self._load_models(session.models)
        for panel_id, state in session.panels.items():
            widget = self.studio.panels.get(panel_id)
            if widget is None:
                self._problem(f"{source} has a state for panel {panel_id!r}, which is not installed")
            elif callable(getattr(widget, "restore_session", None)):
                self._panel_call(panel_id, "restore_session", widget.restore_session, state)
        summary = f"opened {source}"
        if self.problems:
            summary += f" with {len(self.problems)} problem(s): " + "; ".join(self.problems)
        self._tell(summary, 0 if self.problems else 8000)

    def _restore_layout(self, session: Session, source: str) -> None:
        from studio.ui.main_window import LAYOUT_VERSION

        window = self.window
        if session.geometry and not window.restoreGeometry(QByteArray(session.geometry)):
            self._problem(f"the window geometry in {source} could not be used")
        if session.state and not window.restoreState(QByteArray(session.state), LAYOUT_VERSION):
            self._problem(f"the panel layout in {source} is from another version: kept the current one")
        if session.open_panels is None:
            return
        for panel_id, dock in window.docks.items():
            wanted = panel_id in session.open_panels
            if dock.isHidden() == wanted:
                dock.setVisible(wanted)
        missing = [p for p in session.open_panels if p not in window.docks]
        if missing:
            self._problem(f"panel(s) {', '.join(missing)} of {source} are not installed")

    def _load_models(self, models: dict[str, str]) -> None:
        """Load each checkpoint the studio does not hold yet, as a job (as Load… does)."""
        studio = self.studio
        for name, checkpoint in models.items():
            path = Path(checkpoint)
            loaded = studio.models.get(name)
            if loaded is not None:
                held = loaded.meta.get("checkpoint")
                if not (held and _same_file(held, path)):
                    self._problem(f"model {name!r} is already loaded from another file: {path} not loaded")
                continue
            if not path.is_file():
                self._problem(f"the checkpoint of model {name!r} is missing: {path}")
                continue
            job = submit_model_load(studio, path, name)
            self._loads[job.id] = (name, path)

    def _on_job_finished(self, job_id: int, result) -> None:
        loaded = self._loads.pop(job_id, None)
        if loaded is not None and result is None:
            self._problem(f"loading model {loaded[0]!r} from {loaded[1]} was cancelled")

    def _on_job_failed(self, job_id: int, message: str) -> None:
        loaded = self._loads.pop(job_id, None)
        if loaded is not None:
            name, path = loaded
            self._problem(f"could not load model {name!r} of the session from {path}: {message}")

    @property
    def loading(self) -> bool:
        """Whether checkpoints of the last restore are still loading."""
        return bool(self._loads)

    # -- menu actions -----------------------------------------------------------------------------
    def ask_open(self) -> None:
        start = str(self.path.parent if self.path else paths.data_dir())
        name, _ = QFileDialog.getOpenFileName(self.window, "Open a session", start, FILE_FILTER)
        if name and not self.open(name):
            QMessageBox.warning(self.window, "Open session", self.problems[0])

    def reopen_last(self) -> bool:
        """Open the session saved when the window last closed; False if there is none or it is damaged."""
        path = last_session_path()
        if not path.exists():
            self.problems = ["there is no last session yet: it is saved when the window closes"]
            self._tell(self.problems[0])
            return False
        return self.open(path)

    def _menu_reopen_last(self) -> None:
        if not self.reopen_last() and last_session_path().exists():
            QMessageBox.warning(self.window, "Reopen last session", self.problems[0])

    def save_current(self) -> None:
        if self.path is None:
            self.ask_save_as()
        else:
            self.save(self.path)

    def ask_save_as(self) -> None:
        start = str(self.path if self.path else paths.data_dir() / "session.json")
        name, _ = QFileDialog.getSaveFileName(self.window, "Save the session as", start, FILE_FILTER)
        if name:
            path = Path(name)
            self.save(path if path.suffix else path.with_suffix(".json"))

    # -- helpers ----------------------------------------------------------------------------------
    def _set_path(self, path: Path) -> None:
        if path != last_session_path():
            self.path = path
            self.window.setWindowTitle(f"latent-studio — {path.name}")

    def _owner(self, panel_id: str) -> str:
        plugin = getattr(self.window, "panel_plugins", {}).get(panel_id, panel_id)
        return f"plugin {plugin!r} (panel {panel_id!r})"

    def _panel_call(self, panel_id: str, what: str, fn, *args) -> tuple[bool, object]:
        """``fn(*args)``; an exception becomes a message naming the panel's plugin."""
        try:
            return True, fn(*args)
        except Exception as exc:  # logged as text: a kept traceback would keep the panel alive
            log.error("panel %r failed in %s:\n%s", panel_id, what, traceback.format_exc())
            self._problem(f"{self._owner(panel_id)} failed in {what}: {type(exc).__name__}: {exc}")
            return False, None

    def _problem(self, text: str) -> None:
        log.warning("session: %s", text)
        self.problems.append(text)
        self.studio.show_message(text, 0)

    def _tell(self, text: str, timeout_ms: int = 8000) -> None:
        self.studio.show_message(text, timeout_ms)


def _same_file(a, b) -> bool:
    return os.path.realpath(str(a)) == os.path.realpath(str(b))

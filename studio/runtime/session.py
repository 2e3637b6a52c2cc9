"""Studio sessions on disk: the window layout, the open panels, the models loaded from checkpoint
files and each panel's own state, as one JSON file.

No Qt here: the window's layout arrives as bytes (``QMainWindow.saveState``/``saveGeometry``) and is
stored base64-encoded, so sessions can be read, checked and written by scripts and tests alone.
``studio.ui.sessions`` collects a session from the window and applies one to it.

    {"format": "latent-studio-session", "version": 1,
     "window": {"geometry": "<base64>", "state": "<base64>"},
     "open_panels": ["trainer_monitor", ...],
     "models": {"vaegan: run/last": "/abs/path/run/last.safetensors", ...},
     "panels": {"z_walker": {...the panel's session_state()...}, ...}}
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio import paths

FORMAT = "latent-studio-session"
VERSION = 1  # bump when a field changes meaning; older files are still read where possible
SUFFIX = ".json"


class SessionError(Exception):
    """A session file that cannot be used; the message names the file."""


@dataclass
class Session:
    geometry: bytes = b""  # QMainWindow.saveGeometry()
    state: bytes = b""  # QMainWindow.saveState(LAYOUT_VERSION)
    open_panels: list[str] | None = None  # ids of the docks not closed; None: leave them as they are
    models: dict[str, str] = field(default_factory=dict)  # model name -> checkpoint path
    panels: dict[str, dict[str, Any]] = field(default_factory=dict)  # panel id -> its session_state()

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "window": {"geometry": _b64(self.geometry), "state": _b64(self.state)},
            "open_panels": list(self.open_panels) if self.open_panels is not None else None,
            "models": dict(self.models),
            "panels": dict(self.panels),
        }

    @classmethod
    def from_dict(cls, data: Any, source: str = "the session") -> Session:
        """Check and read ``data`` (a parsed session file); SessionError naming ``source`` if it is
        not a session this version can read."""
        def bad(why: str) -> SessionError:
            return SessionError(f"{source} is not a usable latent-studio session: {why}")

        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise bad(f"it does not say \"format\": \"{FORMAT}\"")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise bad("it has no format version")
        if version > VERSION:
            raise SessionError(f"{source} is a version {version} session; this latent-studio reads versions up "
                               f"to {VERSION}: update latent-studio to open it")
        if version < 1:
            raise bad(f"unknown version {version}")
        window = data.get("window", {})
        open_panels = data.get("open_panels")
        models = data.get("models", {})
        panels = data.get("panels", {})
        if not isinstance(window, dict):
            raise bad("\"window\" is not an object")
        if open_panels is not None and (not isinstance(open_panels, list)
                                        or not all(isinstance(p, str) for p in open_panels)):
            raise bad("\"open_panels\" is not a list of panel ids")
        if not isinstance(models, dict) or not all(isinstance(v, str) for v in models.values()):
            raise bad("\"models\" is not an object of model names and checkpoint paths")
        if not isinstance(panels, dict) or not all(isinstance(v, dict) for v in panels.values()):
            raise bad("\"panels\" is not an object of panel ids and their states")
        try:
            geometry, state = _unb64(window.get("geometry", "")), _unb64(window.get("state", ""))
        except (TypeError, ValueError, binascii.Error) as exc:
            raise bad(f"the window layout is not base64 ({exc})") from None
        return cls(geometry, state, None if open_panels is None else list(open_panels), dict(models), dict(panels))


def save_session(path: str | os.PathLike, session: Session) -> Path:
    """Write ``session`` to ``path`` atomically (a temporary file in the same folder, then
    ``os.replace``): a crash mid-write leaves the old file whole. TypeError/ValueError if a panel's
    state is not JSON; OSError if the folder cannot be written."""
    path = Path(path)
    text = json.dumps(session.to_dict(), indent=1, allow_nan=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def read_session(path: str | os.PathLike) -> Session:
    """The session in ``path``. SessionError naming the file when it is missing, unreadable,
    truncated or not JSON, not a session, or of a newer version."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SessionError(f"session file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SessionError(f"cannot read session file {path}: {exc}") from None
    if not text.strip():
        raise SessionError(f"session file {path} is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SessionError(f"session file {path} is damaged or truncated (not JSON: {exc.msg} at line "
                           f"{exc.lineno}, column {exc.colno})") from None
    return Session.from_dict(data, f"session file {path}")


def last_session_path() -> Path:
    """Where the window saves its session when it closes (File > Reopen last session)."""
    return paths.config_dir() / f"last-session{SUFFIX}"


def _b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"expected a string, got {type(text).__name__}")
    return base64.b64decode(text.encode("ascii"), validate=True)

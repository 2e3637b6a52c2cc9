"""The trained models that ship in ``checkpoints/``, so that a first launch shows every panel at
work with no download and no training.

``checkpoints/manifest.json`` lists each file with how it was made (the project's own ``train``
command, steps, training time on a 2-core CPU), its final metrics and its SHA-256;
``scripts/bundle_checkpoints.py`` trains them and writes it. Qt-free and torch-free.
``LATENT_STUDIO_BUNDLE`` points the studio at another folder, or at none ("none").
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

BUNDLE_ENV = "LATENT_STUDIO_BUNDLE"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "latent-studio-bundle/1"


class BundleError(ValueError):
    """The bundle's manifest is missing, unreadable, or does not match its files."""


@dataclass(frozen=True)
class BundledModel:
    name: str  # the file's stem: "dcgan-shapes"
    file: str  # relative to the manifest's folder
    kind: str
    dataset: str
    panels: tuple[str, ...]  # the panels it is meant for, in the order they pick it
    description: str
    command: str  # the command that trained it (before weights-only export)
    steps: int
    training_seconds: float
    metrics: dict[str, float]  # the last 100 steps' mean of each logged number
    sha256: str
    bytes: int
    history: str | None = None  # a thinned metrics.jsonl of its run, for the trainer monitor
    folder: Path = field(default=Path("."), compare=False)

    @property
    def path(self) -> Path:
        return self.folder / self.file

    @property
    def history_path(self) -> Path | None:
        return self.folder / self.history if self.history else None

    def to_json(self) -> dict:
        record = asdict(self)
        del record["folder"]
        record["panels"] = list(self.panels)
        return record


def bundle_dir() -> Path | None:
    """``LATENT_STUDIO_BUNDLE``, else ``checkpoints/`` of this source tree (a clone, or an editable
    install); None when there is no manifest there or the variable says "none"."""
    chosen = os.environ.get(BUNDLE_ENV, "").strip()
    if chosen.lower() in ("none", "0", "off"):
        return None
    folder = Path(chosen).expanduser() if chosen else Path(__file__).resolve().parents[1] / "checkpoints"
    return folder if (folder / MANIFEST_NAME).is_file() else None


def in_bundle(path: Path | str) -> bool:
    """Whether ``path`` is one of the bundled files (a run continued from one goes elsewhere)."""
    folder = bundle_dir()
    return folder is not None and Path(path).resolve().parent == folder.resolve()


def read_manifest(folder: Path) -> list[BundledModel]:
    path = Path(folder) / MANIFEST_NAME
    try:
        data = json.loads(path.read_text())
        if data.get("format") != MANIFEST_FORMAT:
            raise BundleError(f"{path}: not a {MANIFEST_FORMAT} manifest")
        return [BundledModel(**(entry | {"panels": tuple(entry["panels"])}), folder=Path(folder))
                for entry in data["models"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        if isinstance(exc, BundleError):
            raise
        raise BundleError(f"{path} cannot be read: {type(exc).__name__}: {exc}") from exc


def write_manifest(folder: Path, models: list[BundledModel]) -> Path:
    path = Path(folder) / MANIFEST_NAME
    total = sum(model.bytes for model in models)
    data = {"format": MANIFEST_FORMAT, "total_bytes": total, "models": [model.to_json() for model in models]}
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def check_file(model: BundledModel) -> None:
    """BundleError naming the file when it is missing or its bytes are not the manifest's."""
    from studio.ml.checkpoints import file_sha256

    if not model.path.is_file():
        raise BundleError(f"bundled model {model.path} is missing")
    if model.path.stat().st_size != model.bytes or file_sha256(model.path) != model.sha256:
        raise BundleError(f"bundled model {model.path} does not match its manifest (SHA-256 differs); "
                          "run scripts/bundle_checkpoints.py or restore the file")

"""Model kinds and datasets contributed by plugins, and how a run is built from them.

Qt-free: the CLI, the studio's trainer monitor and torchrun scripts all build trainers here.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.contributions import DatasetSpec, ModelKind

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch

    from studio.ml.data.audio import AudioClips
    from studio.ml.data.base import ImageDataset
    from studio.ml.training.base import Trainer
    from studio.plugin_manager import PluginManager

log = logging.getLogger(__name__)


@dataclass
class RunSetup:
    """What the user chose for a training run; stored in every checkpoint as ``meta["dataset"]``
    plus ``meta["config"]``, so a run can be rebuilt from its checkpoint alone."""

    kind: str
    dataset: str
    dataset_path: str | None = None
    image_size: int = 32
    channels: int | None = None  # None: the dataset's own
    seed: int = 0
    config: dict[str, Any] = field(default_factory=dict)  # overrides of the kind's params
    # audio datasets: clips are resampled to sample_rate and cut to duration (None: the data's own)
    sample_rate: int = 3840
    duration: float | None = None

    def dataset_info(self, dataset: ImageDataset | AudioClips) -> dict:
        return {"name": self.dataset, "path": self.dataset_path, "seed": self.seed, **dataset.describe()}

    def to_dict(self) -> dict:
        return asdict(self)


class Catalog:
    """Name -> contribution maps; the first plugin to claim a name keeps it."""

    def __init__(self, model_kinds: list[ModelKind], datasets: list[DatasetSpec]) -> None:
        self.model_kinds = self._by_name(model_kinds, "model kind")
        self.datasets = self._by_name(datasets, "dataset")

    @classmethod
    def from_plugins(cls, plugins: PluginManager) -> Catalog:
        kinds = [c.item for c in plugins.call("register_model_kinds")]
        datasets = [c.item for c in plugins.call("register_datasets")]
        return cls(kinds, datasets)

    @staticmethod
    def _by_name(items: list, what: str) -> dict:
        found: dict = {}
        for item in items:
            if item.name in found:
                log.warning("%s %r is registered twice; keeping the first", what, item.name)
                continue
            found[item.name] = item
        return found

    def model_kind(self, name: str) -> ModelKind:
        return self._lookup(self.model_kinds, name, "model kind")

    def dataset(self, name: str) -> DatasetSpec:
        return self._lookup(self.datasets, name, "dataset")

    @staticmethod
    def _lookup(table: dict, name: str, what: str):
        try:
            return table[name]
        except KeyError:
            known = ", ".join(sorted(table)) or "none"
            raise KeyError(f"unknown {what} {name!r} (available: {known})") from None

    # -- building runs ------------------------------------------------------------------------
    def load_dataset(self, setup: RunSetup) -> ImageDataset | AudioClips:
        spec = self.dataset(setup.dataset)
        if spec.needs_path and not setup.dataset_path:
            raise ValueError(f"dataset {spec.name!r} needs a folder")
        path = Path(setup.dataset_path).expanduser() if setup.dataset_path else None
        if spec.modality == "audio":
            return spec.build(setup.sample_rate, setup.duration, path, setup.seed)
        return spec.build(setup.image_size, setup.channels, path, setup.seed)

    def build_trainer(
        self, setup: RunSetup, device: torch.device, dataset: ImageDataset | AudioClips | None = None
    ) -> tuple[Trainer, ImageDataset | AudioClips]:
        kind = self.model_kind(setup.kind)
        spec = self.dataset(setup.dataset)
        if spec.modality != kind.modality:
            raise ValueError(f"{kind.title} trains on {kind.modality} data; {spec.title!r} is an {spec.modality} "
                             "dataset")
        unknown = set(setup.config) - set(kind.params)
        if unknown:
            raise ValueError(f"{kind.name} has no parameter(s) {', '.join(sorted(unknown))}")
        dataset = dataset if dataset is not None else self.load_dataset(setup)
        config = kind.default_config() | setup.config | dataset.setup_values()
        return kind.build_trainer(config, dataset, device, setup.seed), dataset

    def restore(self, checkpoint: Path, device: torch.device, dataset: ImageDataset | None = None
                ) -> tuple[Trainer, ImageDataset, RunSetup]:
        """Rebuild the trainer of ``checkpoint`` with its weights, optimiser state and data (``dataset``
        when the caller already holds the run's data, e.g. from the studio's DatasetCache)."""
        from studio.ml.checkpoints import load_checkpoint

        ckpt = load_checkpoint(checkpoint)
        setup = setup_from_meta(ckpt.meta)
        self._resolve_paths(setup, Path(checkpoint).parent)
        trainer, dataset = self.build_trainer(setup, device, dataset)
        trainer.load_state(ckpt.tensors, ckpt.meta.get("extra", {}), source=str(ckpt.path))
        return trainer, dataset, setup

    def _resolve_paths(self, setup: RunSetup, folder: Path) -> None:
        """Relative values of the kind's path parameters, as read from the checkpoint's ``folder``."""
        kind = self.model_kinds.get(setup.kind)
        for key, param in (kind.params.items() if kind else ()):
            value = setup.config.get(key)
            if param.is_path and value and not Path(value).expanduser().is_absolute():
                setup.config[key] = str(folder / value)

    def load_model(self, checkpoint: Path, device: torch.device, dataset: ImageDataset | None = None
                   ) -> tuple[torch.nn.Module, dict, ImageDataset]:
        """The inference model saved in ``checkpoint`` (eval mode), its metadata as the training
        worker publishes it (kind, config, step, setup, checkpoint), and its training data."""
        trainer, dataset, setup = self.restore(checkpoint, device, dataset)
        meta = {"kind": trainer.kind, "config": dict(trainer.config), "step": trainer.steps_done,
                "setup": setup.to_dict(), "checkpoint": str(checkpoint)}
        return trainer.inference_model(), meta, dataset


DATA_FIELDS = ("dataset", "dataset_path", "image_size", "channels", "seed", "sample_rate", "duration")


def data_fields(setup: RunSetup | dict) -> dict:
    """What decides a run's data (not the model kind or its hyper-parameters), from a RunSetup or
    its ``to_dict()`` (a model's ``meta["setup"]``); absent fields take RunSetup's defaults."""
    values = setup.to_dict() if isinstance(setup, RunSetup) else setup
    defaults = RunSetup(kind="", dataset="")
    return {name: values.get(name, getattr(defaults, name)) for name in DATA_FIELDS}


def data_key(setup: RunSetup | dict) -> str:
    """``data_fields`` as a string: equal for setups that load the same data."""
    return json.dumps(list(data_fields(setup).values()))


def data_summary(info: dict) -> str:
    """``RunSetup.dataset_info`` in words: "8192 images, 32 px, 3 ch", "1440 pairs (288 test), 64 px,
    3 ch" or "4 clips of 2 s at 3840 Hz"."""
    if "pairs" in info:
        return f"{info['pairs']} pairs ({info['test_pairs']} test), {info['size']} px, {info['channels']} ch"
    if "sample_rate" in info:
        return f"{info['clips']} clips of {info['samples'] / info['sample_rate']:g} s at {info['sample_rate']} Hz"
    return f"{info['images']} images, {info['size']} px, {info['channels']} ch"


def setup_from_meta(meta: dict) -> RunSetup:
    """The RunSetup recorded in a checkpoint's metadata."""
    data = meta["dataset"]
    config = dict(meta["config"])
    setup = RunSetup(kind=meta["kind"], dataset=data["name"], dataset_path=data.get("path"), seed=data.get("seed", 0))
    if "sample_rate" in config:  # an audio model: the data's rate and clip length
        setup.sample_rate = config.pop("sample_rate")
        setup.duration = config.pop("samples") / setup.sample_rate
    else:
        setup.image_size, setup.channels = config.pop("image_size"), config.pop("channels")
    setup.config = config
    return setup

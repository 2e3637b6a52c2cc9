"""What every image-GAN trainer here shares: config checking, seeded construction, the fixed-z
sample grid, and saving/restoring networks, optimisers, fixed z and RNG.

Everything random (weight init, batches, z, the fixed sample z) comes from one ``torch.Generator``
seeded from ``seed``, on the CPU: two trainers with the same seed produce the same losses, on any
device, whatever else uses torch's global RNG meanwhile. (Networks are built under a forked global
RNG seeded from that generator, since torch's spectral norm draws its vectors globally.)
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from studio.contributions import Param
from studio.ml.checkpoints import CheckpointError, load_module_state, optimizer_from_tensors, optimizer_to_tensors
from studio.ml.data.base import ImageDataset, to_uint8

GRID_SAMPLES = 64  # fixed z vectors: an 8x8 sample grid
SETUP_KEYS = ("image_size", "channels")  # from the run setup (the dataset), not from params


def complete_config(kind: str, params: dict[str, Param], config: dict) -> dict:
    """Defaults filled in, each value cast to its parameter's type, unknown keys refused (a typo
    must not pass silently)."""
    missing = [key for key in SETUP_KEYS if key not in config]
    if missing:
        raise ValueError(f"{kind} config needs {', '.join(missing)} (from the dataset)")
    unknown = set(config) - set(params) - set(SETUP_KEYS)
    if unknown:
        raise ValueError(f"{kind} has no parameter(s) {', '.join(sorted(unknown))}")
    types = {name: type(param.default) for name, param in params.items()} | dict.fromkeys(SETUP_KEYS, int)
    full = {name: param.default for name, param in params.items()} | dict(config)
    return {key: types[key](value) for key, value in full.items()}


class GANTrainer:
    """Base of the Trainer protocol (:mod:`studio.ml.training.base`) for image GANs.

    A subclass sets ``kind`` and ``params``, builds its networks with :meth:`_build` in
    ``_build_networks`` (``self.G`` maps z to images), and lists them in ``_networks`` and
    ``_optimizers`` so that checkpoints cover them.
    """

    kind: str
    params: dict[str, Param]

    def __init__(self, config: dict, dataset: ImageDataset, device: torch.device | str = "cpu", seed: int = 0):
        self.config = complete_config(self.kind, self.params, config)
        cfg = self.config
        if (dataset.size, dataset.channels) != (cfg["image_size"], cfg["channels"]):
            raise ValueError(
                f"dataset {dataset.name!r} has {dataset.channels}-channel {dataset.size}x{dataset.size} images, "
                f"but the model is configured for {cfg['channels']}-channel {cfg['image_size']}x{cfg['image_size']}"
            )
        self.dataset = dataset
        self.device = torch.device(device)
        self.seed = int(seed)
        self.batch_size = cfg["batch_size"]
        self.nz = cfg["nz"]
        self.steps_done = 0
        self.rng = torch.Generator().manual_seed(self.seed)  # CPU: the same draws on every device
        self.G: nn.Module
        self._build_networks()
        self.fixed_z = torch.randn(GRID_SAMPLES, self.nz, generator=self.rng)

    def _build_networks(self) -> None:
        raise NotImplementedError

    def _networks(self) -> dict[str, nn.Module]:
        raise NotImplementedError

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def _build(self, make: Callable[[], nn.Module]) -> nn.Module:
        """``make()`` with its random init drawn from our generator, leaving the global RNG as it was."""
        seed = int(torch.randint(2**62, (1,), generator=self.rng))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return make().to(self.device)

    def _z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.nz, generator=self.rng).to(self.device, non_blocking=True)

    # -- looking at it -------------------------------------------------------------------------
    @torch.no_grad()
    def sample_grid(self) -> torch.Tensor:
        """The fixed-z samples, uint8 (64, C, H, W) on the CPU; G in eval mode (running BN stats)."""
        was_training = self.G.training
        self.G.eval()
        try:
            return to_uint8(self.G(self.fixed_z.to(self.device))).cpu()
        finally:
            self.G.train(was_training)

    def inference_model(self) -> nn.Module:
        """A deep copy of G in eval mode, sharing no storage with the weights being trained."""
        return copy.deepcopy(self.G).eval().requires_grad_(False)

    # -- state ---------------------------------------------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {}
        for name, network in self._networks().items():
            tensors |= {f"{name}.{k}": v for k, v in network.state_dict().items()}
        for name, optimizer in self._optimizers().items():
            tensors |= optimizer_to_tensors(optimizer, f"{name}.")[0]
        tensors["fixed_z"] = self.fixed_z
        tensors["rng"] = self.rng.get_state()
        return tensors

    def extra_state(self) -> dict:
        extra: dict = {"steps_done": self.steps_done}
        for name, optimizer in self._optimizers().items():
            extra[name] = optimizer_to_tensors(optimizer, f"{name}.")[1]
        return extra

    def load_state(self, tensors: dict[str, torch.Tensor], extra: dict, source: Path | str = "checkpoint") -> None:
        """Restore everything ``state_tensors``/``extra_state`` saved; CheckpointError (naming
        ``source``) when the checkpoint was made with another architecture or is incomplete."""
        for name, network in self._networks().items():
            load_module_state(network, tensors, f"{name}.", source)
        missing = [key for key in ("fixed_z", "rng") if key not in tensors]
        missing += [key for key in ("steps_done", *self._optimizers()) if key not in extra]
        if missing:
            raise CheckpointError(f"{source} is incomplete: no {', '.join(missing)}")
        if tuple(tensors["fixed_z"].shape) != (GRID_SAMPLES, self.nz):
            raise CheckpointError(f"{source}: fixed_z has shape {tuple(tensors['fixed_z'].shape)}, "
                                  f"expected {(GRID_SAMPLES, self.nz)}")
        for name, optimizer in self._optimizers().items():
            optimizer_from_tensors(optimizer, tensors, f"{name}.", extra[name], source)
        try:
            self.rng.set_state(tensors["rng"].cpu())
        except RuntimeError as exc:
            raise CheckpointError(f"{source}: corrupt RNG state: {exc}") from exc
        self.fixed_z = tensors["fixed_z"].cpu().clone()
        self.steps_done = int(extra["steps_done"])

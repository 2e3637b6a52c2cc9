"""What every trainer here shares (config checking, seeded construction, saving/restoring networks,
optimisers and RNG), and what the GANs add to it (the fixed-z sample grid and its z).

Everything random (weight init, batches, z, the fixed sample z) comes from one ``torch.Generator``
seeded from ``seed``, on the CPU: two trainers with the same seed produce the same losses, on any
device, whatever else uses torch's global RNG meanwhile. (Networks are built under a forked global
RNG seeded from that generator, since torch's spectral norm draws its vectors globally.)
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from studio.contributions import Param
from studio.ml.checkpoints import CheckpointError, load_module_state, optimizer_from_tensors, optimizer_to_tensors
from studio.ml.data.base import WHOLE, ImageDataset, to_uint8
from studio.ml.distributed import SINGLE, ProcessGroup

GRID_SAMPLES = 64  # fixed z vectors: an 8x8 sample grid
IMAGE_SETUP_KEYS = ("image_size", "channels")  # from the run setup (the dataset), not from params
AUDIO_SETUP_KEYS = ("sample_rate", "samples")


def check_clips(config: dict, clips) -> None:
    """ValueError naming the dataset when its clips are not the audio model's rate and length."""
    if (clips.sample_rate, clips.samples) != (config["sample_rate"], config["samples"]):
        raise ValueError(
            f"dataset {clips.name!r} has clips of {clips.samples} samples at {clips.sample_rate} Hz, "
            f"but the model is configured for {config['samples']} samples at {config['sample_rate']} Hz"
        )


def complete_config(kind: str, params: dict[str, Param], config: dict,
                    setup_keys: tuple[str, ...] = IMAGE_SETUP_KEYS) -> dict:
    """Defaults filled in, each value cast to its parameter's type, unknown keys refused (a typo
    must not pass silently). ``setup_keys`` (integers) come from the dataset."""
    missing = [key for key in setup_keys if key not in config]
    if missing:
        raise ValueError(f"{kind} config needs {', '.join(missing)} (from the dataset)")
    unknown = set(config) - set(params) - set(setup_keys)
    if unknown:
        raise ValueError(f"{kind} has no parameter(s) {', '.join(sorted(unknown))}")
    types = {name: type(param.default) for name, param in params.items()} | dict.fromkeys(setup_keys, int)
    full = {name: param.default for name, param in params.items()} | dict(config)
    full = {key: types[key](value) for key, value in full.items()}
    for name, param in params.items():
        value, low, high = full[name], param.minimum, param.maximum
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            limits = " and ".join(f"{word} {limit:g}" for word, limit in (("at least", low), ("at most", high))
                                  if limit is not None)
            raise ValueError(f"{kind} {name} must be {limits}, not {value:g}")
    return full


class SeededTrainer:
    """Base of the Trainer protocol (:mod:`studio.ml.training.base`): a config checked against
    ``params``, seeded construction, and checkpoints of networks, optimisers, step and RNG.

    A subclass sets ``kind`` and ``params``, builds its networks with :meth:`_build` in
    ``_build_networks`` and lists them in ``_networks`` and ``_optimizers`` so that checkpoints
    cover them; ``_check_dataset`` refuses data the config does not fit. ``setup_keys`` are the
    config values the data fixes (image size and channels, or audio rate and length).
    """

    kind: str
    params: dict[str, Param]
    setup_keys: tuple[str, ...] = IMAGE_SETUP_KEYS

    def __init__(self, config: dict, dataset, device: torch.device | str = "cpu", seed: int = 0):
        self.config = complete_config(self.kind, self.params, config, self.setup_keys)
        self._check_dataset(dataset)
        self.dataset = dataset
        self.device = torch.device(device)
        self.seed = int(seed)
        self.batch_size = self.config["batch_size"]  # per step, over all processes
        self.steps_done = 0
        self.rng = torch.Generator().manual_seed(self.seed)  # CPU: the same draws on every device
        self.group, self.shard = SINGLE, WHOLE
        self._replicas: dict[int, nn.Module] = {}  # id(network) -> its DDP wrapper
        self._build_networks()

    # -- training as one of several processes (torchrun) ----------------------------------------
    def distribute(self, group: ProcessGroup) -> None:
        """Train as one of ``group``'s processes, from the next step on: every network that learns
        runs under DistributedDataParallel (gradients averaged over the processes), each process
        takes its shard of every batch (``batch_size`` stays the batch of one step, over all of
        them), and the reported losses are means over the processes. Every process must build the
        trainer identically (same config, seed and checkpoint) and then call this."""
        if self.batch_size % group.world_size:
            raise ValueError(f"batch size {self.batch_size} does not split evenly over {group.world_size} processes")
        self.group, self.shard = group, group.shard()
        self._replicas = {id(network): group.wrap(network) for network in self._networks().values()
                          if any(p.requires_grad for p in network.parameters())}

    def _parallel(self, network: nn.Module) -> nn.Module:
        """What a training step calls ``network`` through: its DDP wrapper in a distributed run (so
        that backward averages its gradients), else the network itself."""
        return self._replicas.get(id(network), network)

    def _rows(self, batch: torch.Tensor) -> torch.Tensor:
        """This process's share of a tensor drawn for the whole batch, on the trainer's device."""
        return self.shard.take(batch).to(self.device, non_blocking=True)

    def _report(self, names: list[str] | tuple[str, ...], values: list[torch.Tensor]) -> dict[str, float]:
        """The step's metrics by name, averaged over the processes: one device sync per step."""
        with torch.no_grad():
            stats = self.group.mean(torch.stack([v.detach().float() for v in values]))
        return dict(zip(names, stats.cpu().tolist()))

    def _check_dataset(self, dataset) -> None:
        """ValueError if the model's config does not fit the data (the message names the dataset)."""
        cfg = self.config
        if (dataset.size, dataset.channels) != (cfg["image_size"], cfg["channels"]):
            raise ValueError(
                f"dataset {dataset.name!r} has {dataset.channels}-channel {dataset.size}x{dataset.size} images, "
                f"but the model is configured for {cfg['channels']}-channel {cfg['image_size']}x{cfg['image_size']}"
            )

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

    # -- state ---------------------------------------------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {}
        for name, network in self._networks().items():
            tensors |= {f"{name}.{k}": v for k, v in network.state_dict().items()}
        for name, optimizer in self._optimizers().items():
            tensors |= optimizer_to_tensors(optimizer, f"{name}.")[0]
        tensors["rng"] = self.rng.get_state()
        return tensors | self._own_tensors()

    def _own_tensors(self) -> dict[str, torch.Tensor]:
        """A subclass's further tensors to checkpoint (restored by :meth:`_load_own_tensors`)."""
        return {}

    def _load_own_tensors(self, tensors: dict[str, torch.Tensor], source: Path | str) -> None:
        """Restore :meth:`_own_tensors`; CheckpointError naming ``source`` when they do not fit."""

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
        missing = [key for key in ("rng", *self._own_tensors()) if key not in tensors]
        missing += [key for key in ("steps_done", *self._optimizers()) if key not in extra]
        if missing:
            raise CheckpointError(f"{source} is incomplete: no {', '.join(missing)}")
        self._load_own_tensors(tensors, source)
        for name, optimizer in self._optimizers().items():
            optimizer_from_tensors(optimizer, tensors, f"{name}.", extra[name], source)
        try:
            self.rng.set_state(tensors["rng"].cpu())
        except RuntimeError as exc:
            raise CheckpointError(f"{source}: corrupt RNG state: {exc}") from exc
        self.steps_done = int(extra["steps_done"])


class GANTrainer(SeededTrainer):
    """A :class:`SeededTrainer` whose ``self.G`` maps z (``nz`` long) to images, with the fixed z
    of the sample grid. A GAN on other data than images sets ``setup_keys`` and overrides
    :meth:`_check_dataset` (and :meth:`sample_grid` to draw it).
    """

    G: nn.Module

    def __init__(self, config: dict, dataset: ImageDataset, device: torch.device | str = "cpu", seed: int = 0):
        super().__init__(config, dataset, device, seed)
        self.fixed_z = torch.randn(GRID_SAMPLES, self.nz, generator=self.rng)

    @property
    def nz(self) -> int:
        return self.config["nz"]

    def _z(self, n: int) -> torch.Tensor:
        """This process's share of ``n`` latent vectors."""
        return self._rows(torch.randn(n, self.nz, generator=self.rng))

    # -- looking at it -------------------------------------------------------------------------
    @torch.no_grad()
    def fixed_samples(self) -> torch.Tensor:
        """G(fixed z) as float32 on the CPU, G in eval mode (running BN stats), its mode restored."""
        was_training = self.G.training
        self.G.eval()
        try:
            return self.G(self.fixed_z.to(self.device)).float().cpu()
        finally:
            self.G.train(was_training)

    def sample_grid(self) -> torch.Tensor:
        """The fixed-z samples as uint8 (64, C, H, W) images."""
        return to_uint8(self.fixed_samples())

    def inference_model(self) -> nn.Module:
        """A deep copy of G in eval mode, sharing no storage with the weights being trained."""
        return copy.deepcopy(self.G).eval().requires_grad_(False)

    # -- state ---------------------------------------------------------------------------------
    def _own_tensors(self) -> dict[str, torch.Tensor]:
        return {"fixed_z": self.fixed_z}

    def _load_own_tensors(self, tensors: dict[str, torch.Tensor], source: Path | str) -> None:
        if tuple(tensors["fixed_z"].shape) != (GRID_SAMPLES, self.nz):
            raise CheckpointError(f"{source}: fixed_z has shape {tuple(tensors['fixed_z'].shape)}, "
                                  f"expected {(GRID_SAMPLES, self.nz)}")
        self.fixed_z = tensors["fixed_z"].cpu().clone()


class NonSaturatingGAN(GANTrainer):
    """A generator G and a discriminator D (raw logits), each with Adam, trained with the
    non-saturating loss as in pytorch/examples' DCGAN. A subclass builds ``self.G`` and ``self.D``
    in ``_build_networks`` and then calls :meth:`_build_optimisers`.

    The config needs ``lr``, ``beta1``, ``beta2`` and ``real_label`` (D's target for real data:
    below 1 is one-sided label smoothing).
    """

    G: nn.Module
    D: nn.Module

    def _build_optimisers(self) -> None:
        cfg = self.config
        betas = (cfg["beta1"], cfg["beta2"])
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=cfg["lr"], betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=cfg["lr"], betas=betas)
        self.criterion = nn.BCEWithLogitsLoss()  # on raw logits: safer than Sigmoid + BCELoss

    def _networks(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D}

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"optim_G": self.opt_G, "optim_D": self.opt_D}

    def step(self) -> dict[str, float]:
        G, D = self._parallel(self.G), self._parallel(self.D)
        real = self._rows(self.dataset.batch(self.batch_size, self.rng, self.shard))
        fake = G(self._z(self.batch_size))

        # D: real -> real_label (1, or 0.9 for one-sided label smoothing), fake -> 0 (fake detached)
        self.opt_D.zero_grad(set_to_none=True)
        logits_real, logits_fake = D(real), D(fake.detach())
        loss_D = (self.criterion(logits_real, torch.full_like(logits_real, self.config["real_label"]))
                  + self.criterion(logits_fake, torch.zeros_like(logits_fake)))
        loss_D.backward()
        self.opt_D.step()

        # G, non-saturating: maximise log D(G(z)) by labelling its fakes real, against the updated D.
        # D is frozen meanwhile: its weights need no gradient from this loss (nor an all-reduce).
        self.opt_G.zero_grad(set_to_none=True)
        with frozen(self.D):
            logits_G = D(fake)
            loss_G = self.criterion(logits_G, torch.ones_like(logits_G))
            loss_G.backward()
        self.opt_G.step()

        self.steps_done += 1
        return self._report(("loss_D", "loss_G", "D_x", "D_G_z"),
                            [loss_D, loss_G, logits_real.sigmoid().mean(), logits_fake.sigmoid().mean()])


@contextmanager
def frozen(network: nn.Module):
    """``network``'s parameters collect no gradients for the duration (then as before): backward
    still flows through its activations to what feeds it."""
    learning = [p for p in network.parameters() if p.requires_grad]
    for p in learning:
        p.requires_grad_(False)
    try:
        yield network
    finally:
        for p in learning:
            p.requires_grad_(True)

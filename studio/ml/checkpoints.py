"""Checkpoints: one safetensors file with JSON metadata in its header. Never pickle.

Keeping the metadata inside the safetensors header makes a checkpoint a single file, so a single
``os.replace`` publishes it atomically: a crash mid-write leaves the previous checkpoint intact.
Opening a checkpoint never runs code: pickles (what ``torch.save`` writes) are recognised by
their first bytes and refused before any parser sees them.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

META_KEY = "latent_studio"  # the safetensors metadata entry holding our JSON
ZIP_MAGIC = b"PK\x03\x04"  # torch.save since 1.6 writes a zip archive of pickles
PICKLE_PROTOCOLS = range(2, 6)  # a raw pickle starts with 0x80 then its protocol number
MAX_HEADER_BYTES = 100 * 2**20  # safetensors' own limit
MAX_LISTED_PROBLEMS = 4


class CheckpointError(ValueError):
    """A checkpoint cannot be used; the message names the file and says why."""


@dataclass
class Checkpoint:
    path: Path
    tensors: dict[str, torch.Tensor]
    meta: dict


# -- writing -------------------------------------------------------------------------------------
def save_checkpoint(path: Path | str, tensors: dict[str, torch.Tensor], meta: dict) -> Path:
    """Write ``tensors`` and the JSON ``meta`` to ``path`` atomically; returns ``path``.

    The file is written to a temporary name in the same folder, flushed to disk and renamed over
    ``path``; on any failure the temporary file is removed and an older ``path`` is untouched.
    """
    path = Path(path)
    metadata = {META_KEY: json.dumps(meta, default=_json_default)}  # fail before touching the disk
    flat = _cpu_contiguous(tensors)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        save_file(flat, tmp, metadata=metadata)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def _cpu_contiguous(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Contiguous CPU tensors, none sharing storage: safetensors refuses views and shared memory."""
    flat: dict[str, torch.Tensor] = {}
    storages: set[int] = set()
    for key, tensor in tensors.items():
        if not isinstance(key, str) or not isinstance(tensor, torch.Tensor):
            raise TypeError(f"checkpoint entries must be str -> Tensor, got {key!r}: {type(tensor).__name__}")
        tensor = tensor.detach().to("cpu").contiguous()
        if tensor.untyped_storage().data_ptr() in storages:
            tensor = tensor.clone()
        storages.add(tensor.untyped_storage().data_ptr())
        flat[key] = tensor
    return flat


def _json_default(value: Any) -> Any:
    """JSON for the few non-JSON types that turn up in metadata (paths, numpy scalars)."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"checkpoint metadata cannot hold {type(value).__name__}: {value!r}")


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def without_optimizer_state(checkpoint: Checkpoint) -> Checkpoint:
    """The same checkpoint with its optimisers' moments and step counts dropped (about two thirds of
    a GAN's file): the weights, RNG and hyper-parameters stay, so it loads, samples and trains on,
    with Adam starting afresh. The bundled models ship like this (``meta["weights_only"]``)."""
    extra = dict(checkpoint.meta.get("extra", {}))
    optimizers = [name for name, value in extra.items() if isinstance(value, dict) and "param_groups" in value]
    tensors = {key: tensor for key, tensor in checkpoint.tensors.items()
               if not any(key.startswith(f"{name}.") for name in optimizers)}
    for name in optimizers:
        extra[name] = {"param_groups": extra[name]["param_groups"], "scalars": {}}
    return Checkpoint(checkpoint.path, tensors, checkpoint.meta | {"extra": extra, "weights_only": True})


def with_half_precision_weights(checkpoint: Checkpoint, networks: list[str]) -> Checkpoint:
    """The float32 weights of ``networks`` (checkpoint prefixes) stored as float16, halving the
    file: loading copies them back into the float32 parameters (``load_state_dict`` casts). Other
    tensors (fixed z, RNG) keep their type. The bundled models ship like this."""
    prefixes = tuple(f"{name}." for name in networks)
    tensors = {key: tensor.half() if key.startswith(prefixes) and tensor.dtype == torch.float32 else tensor
               for key, tensor in checkpoint.tensors.items()}
    return Checkpoint(checkpoint.path, tensors, checkpoint.meta | {"stored_weights": "float16"})


def file_sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- reading -------------------------------------------------------------------------------------
def read_checkpoint_meta(path: Path | str) -> dict:
    """The JSON metadata only: reads the header, not the weights."""
    path = Path(path)
    return _meta_from_header(path, _read_header(path))


def load_checkpoint(path: Path | str, device: str | torch.device = "cpu") -> Checkpoint:
    """Tensors and metadata of a latent-studio checkpoint; CheckpointError if it is not one."""
    path = Path(path)
    meta = _meta_from_header(path, _read_header(path))
    try:
        tensors = load_file(path, device="cpu")
    except (SafetensorError, OSError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{path} is corrupt: {exc}") from exc
    device = torch.device(device)
    if device.type != "cpu":
        tensors = {key: tensor.to(device) for key, tensor in tensors.items()}
    return Checkpoint(path, tensors, meta)


def _read_header(path: Path) -> dict:
    """The safetensors header, after refusing missing files and pickles and checking that the
    file is as long as its header says (a cut-off copy is caught here, before any parser)."""
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} is not a file")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(9)
        header_len = struct.unpack("<Q", head[:8])[0] if len(head) >= 8 else None
        looks_like_safetensors = head[8:9] == b"{" and header_len is not None and header_len <= MAX_HEADER_BYTES
        if not looks_like_safetensors and _is_pickle(head):
            raise CheckpointError(
                f"{path} is a pickle (torch.save) file; latent-studio only loads safetensors "
                "checkpoints, which cannot run code"
            )
        if header_len is None or not looks_like_safetensors:
            raise CheckpointError(f"{path} is not a safetensors file (or is truncated: {size} bytes)")
        if 8 + header_len > size:
            raise CheckpointError(f"{path} is truncated: {size} bytes, shorter than its own header")
        f.seek(8)
        raw = f.read(header_len)
    try:
        header = json.loads(raw)
        data_end = max(
            (_data_end(entry) for key, entry in header.items() if key != "__metadata__"), default=0
        )
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # JSON, or the wrong layout
        raise CheckpointError(f"{path} has a corrupt safetensors header: {exc}") from exc
    if 8 + header_len + data_end > size:
        raise CheckpointError(
            f"{path} is truncated: {size} bytes, but its header describes {8 + header_len + data_end}"
        )
    return header


def _is_pickle(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC) or (len(head) >= 2 and head[0] == 0x80 and head[1] in PICKLE_PROTOCOLS)


def _data_end(entry: dict) -> int:
    start, end = entry["data_offsets"]
    if not 0 <= int(start) <= int(end):
        raise ValueError(f"bad data offsets {entry['data_offsets']}")
    return int(end)


def _meta_from_header(path: Path, header: dict) -> dict:
    raw = (header.get("__metadata__") or {}).get(META_KEY)
    if raw is None:
        raise CheckpointError(f"{path} is a safetensors file but not a latent-studio checkpoint (no metadata)")
    try:
        meta = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{path} has corrupt latent-studio metadata: {exc}") from exc
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path} has corrupt latent-studio metadata (not a JSON object)")
    return meta


# -- modules and optimisers ----------------------------------------------------------------------
def with_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries under ``prefix``, with the prefix removed."""
    return {key[len(prefix) :]: t for key, t in tensors.items() if key.startswith(prefix)}


def load_module_state(module: nn.Module, tensors: dict[str, torch.Tensor], prefix: str, source: Path | str) -> None:
    """Load the ``prefix``-ed entries into ``module`` strictly, or explain which entries do not fit.

    Checked here rather than left to ``load_state_dict`` so the message names the file and reads
    "G.main.0.weight: checkpoint has (100, 512, 4, 4), model expects (64, 256, 4, 4)".
    """
    state = with_prefix(tensors, prefix)
    expected = module.state_dict()
    problems = [f"{prefix}{k}: missing from the checkpoint" for k in expected if k not in state]
    problems += [f"{prefix}{k}: in the checkpoint but not in this model" for k in state if k not in expected]
    problems += [
        f"{prefix}{k}: checkpoint has {tuple(state[k].shape)}, model expects {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    if problems:
        listed = "; ".join(problems[:MAX_LISTED_PROBLEMS])
        if len(problems) > MAX_LISTED_PROBLEMS:
            listed += f"; and {len(problems) - MAX_LISTED_PROBLEMS} more"
        raise CheckpointError(
            f"{source} does not fit this model; was it trained with another configuration? {listed}"
        )
    module.load_state_dict(state)


def optimizer_to_tensors(optimizer: torch.optim.Optimizer, prefix: str) -> tuple[dict[str, torch.Tensor], dict]:
    """Split ``optimizer.state_dict()`` into tensors (moments, step counts) keyed
    ``{prefix}{param_index}.{name}`` and a JSON-serialisable rest (param groups, scalars).

    The tensors are the optimizer's live state, not copies: save them before the next step.
    """
    state_dict = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {}
    for param_id, param_state in state_dict["state"].items():
        for name, value in param_state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}{param_id}.{name}"] = value
            else:
                scalars[f"{param_id}.{name}"] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def optimizer_from_tensors(
    optimizer: torch.optim.Optimizer,
    tensors: dict[str, torch.Tensor],
    prefix: str,
    extra: dict,
    source: Path | str = "checkpoint",
) -> None:
    """Inverse of :func:`optimizer_to_tensors`: restores moments and hyper-parameters exactly.

    The tensors are cloned: ``load_state_dict`` would otherwise keep the very tensors passed in.
    """
    state: dict[int, dict[str, Any]] = {}
    moments = {key: value.clone() for key, value in with_prefix(tensors, prefix).items()}
    entries = list(moments.items()) + list(extra.get("scalars", {}).items())
    try:
        for key, value in entries:
            param_id, name = key.split(".", 1)
            state.setdefault(int(param_id), {})[name] = value
        optimizer.load_state_dict({"state": state, "param_groups": extra["param_groups"]})
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{source}: optimiser state {prefix!r} does not fit this model: {exc}") from exc

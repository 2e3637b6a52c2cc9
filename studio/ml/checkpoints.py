"""Checkpoints: one safetensors file with JSON metadata in its header. Never pickle.

Keeping the metadata inside the safetensors header makes a checkpoint one file, so one
``os.replace`` writes it atomically: a crash mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

META_KEY = "latent_studio"
PICKLE_MAGICS = (b"PK\x03\x04", b"\x80")  # torch.save zip archive, raw pickle protocol 2+


class CheckpointError(ValueError):
    """A checkpoint cannot be used; the message names the file and says why."""


@dataclass
class Checkpoint:
    path: Path
    tensors: dict[str, torch.Tensor]
    meta: dict


def save_checkpoint(path: Path | str, tensors: dict[str, torch.Tensor], meta: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # contiguous CPU copies: safetensors refuses views and tensors that share storage
    flat = {key: t.detach().to("cpu").contiguous().clone() for key, t in tensors.items()}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(flat, tmp, metadata={META_KEY: json.dumps(meta)})
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _check_file(path: Path) -> None:
    """Refuse missing files and pickles before any parser sees them; check the header's length."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
    if any(head.startswith(magic) for magic in PICKLE_MAGICS):
        raise CheckpointError(
            f"{path} is a pickle (torch.save) file; latent-studio only loads safetensors checkpoints, "
            "which cannot run code when opened"
        )
    header_len = struct.unpack("<Q", head)[0] if len(head) == 8 else size
    if 8 + header_len > size:
        raise CheckpointError(f"{path} is truncated or not a safetensors file ({size} bytes)")
    with open(path, "rb") as f:
        f.seek(8)
        try:
            header = json.loads(f.read(header_len))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CheckpointError(f"{path} is not a safetensors file: {exc}") from exc
    data_end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    if 8 + header_len + data_end > size:
        raise CheckpointError(
            f"{path} is truncated: {size} bytes, its header describes {8 + header_len + data_end}"
        )


def read_checkpoint_meta(path: Path | str) -> dict:
    """The JSON metadata only (reads the header, not the weights)."""
    path = Path(path)
    _check_file(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(META_KEY)
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{path} is corrupt: {exc}") from exc
    if raw is None:
        raise CheckpointError(f"{path} is a safetensors file but not a latent-studio checkpoint (no metadata)")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path} has corrupt metadata: {exc}") from exc


def load_checkpoint(path: Path | str, device: str | torch.device = "cpu") -> Checkpoint:
    path = Path(path)
    meta = read_checkpoint_meta(path)
    try:
        tensors = load_file(str(path), device=str(device))
    except (SafetensorError, OSError, RuntimeError) as exc:
        raise CheckpointError(f"{path} is truncated or corrupt: {exc}") from exc
    return Checkpoint(path, tensors, meta)


def _with_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {key[len(prefix) :]: t for key, t in tensors.items() if key.startswith(prefix)}


def load_module_state(module: nn.Module, tensors: dict[str, torch.Tensor], prefix: str, source: Path | str) -> None:
    """Load ``prefix``-ed entries into ``module``, or explain exactly which entries do not fit."""
    state = _with_prefix(tensors, prefix)
    expected = module.state_dict()
    problems = [f"{prefix}{k}: missing from the checkpoint" for k in expected if k not in state]
    problems += [f"{prefix}{k}: not in this model" for k in state if k not in expected]
    problems += [
        f"{prefix}{k}: checkpoint has {tuple(state[k].shape)}, model expects {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    if problems:
        listed = "; ".join(problems[:4]) + (f"; and {len(problems) - 4} more" if len(problems) > 4 else "")
        raise CheckpointError(
            f"{source} does not fit this model (was it trained with another configuration?): {listed}"
        )
    module.load_state_dict(state)


def optimizer_to_tensors(optimizer: torch.optim.Optimizer, prefix: str) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer's state_dict into tensors (for safetensors) and JSON (the rest)."""
    state_dict = optimizer.state_dict()
    tensors, scalars = {}, {}
    for param_id, param_state in state_dict["state"].items():
        for name, value in param_state.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}{param_id}.{name}"] = value
            else:
                scalars[f"{param_id}.{name}"] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def optimizer_from_tensors(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], prefix: str, extra: dict) -> None:
    state: dict[int, dict] = {}
    for key, value in _with_prefix(tensors, prefix).items():
        param_id, name = key.split(".", 1)
        state.setdefault(int(param_id), {})[name] = value
    for key, value in extra.get("scalars", {}).items():
        param_id, name = key.split(".", 1)
        state.setdefault(int(param_id), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": extra["param_groups"]})

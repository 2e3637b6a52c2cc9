"""Choosing the compute device: cuda > mps > cpu unless the user says otherwise."""

from __future__ import annotations

import os

import torch

DEVICE_ENV = "LATENT_STUDIO_DEVICE"


def pick_device(preference: str | None = None) -> torch.device:
    """``preference`` None or "auto" -> $LATENT_STUDIO_DEVICE, else the best available device.

    An explicit device that is not available raises ValueError rather than silently falling back:
    a user who asked for the GPU should learn that they are not getting it.
    """
    choice = preference if preference not in (None, "", "auto") else os.environ.get(DEVICE_ENV, "auto")
    if choice in ("", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(choice)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {choice!r} (use cuda, cuda:N, mps or cpu)") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {choice!r} asked for, but this torch has no usable CUDA GPU")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device {choice!r} asked for, but only {torch.cuda.device_count()} GPU(s) exist")
    elif device.type == "mps" and not _mps_available():
        raise ValueError("device 'mps' asked for, but Apple's Metal backend is not available")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"unsupported device {choice!r} (use cuda, cuda:N, mps or cpu)")
    return device


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def describe_device(device: torch.device | str) -> str:
    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        return f"cuda:{index} ({props.name}, {props.total_memory / 2**30:.0f} GiB)"
    if device.type == "mps":
        return "mps (Apple Metal)"
    return f"cpu ({torch.get_num_threads()} threads)"

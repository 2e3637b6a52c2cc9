"""Choosing the compute device: cuda > mps > cpu unless the user says otherwise."""

from __future__ import annotations

import os

import torch

DEVICE_ENV = "LATENT_STUDIO_DEVICE"
_HINT = "use auto, cpu, cuda, cuda:N or mps"


def pick_device(preference: str | None = None) -> torch.device:
    """``preference`` None or "auto" -> $LATENT_STUDIO_DEVICE if set, else cuda, mps, cpu in that
    order of preference.

    An explicit device that is not available raises ValueError rather than silently falling back:
    a user who asked for the GPU should learn that they are not getting it.
    """
    choice = (preference or "auto").strip().lower()
    if choice == "auto":
        choice = os.environ.get(DEVICE_ENV, "auto").strip().lower() or "auto"
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(choice)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {choice!r} ({_HINT})") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {choice!r} was asked for, but this torch build sees no CUDA GPU")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ValueError(f"device {choice!r} was asked for, but only {count} CUDA GPU(s) exist")
    elif device.type == "mps":
        if not _mps_available():
            raise ValueError("device 'mps' was asked for, but Apple's Metal backend is not available")
    elif device.type != "cpu":
        raise ValueError(f"unsupported device {choice!r} ({_HINT})")
    return device


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def describe_device(device: torch.device | str, cpu_threads: int | None = None) -> str:
    """One line for logs and the About box, e.g. "cuda:0 (NVIDIA H100, 80 GB)", "cpu (2 threads)".
    ``cpu_threads`` defaults to this thread's intra-op threads."""
    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        return f"cuda:{index} ({props.name}, {props.total_memory / 1e9:.0f} GB)"
    if device.type == "mps":
        return "mps (Apple Metal)"
    return f"cpu ({cpu_threads or torch.get_num_threads()} threads)"

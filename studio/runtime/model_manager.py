"""One compute device, the models loaded by name, and one inference thread.

Panels never run a network on the UI thread. They ``submit`` a request tagged with their own
requester name; the inference thread computes only the newest pending request of each requester
(a slider drag that queues 30 requests costs one forward pass, not 30), and a result that was
overtaken by a newer request of the same requester while it was computed is dropped. This is the
pattern of the StyleGAN3 visualizer's renderer.

Training publishes *copies* of its generator here; publishing swaps one dict entry under a lock,
so the inference thread never sees half-updated weights and never waits for a training step.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from PySide6.QtCore import QObject, QThread, Signal
from torch import nn

from studio.ml.device import pick_device
from studio.runtime.openmp import release_workers

log = logging.getLogger(__name__)

IDLE_RELEASE_SECONDS = 1.0  # a dragged slider's requests come faster: its team stays while it moves

InferenceFn = Callable[[nn.Module, torch.device], Any]


@dataclass(frozen=True)
class LoadedModel:
    name: str
    module: nn.Module  # used by the inference thread only
    meta: dict = field(default_factory=dict)
    version: int = 0  # bumps on every publish under the same name


@dataclass
class _Request:
    requester: str
    stamp: int
    model: str
    fn: InferenceFn



def model_name_for(checkpoint: Path, kind: str) -> str:
    """``"vaegan: walk-run/last"``: the name a checkpoint's model is published under (the kind, the
    folder and the file), short enough for a combo."""
    return f"{kind}: {checkpoint.parent.name}/{checkpoint.stem}"

class ModelManager(QObject):
    """Signals are emitted from the inference thread and arrive queued on the receiver's thread."""

    result_ready = Signal(str, int, object)  # requester, stamp, result
    request_failed = Signal(str, int, str)  # requester, stamp, message
    model_published = Signal(str)  # name

    def __init__(self, device: str | torch.device | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.device = device if isinstance(device, torch.device) else pick_device(device)
        self._models: dict[str, LoadedModel] = {}
        self._models_lock = threading.Lock()
        self._pending: OrderedDict[str, _Request] = OrderedDict()  # requester -> newest request
        self._latest: dict[str, int] = {}  # requester -> newest stamp submitted
        self._stamp = 0
        self._wake = threading.Condition()
        self._closing = False
        self.dropped = 0  # requests replaced before they ran, plus results overtaken while running
        self.computed = 0
        self._thread = _InferenceThread(self)
        self._thread.start()

    # -- models -------------------------------------------------------------------------------
    def publish(self, name: str, module: nn.Module, meta: dict | None = None) -> None:
        """Make ``module`` (a private copy: nobody else may touch it) the model called ``name``.

        Thread-safe; the training thread calls this with snapshots of the weights it trains.
        """
        module = module.to(self.device).eval()
        with self._models_lock:
            old = self._models.get(name)
            version = old.version + 1 if old else 1
            self._models[name] = LoadedModel(name, module, dict(meta or {}), version)
        self.model_published.emit(name)

    def get(self, name: str) -> LoadedModel | None:
        with self._models_lock:
            return self._models.get(name)

    def names(self) -> list[str]:
        with self._models_lock:
            return sorted(self._models)

    def remove(self, name: str) -> None:
        with self._models_lock:
            self._models.pop(name, None)

    # -- inference ----------------------------------------------------------------------------
    def submit(self, requester: str, model: str, fn: InferenceFn) -> int:
        """Queue ``fn(module, device)`` for ``model``; returns the request's stamp.

        An older request of the same requester that has not started yet is discarded.
        """
        with self._wake:
            self._stamp += 1
            stamp = self._stamp
            if self._pending.pop(requester, None) is not None:
                self.dropped += 1
            self._pending[requester] = _Request(requester, stamp, model, fn)
            self._latest[requester] = stamp
            self._wake.notify()
        return stamp

    def _next_request(self) -> _Request | None:
        if not self._wait_for_work(IDLE_RELEASE_SECONDS):
            release_workers()  # quiet: free this thread's OpenMP team for training and jobs
            self._wait_for_work(None)
        with self._wake:
            if self._closing:
                return None
            _, request = self._pending.popitem(last=False)  # oldest requester first: fair
            return request

    def _wait_for_work(self, timeout: float | None) -> bool:
        """Wait for a request or the shutdown (True), or until ``timeout`` passes (False). The lock
        is free again on return, so submitters never wait on what the caller does next."""
        with self._wake:
            return bool(self._wake.wait_for(lambda: self._pending or self._closing, timeout))

    def _run(self, request: _Request) -> None:
        loaded = self.get(request.model)
        try:
            if loaded is None:
                raise KeyError(f"no model named {request.model!r} is loaded")
            with torch.inference_mode():
                result = request.fn(loaded.module, self.device)
        except Exception as exc:
            log.warning("inference for %s failed:\n%s", request.requester, traceback.format_exc())
            self.request_failed.emit(request.requester, request.stamp, f"{type(exc).__name__}: {exc}")
            return
        with self._wake:
            stale = self._latest.get(request.requester) != request.stamp
            self.computed += 1
            if stale:
                self.dropped += 1
        if not stale:
            self.result_ready.emit(request.requester, request.stamp, result)

    def shutdown(self) -> None:
        with self._wake:
            self._closing = True
            self._wake.notify_all()
        self._thread.wait()


class _InferenceThread(QThread):
    def __init__(self, manager: ModelManager):
        super().__init__()
        self.setObjectName("inference")
        self._manager = manager

    def run(self) -> None:
        while (request := self._manager._next_request()) is not None:
            self._manager._run(request)

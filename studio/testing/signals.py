"""Record a worker's signals on the UI thread, for tests and benchmarks.

A signal of an object that lives on another thread (the training worker) calls a plain Python
callable -- a lambda, ``list.append``, pytest-qt's ``waitSignal`` -- in the emitting thread. A
test that connects new callables on the UI thread while the worker is inside such a call races
inside PySide: we have seen a segfault and a lost connection that left ``waitUntil`` waiting
forever. The studio's panels never do this: they connect QObject methods, which Qt queues to
the UI thread. :class:`SignalRecorder` does the same for tests:

    recorder = SignalRecorder(studio.training)     # every public signal of the worker
    studio.training.start(request)
    args = recorder.wait(qtbot, "finished", timeout=60_000)
    recorder.args("metrics")                        # [(records,), ...] in arrival order
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal


class _Tap(QObject):
    """One signal's receiver. A QObject method, so emissions arrive queued on this thread."""

    def __init__(self, name: str, recorder: SignalRecorder):
        super().__init__()
        self._name = name
        self._recorder = recorder

    def on_emit(self, *args) -> None:
        self._recorder._record(self._name, args)


class SignalRecorder(QObject):
    """Records the emissions of ``source``'s signals (all public ones, or those named) as they
    arrive on the thread that made the recorder. ``recorded`` is emitted after each one."""

    recorded = Signal(str)  # the signal's name

    def __init__(self, source: QObject, *names: str):
        super().__init__()
        names = names or public_signal_names(source)
        self._args: dict[str, list[tuple]] = {name: [] for name in names}
        self._times: dict[str, list[float]] = {name: [] for name in names}
        self._taps = [_Tap(name, self) for name in names]
        for tap, name in zip(self._taps, names):
            getattr(source, name).connect(tap.on_emit)

    def _record(self, name: str, args: tuple) -> None:
        self._args[name].append(args)
        self._times[name].append(time.perf_counter())
        self.recorded.emit(name)

    def args(self, name: str) -> list[tuple]:
        """The arguments of every emission of ``name`` so far, oldest first."""
        return self._args[name]

    def times(self, name: str) -> list[float]:
        """``time.perf_counter()`` at the arrival of each emission of ``name``."""
        return self._times[name]

    def matching(self, name: str, where: Callable[..., bool] | None = None) -> list[tuple]:
        return [args for args in self._args[name] if where is None or where(*args)]

    def wait(self, qtbot, name: str, *, timeout: int = 10_000, where: Callable[..., bool] | None = None,
             count: int = 1) -> tuple:
        """Process UI events until ``count`` emissions of ``name`` (those for which ``where(*args)``
        holds, if given) have arrived; return the arguments of the last of them."""
        try:
            qtbot.waitUntil(lambda: len(self.matching(name, where)) >= count, timeout=timeout)
        except Exception as exc:  # pytest-qt's TimeoutError: say what did arrive
            raise AssertionError(f"waited {timeout} ms for {count} x {name!r}; arrived: {self.summary()}") from exc
        return self.matching(name, where)[count - 1]

    def summary(self) -> str:
        """Counts per signal, and the last arguments of the small ones (states, messages)."""
        parts = []
        for name, calls in self._args.items():
            last = calls[-1] if calls else None
            shown = f", last {last!r}" if last is not None and len(repr(last)) < 200 else ""
            parts.append(f"{name}: {len(calls)}{shown}")
        return "; ".join(parts)


def public_signal_names(source: QObject) -> list[str]:
    """The signals that ``source``'s own classes declare (not Qt's), without the ``_`` ones."""
    names = []
    for klass in type(source).__mro__:
        if klass.__module__.startswith(("PySide6", "shiboken6")):
            continue
        names += [n for n, v in vars(klass).items() if isinstance(v, Signal) and not n.startswith("_")]
    return sorted(set(names))

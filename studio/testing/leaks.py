"""What a test left behind once its studios are closed: the leak check of the plugin fixtures.

``make_studio`` (and so ``studio_window``) takes a :class:`LeakWatch` before it builds anything;
after the test's fixtures are torn down (every window closed, every studio shut down) the watch
lists what is left:

- Python threads started during the test that are still alive,
- QThreads running that were not running before the test,
- top-level windows opened during the test that are still open,
- a training worker still busy after ``Studio.shutdown()``,
- a Studio, its main window or one of its panels still alive after garbage collection: something
  outside the window holds it (a module-level cache, a connection to a longer-lived object, a
  thread). The main windows are deleted first, as pytest-qt would delete them later: a closed
  window that is never deleted keeps itself alive through any lambda connected to a signal of one
  of its children (a cycle through Qt that Python's garbage collector cannot see).
"""

from __future__ import annotations

import gc
import threading
import time
import weakref
from types import FrameType

import shiboken6
from PySide6.QtCore import QCoreApplication, QThread
from PySide6.QtWidgets import QApplication

GRACE_SECONDS = 5.0  # threads that are ending get this long to finish


class LeakWatch:
    def __init__(self) -> None:
        self._threads = set(threading.enumerate())
        self._qthreads = weakref.WeakSet(_running_qthreads())
        self._windows = {_address(w) for w in _open_windows()}
        self._objects: list[tuple[str, weakref.ref]] = []  # what must be collected, named
        self._main_windows: list[weakref.ref] = []
        self._problems: list[str] = []

    def watch(self, studio) -> None:
        """Expect ``studio``, its window and its panels to be collected after the test."""
        self._objects.append(("the Studio", weakref.ref(studio)))
        if studio.window is not None:
            self._objects.append((f"its {type(studio.window).__name__}", weakref.ref(studio.window)))
            self._main_windows.append(weakref.ref(studio.window))
        for panel_id, panel in studio.panels.items():
            self._objects.append((f"panel {panel_id!r} ({type(panel).__name__})", weakref.ref(panel)))

    def shut_down(self, studio) -> None:
        """Note what ``studio`` still runs after its ``shutdown()``."""
        if studio.training.busy:
            self._problems.append(f"the training worker is still {studio.training.state.value} after shutdown()")

    def leaks(self) -> list[str]:
        """What is left, in words (empty: nothing). Call once, after every studio is shut down."""
        problems = list(self._problems)
        deadline = time.monotonic() + GRACE_SECONDS
        for thread in set(threading.enumerate()) - self._threads:
            if isinstance(thread, threading._DummyThread):
                continue  # not started by Python (a QThread that logged): the QThread check covers it
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                problems.append(f"Python thread {thread.name!r} is still running")
        for qthread in _running_qthreads():
            if qthread not in self._qthreads and not qthread.wait(int(max(0.0, deadline - time.monotonic()) * 1000)):
                problems.append(f"QThread {qthread.objectName() or type(qthread).__name__!r} is still running")
        for window in _open_windows():
            if _address(window) not in self._windows:
                problems.append(f"window {type(window).__name__} {window.windowTitle()!r} is still open")
                window.close()  # so that it does not spill into the next test
        # pytest-qt closes the main windows and deletes them later (deleteLater): delete them now,
        # with their panels, so that only references from outside a window can keep anything alive
        for window in self._main_windows:
            _delete(window)
        gc.collect()
        for name, ref in self._objects:
            if ref() is not None:
                problems.append(f"{name} is still alive after garbage collection, held by {_holders(ref())}")
        return problems


def _running_qthreads() -> list[QThread]:
    """The QThreads made from Python (they have wrappers) that run now, but the main thread."""
    app = QCoreApplication.instance()
    main = app.thread() if app is not None else None
    return [obj for obj in gc.get_objects()
            # type(), not isinstance(): that would ask every object for its __class__, and some warn
            if issubclass(type(obj), QThread) and shiboken6.isValid(obj) and obj is not main and obj.isRunning()]


def _delete(window: weakref.ref) -> None:
    if window() is not None and shiboken6.isValid(window()):
        shiboken6.delete(window())


def _open_windows() -> list:
    app = QApplication.instance()
    return [w for w in app.topLevelWidgets() if w.isVisible()] if isinstance(app, QApplication) else []


def _address(widget) -> int:
    return shiboken6.getCppPointer(widget)[0]


def _holders(obj: object, limit: int = 4) -> str:
    """What refers to ``obj``, in words, for the failure message."""
    names = []
    for holder in gc.get_referrers(obj):
        if isinstance(holder, FrameType):
            continue  # the caller's
        if isinstance(holder, dict) and "__name__" in holder and "__builtins__" in holder:
            names.append(f"a global of module {holder['__name__']}")
        elif isinstance(holder, dict):
            owner = next((o for o in gc.get_referrers(holder) if getattr(o, "__dict__", None) is holder), None)
            names.append(f"an attribute of a {type(owner).__name__}" if owner is not None else "a dict")
        else:
            names.append(f"a {type(holder).__name__}")
    return ", ".join(names[:limit]) or "nothing Python can see (a C++ reference: a connection, a parent)"

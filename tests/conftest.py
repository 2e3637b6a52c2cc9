import os
import sys
import threading
import traceback

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = ["studio.testing.pulse"]  # the pulse_null_sink fixture: a real-time audio output


def thread_stacks() -> str:
    """The other threads' Python stacks: where a worker was when a test gave up waiting for it."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident():
            continue  # the test's own stack is in its traceback
        parts.append(f"--- thread {names.get(ident, ident)}\n" + "".join(traceback.format_stack(frame)))
    return "\n".join(parts)


@pytest.fixture
def one_torch_thread():
    """Tiny models gain nothing from a second thread, and on a busy 2-core machine OpenMP's
    spinning second thread made them many times slower (an inversion took 25 s instead of 1 s)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and threading.active_count() > 1:
        report.sections.append(("thread stacks when the test failed", thread_stacks()))

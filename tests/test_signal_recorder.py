"""SignalRecorder: a worker thread's signals, recorded on the UI thread."""

import threading

import pytest
from PySide6.QtCore import QObject, QThread, QTimer, Signal

from studio.testing.signals import SignalRecorder, public_signal_names


class Emitter(QObject):
    value = Signal(int, object)
    done = Signal()
    _private = Signal()


@pytest.fixture
def emitter_on_a_thread(qapp):
    thread = QThread()
    emitter = Emitter()
    emitter.moveToThread(thread)
    thread.start()
    yield emitter
    thread.quit()
    thread.wait(5000)


def emit_there(emitter, *calls):
    """Run the emissions on the emitter's own thread."""
    QTimer.singleShot(0, emitter, lambda: [call() for call in calls])


def test_emissions_arrive_on_the_ui_thread_in_order(emitter_on_a_thread, qtbot):
    emitter = emitter_on_a_thread
    recorder = SignalRecorder(emitter)
    threads = []
    recorder.recorded.connect(lambda name: threads.append(threading.current_thread()))
    emit_there(emitter, lambda: emitter.value.emit(1, "a"), lambda: emitter.value.emit(2, None), emitter.done.emit)
    assert recorder.wait(qtbot, "done", timeout=5000) == ()
    assert recorder.args("value") == [(1, "a"), (2, None)]
    assert recorder.times("value")[0] <= recorder.times("value")[1]
    assert set(threads) == {threading.main_thread()}


def test_wait_counts_only_matching_emissions(emitter_on_a_thread, qtbot):
    emitter = emitter_on_a_thread
    recorder = SignalRecorder(emitter, "value")
    emit_there(emitter, *[lambda i=i: emitter.value.emit(i, None) for i in range(5)])
    assert recorder.wait(qtbot, "value", where=lambda i, _: i % 2 == 1, count=2, timeout=5000) == (3, None)


def test_a_timeout_says_what_did_arrive(emitter_on_a_thread, qtbot):
    emitter = emitter_on_a_thread
    recorder = SignalRecorder(emitter)
    emit_there(emitter, lambda: emitter.value.emit(7, "x"))
    recorder.wait(qtbot, "value", timeout=5000)
    with pytest.raises(AssertionError, match=r"'done'.*value: 1, last \(7, 'x'\)"):
        recorder.wait(qtbot, "done", timeout=100)


def test_only_the_classes_own_public_signals_are_recorded(qapp):
    assert public_signal_names(Emitter()) == ["done", "value"]

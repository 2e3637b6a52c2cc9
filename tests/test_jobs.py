"""The job thread: long work with progress and cancel, off the UI thread."""

import threading

import pytest

from studio.runtime.jobs import JobRunner
from studio.testing.signals import SignalRecorder


@pytest.fixture
def jobs(qapp):
    runner = JobRunner()
    yield runner
    runner.shutdown()


def counting(steps, threads=None, release=None):
    def fn(context):
        if threads is not None:
            threads.append(threading.current_thread())
        done = 0
        while done < steps and not context.cancelled():
            if release is not None:
                release.wait(5)
            done += 1
            context.progress(done, steps)
        return done

    return fn


def test_a_job_runs_off_the_ui_thread_and_reports_progress(jobs, qtbot):
    seen = SignalRecorder(jobs)
    threads = []
    job = jobs.submit("count", counting(1000, threads))
    assert seen.wait(qtbot, "finished", timeout=10_000) == (job.id, 1000)
    assert threads and threads[0] is not threading.main_thread()
    progress = seen.args("progress")
    assert progress[-1] == (job.id, 1000, 1000)  # the last update always arrives
    assert len(progress) < 100  # throttled: a tight loop does not flood the UI
    assert seen.args("started") == [(job.id,)]


def test_cancel_stops_a_running_job_and_skips_a_queued_one(jobs, qtbot):
    seen = SignalRecorder(jobs)
    release = threading.Event()
    running = jobs.submit("slow", counting(10**6, release=release))
    queued = jobs.submit("queued", counting(10))
    seen.wait(qtbot, "started", timeout=5000)
    running.cancel()
    queued.cancel()
    release.set()
    assert seen.wait(qtbot, "finished", timeout=5000)[0] == running.id
    _, result = seen.wait(qtbot, "finished", count=2, timeout=5000)
    assert result is None  # cancelled before it started: never run
    assert seen.args("started") == [(running.id,)]


def test_a_failing_job_is_reported_by_name(jobs, qtbot):
    seen = SignalRecorder(jobs)

    def broken(context):
        raise RuntimeError("singular matrix")

    job = jobs.submit("closed loop", broken)
    job_id, message = seen.wait(qtbot, "failed", timeout=5000)
    assert job_id == job.id and "closed loop" in message and "singular matrix" in message
    later = jobs.submit("next", counting(3))  # the runner keeps going
    assert seen.wait(qtbot, "finished", timeout=5000) == (later.id, 3)

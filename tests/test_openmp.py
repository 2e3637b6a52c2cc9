"""Which threads hold OpenMP workers: the UI thread none, a background thread only while it works."""

import os
import subprocess
import sys
import threading

import pytest
import torch
from torch import nn

from studio.runtime import model_manager, openmp
from studio.runtime.jobs import JobRunner
from studio.runtime.model_manager import ModelManager
from studio.runtime.training_worker import RunRequest, RunState
from studio.testing.signals import SignalRecorder

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="libgomp's pause, found via /proc")


def thread_ids() -> set[int]:
    return {int(tid) for tid in os.listdir("/proc/self/task")}


def parallel_work() -> set[int]:
    """Run an op big enough for two OpenMP threads, on two; returns the threads it started."""
    torch.set_num_threads(2)  # may start a thread of torch's own pthreadpool, which stays
    before = thread_ids()
    torch.ones(1 << 21).mul_(2)
    workers = thread_ids() - before
    assert workers, "the op ran without starting an OpenMP worker"
    return workers


def in_new_thread(fn):
    out = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    thread.join()
    return out[0]


@linux_only
def test_release_workers_ends_the_calling_threads_openmp_workers(qtbot):
    def work_then_release():
        return parallel_work(), openmp.release_workers()

    workers, released = in_new_thread(work_then_release)
    assert released
    qtbot.waitUntil(lambda: not workers & thread_ids(), timeout=5_000)  # they exit as they wake


@linux_only
def test_release_finds_torchs_libgomp_among_other_copies(qtbot):
    import sklearn.datasets  # noqa: F401  (its wheel loads a libgomp of its own, sorted before torch's)

    assert len({line.split()[-1] for line in open("/proc/self/maps") if "/libgomp" in line}) > 1
    openmp._libgomp_pause.cache_clear()
    test_release_workers_ends_the_calling_threads_openmp_workers(qtbot)


@linux_only
def test_without_a_release_the_workers_stay_while_their_thread_lives():
    """The control for the tests above: an idle thread's workers do not go by themselves."""
    worked, done, workers = threading.Event(), threading.Event(), []

    def work_then_idle():
        workers.extend(parallel_work())
        worked.set()
        done.wait(10)

    thread = threading.Thread(target=work_then_idle)
    thread.start()
    try:
        assert worked.wait(10)
        done.wait(0.5)
        assert set(workers) <= thread_ids()
    finally:
        done.set()
        thread.join()


def test_the_ui_thread_computes_serially_while_new_threads_get_every_thread():
    usual = in_new_thread(torch.get_num_threads)
    in_new_thread(lambda: torch.set_num_threads(3))  # a default that one thread could not be mistaken for
    openmp.background_threads.cache_clear()
    try:
        serial = in_new_thread(lambda: (openmp.compute_serially_on_this_thread(), torch.get_num_threads())[1])
        assert serial == 1
        assert in_new_thread(torch.get_num_threads) == openmp.background_threads() == 3
    finally:
        openmp.background_threads.cache_clear()
        in_new_thread(lambda: torch.set_num_threads(usual))


@linux_only
def test_the_inference_thread_frees_its_workers_once_requests_stop(qtbot, monkeypatch):
    monkeypatch.setattr(model_manager, "IDLE_RELEASE_SECONDS", 0.05)
    models = ModelManager("cpu")
    models.publish("identity", nn.Identity())
    try:
        with qtbot.waitSignal(models.result_ready, timeout=10_000) as result:
            models.submit("test", "identity", lambda module, device: parallel_work())
        workers = result.args[2]
        qtbot.waitUntil(lambda: not workers & thread_ids(), timeout=5_000)
    finally:
        models.shutdown()


@linux_only
def test_the_job_thread_frees_its_workers_after_a_job(qtbot):
    jobs = JobRunner()
    try:
        with qtbot.waitSignal(jobs.finished, timeout=10_000) as result:
            jobs.submit("parallel", lambda context: parallel_work())
        workers = result.args[1]
        qtbot.waitUntil(lambda: not workers & thread_ids(), timeout=5_000)
    finally:
        jobs.shutdown()


def test_the_training_thread_frees_its_workers_when_a_run_ends(make_studio, qtbot, tmp_path, monkeypatch):
    from studio.catalog import RunSetup
    from studio.runtime import training_worker

    calls = []  # the thread of each release
    monkeypatch.setattr(training_worker, "release_workers",
                        lambda: calls.append(training_worker.QThread.currentThread().objectName()))
    studio = make_studio()
    seen = SignalRecorder(studio.training)
    setup = RunSetup("dcgan", "shapes", image_size=32, channels=1, seed=0,
                     config={"nz": 8, "ngf": 8, "ndf": 8, "batch_size": 8})
    studio.training.start(RunRequest(3, tmp_path / "run", setup, sample_every=100, checkpoint_every=100))
    seen.wait(qtbot, "finished", timeout=60_000)
    assert calls == ["training"]  # once: when it finished, on its own thread, not while preparing or running
    assert studio.training.state is RunState.FINISHED


def test_the_command_sets_the_spin_time_before_torch_is_loaded(tmp_path):
    """libgomp reads GOMP_SPINCOUNT once, as torch loads it: main() must set it before anything
    imports torch, and leave a value the user chose."""
    script = ("import os, sys\n"
              "import studio.cli\n"
              "assert 'torch' not in sys.modules, 'importing the CLI loaded torch'\n"
              "studio.cli.main(['plugins'])\n"
              "print('spin', os.environ['GOMP_SPINCOUNT'])\n")
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"} | {"LATENT_STUDIO_HOME": str(tmp_path)}
    for user_value, expected in ((None, openmp.SPIN_ENVIRONMENT["GOMP_SPINCOUNT"]), ("12345", "12345")):
        run_env = env if user_value is None else env | {"GOMP_SPINCOUNT": user_value}
        done = subprocess.run([sys.executable, "-c", script], env=run_env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert f"spin {expected}" in done.stdout

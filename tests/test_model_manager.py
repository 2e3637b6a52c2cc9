"""The inference thread: newest request per requester wins, stale results never arrive."""

import threading

import pytest
import torch
from torch import nn

from studio.runtime.model_manager import ModelManager


@pytest.fixture
def manager(qapp):
    m = ModelManager("cpu")
    yield m
    m.shutdown()


def collect(manager, qtbot):
    results = []
    manager.result_ready.connect(lambda requester, stamp, result: results.append((requester, stamp, result)))
    return results


def test_result_arrives_on_the_ui_thread(manager, qtbot):
    manager.publish("double", nn.Linear(1, 1, bias=False).requires_grad_(False))
    manager.get("double").module.weight.fill_(2.0)
    threads = []
    manager.result_ready.connect(lambda *args: threads.append(threading.current_thread()))
    with qtbot.waitSignal(manager.result_ready, timeout=5000) as blocker:
        stamp = manager.submit("panel", "double", lambda m, device: m(torch.ones(1, 1, device=device)).item())
    assert blocker.args == ["panel", stamp, 2.0]
    assert threads == [threading.main_thread()]


def test_only_the_newest_request_of_a_requester_is_computed(manager, qtbot):
    manager.publish("id", nn.Identity())
    release = threading.Event()
    started = threading.Event()
    computed = []

    def blocking(model, device):
        started.set()
        release.wait(5)
        computed.append("first")
        return "first"

    results = collect(manager, qtbot)
    manager.submit("slider", "id", blocking)
    assert started.wait(5)
    stamps = [manager.submit("slider", "id", lambda m, d, i=i: computed.append(i) or i) for i in range(10)]
    release.set()
    qtbot.waitUntil(lambda: len(results) == 1, timeout=5000)
    qtbot.wait(50)  # nothing else may follow
    assert results == [("slider", stamps[-1], 9)]
    assert computed == ["first", 9]  # requests 0..8 were never run
    assert manager.dropped == 10  # 9 replaced while pending + the overtaken first result


def test_requesters_do_not_drop_each_other(manager, qtbot):
    manager.publish("id", nn.Identity())
    results = collect(manager, qtbot)
    manager.submit("a", "id", lambda m, d: "a")
    manager.submit("b", "id", lambda m, d: "b")
    qtbot.waitUntil(lambda: len(results) == 2, timeout=5000)
    assert sorted(r[2] for r in results) == ["a", "b"]


def test_failures_are_reported_not_raised(manager, qtbot):
    with qtbot.waitSignal(manager.request_failed, timeout=5000) as blocker:
        manager.submit("panel", "missing", lambda m, d: None)
    assert "missing" in blocker.args[2]
    manager.publish("id", nn.Identity())
    with qtbot.waitSignal(manager.request_failed, timeout=5000) as blocker:
        manager.submit("panel", "id", lambda m, d: 1 / 0)
    assert "ZeroDivisionError" in blocker.args[2]


def test_publish_replaces_the_model_and_bumps_its_version(manager):
    manager.publish("g", nn.Identity(), {"step": 1})
    manager.publish("g", nn.Identity(), {"step": 2})
    loaded = manager.get("g")
    assert loaded.version == 2 and loaded.meta == {"step": 2}
    assert not loaded.module.training

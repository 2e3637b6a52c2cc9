import numpy as np
import pytest

from studio.ml.smoothing import debiased_ema
from studio_plugins.trainer_monitor.loss_plot import LossPlot


@pytest.fixture
def plot(qtbot):
    widget = LossPlot(smoothing=0.9)
    qtbot.addWidget(widget)
    return widget


def records(n, start=1):
    rng = np.random.default_rng(start)
    return [{"step": s, "loss_D": float(rng.random()), "loss_G": float(rng.random() + 1), "D_x": 0.5}
            for s in range(start, start + n)]


def test_only_losses_are_plotted_smoothed_and_debiased(plot):
    batch = records(3000)  # past the first growth of the arrays
    for start in range(0, 3000, 7):
        plot.add_records(batch[start : start + 7])
    assert set(plot.series) == {"loss_D", "loss_G"}
    series = plot.series["loss_D"]
    raw = [r["loss_D"] for r in batch]
    assert series.steps.tolist() == list(range(1, 3001)) and series.raw.tolist() == raw
    np.testing.assert_allclose(series.smooth, debiased_ema(raw, 0.9))


def test_redraws_are_batched_and_flushed(plot, qtbot):
    plot.add_records(records(5))
    item = plot.series["loss_G"].smooth_item
    assert item.getData()[0] is None  # not drawn at once: the next points may come within ms
    plot.add_records(records(5, start=6))
    qtbot.waitUntil(lambda: item.getData()[0] is not None and len(item.getData()[0]) == 10, timeout=2000)
    plot.add_records(records(1, start=11))
    plot.flush()
    assert len(item.getData()[0]) == 11


def test_new_smoothing_weight_redraws_the_whole_history(plot):
    plot.add_records(records(50))
    plot.smoothing.setValue(0.0)
    series = plot.series["loss_D"]
    np.testing.assert_array_equal(series.smooth, series.raw)  # weight 0: no smoothing
    np.testing.assert_array_equal(series.smooth_item.getData()[1], series.raw)
    plot.add_records(records(1, start=51))
    assert len(series.smooth) == 51


def test_clear_forgets_everything(plot, qtbot):
    plot.add_records(records(5))
    plot.clear()
    assert plot.series == {}
    qtbot.wait(600)  # the pending redraw must not bring anything back
    assert plot.series == {}

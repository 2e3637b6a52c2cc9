import math

import numpy as np
import pytest

from studio.ml.smoothing import DebiasedEMA, debiased_ema


def test_first_value_is_the_first_input_not_pulled_toward_zero():
    assert debiased_ema([4.0, 1.0], 0.99)[0] == 4.0
    assert debiased_ema(np.array([-3.0]), 0.6)[0] == -3.0


def test_constant_input_stays_constant():
    assert np.allclose(debiased_ema([5.0] * 50, 0.9), 5.0, rtol=0, atol=1e-12)


def test_matches_the_tensorboard_formula():
    values, weight = [1.0, 3.0, 2.0], 0.5
    biased, expected = 0.0, []
    for n, v in enumerate(values, start=1):
        biased = weight * biased + (1 - weight) * v
        expected.append(biased / (1 - weight**n))
    assert np.allclose(debiased_ema(values, weight), expected)
    assert np.array_equal(debiased_ema(values, 0.0), values)  # weight 0: no smoothing


def test_smooths_noise_and_follows_a_step():
    noisy = 1.0 + np.random.default_rng(0).normal(0, 0.5, 2000)
    smooth = debiased_ema(noisy, 0.95)
    assert smooth[500:].std() < 0.25 * noisy[500:].std()
    stepped = debiased_ema([0.0] * 100 + [1.0] * 100, 0.9)
    assert stepped[99] == 0.0 and stepped[-1] > 0.99


def test_non_finite_values_are_skipped():
    smoothed = debiased_ema([math.nan, 2.0, math.inf, 4.0, -math.inf], 0.5)
    assert math.isnan(smoothed[0])  # nothing to carry yet
    assert smoothed[1] == 2.0 and smoothed[2] == 2.0  # inf carried over
    assert smoothed[3] == pytest.approx((0.25 * 2 + 0.5 * 4) / 0.75) and smoothed[4] == smoothed[3]


def test_incremental_matches_batch_and_weight_is_checked():
    values = np.random.default_rng(1).normal(size=30)
    ema = DebiasedEMA(0.8)
    assert np.allclose([ema.update(v) for v in values], debiased_ema(values, 0.8))
    for bad in (1.0, -0.1):
        with pytest.raises(ValueError):
            debiased_ema([1.0], bad)
    assert len(debiased_ema([], 0.5)) == 0

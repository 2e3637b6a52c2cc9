import math

import numpy as np

from studio.ml.smoothing import DebiasedEMA, debiased_ema


def test_first_value_is_not_pulled_toward_zero():
    assert debiased_ema([5.0, 5.0, 5.0], 0.9).tolist() == [5.0, 5.0, 5.0]
    assert debiased_ema([4.0], 0.99)[0] == 4.0


def test_smooths_noise_and_follows_a_step():
    rng = np.random.default_rng(0)
    noisy = 1.0 + rng.normal(0, 0.5, 2000)
    smooth = debiased_ema(noisy, 0.95)
    assert smooth[500:].std() < 0.25 * noisy[500:].std()
    stepped = debiased_ema([0.0] * 100 + [1.0] * 100, 0.9)
    assert stepped[99] == 0.0 and stepped[-1] > 0.99


def test_nan_is_skipped():
    ema = DebiasedEMA(0.5)
    values = [ema.update(v) for v in (math.nan, 2.0, math.inf, 4.0)]
    assert math.isnan(values[0]) and values[1] == 2.0 and values[2] == 2.0
    assert values[3] == (0.25 * 2 + 0.5 * 4) / 0.75

"""Bias-corrected exponential moving average, as TensorBoard smooths its scalar plots."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


class DebiasedEMA:
    """Running EMA, debiased: dividing by 1 - weight**n removes the pull toward the zero start.

    Kept in the equivalent incremental form s += (v - s) * (1 - w) / (1 - w**n), so the first
    value and a constant input come out exactly. Non-finite values are skipped: the curve
    carries its last value across a NaN or inf (NaN until the first finite value).
    """

    def __init__(self, weight: float):
        if not 0.0 <= weight < 1.0:
            raise ValueError(f"smoothing weight must be in [0, 1), not {weight}")
        self.weight = weight
        self.value = math.nan
        self.count = 0  # finite values seen

    def update(self, value: float) -> float:
        value = float(value)
        if math.isfinite(value):
            self.count += 1
            gain = (1.0 - self.weight) / (1.0 - self.weight**self.count)  # 1 for the first value
            self.value = value if self.count == 1 else self.value + (value - self.value) * gain
        return self.value


def debiased_ema(values: Sequence[float] | np.ndarray, weight: float) -> np.ndarray:
    """The smoothed curve of ``values`` (float64, same length); ``weight`` in [0, 1)."""
    ema = DebiasedEMA(weight)
    return np.array([ema.update(v) for v in values], dtype=np.float64)

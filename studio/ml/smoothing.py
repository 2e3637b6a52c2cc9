"""Bias-corrected exponential moving average, as TensorBoard smooths its scalar plots."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


class DebiasedEMA:
    """Running EMA; dividing by 1 - weight**n removes the pull toward the zero start value.

    Non-finite values are skipped: the smoothed curve carries its last value across a NaN.
    """

    def __init__(self, weight: float):
        if not 0.0 <= weight < 1.0:
            raise ValueError(f"smoothing weight must be in [0, 1), not {weight}")
        self.weight = weight
        self._biased = 0.0
        self._count = 0

    def update(self, value: float) -> float:
        if math.isfinite(value):
            self._biased = self.weight * self._biased + (1.0 - self.weight) * value
            self._count += 1
        if self._count == 0:
            return math.nan
        return self._biased / (1.0 - self.weight**self._count)


def debiased_ema(values: Sequence[float] | np.ndarray, weight: float) -> np.ndarray:
    ema = DebiasedEMA(weight)
    return np.array([ema.update(float(v)) for v in values], dtype=np.float64)

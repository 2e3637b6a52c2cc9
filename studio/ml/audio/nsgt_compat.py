"""nsgt 0.19 on numpy >= 1.25, in one place.

nsgt's window design (``nsgt.nsgfwin_sl.nsgfwin``, used by every transform) ends with
``np.clip(M, min_win, np.inf, out=M)`` on an integer array. numpy 1.25 stopped casting the float
result back into an int ``out`` silently, so every transform fails with a UFuncTypeError. nsgt is
unmaintained since 2022, so we give that one module a numpy whose ``clip`` clamps an infinite
bound to the integer type's maximum first, which is what the old cast did. Nothing else changes.

Import nsgt through :func:`load_nsgt`, never directly.
"""

from __future__ import annotations

import types
import warnings

import numpy as np


def clip_into_int_fails() -> bool:
    """Whether this numpy refuses ``np.clip(int_array, lo, np.inf, out=int_array)``."""
    try:
        values = np.zeros(2, dtype=int)
        np.clip(values, 4, np.inf, out=values)
    except TypeError:  # numpy's UFuncTypeError
        return True
    return False


class _NumpyWithIntClip(types.ModuleType):
    """numpy, except that ``clip`` into an integer ``out`` takes an infinite bound as "no bound"."""

    def __getattr__(self, name: str):
        return getattr(np, name)

    @staticmethod
    def clip(a, a_min, a_max, out=None, **kwargs):
        if out is not None and np.issubdtype(out.dtype, np.integer):
            limits = np.iinfo(out.dtype)
            a_min = limits.min if a_min is not None and np.isneginf(a_min) else a_min
            a_max = limits.max if a_max is not None and np.isposinf(a_max) else a_max
        return np.clip(a, a_min, a_max, out=out, **kwargs)


def load_nsgt() -> types.ModuleType:
    """The ``nsgt`` package, patched if this numpy needs it (idempotent)."""
    with warnings.catch_warnings():  # "nsgt.fft falling back to numpy.fft": numpy's FFT is what we want
        warnings.simplefilter("ignore", UserWarning)
        import nsgt
        import nsgt.nsgfwin_sl as window_design
    if clip_into_int_fails() and not isinstance(window_design.np, _NumpyWithIntClip):
        window_design.np = _NumpyWithIntClip("numpy")
    return nsgt

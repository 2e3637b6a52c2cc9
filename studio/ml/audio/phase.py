"""Phase retrieval: a loop from a constant-Q magnitude alone (what the spectrogram GAN generates).

Fast Griffin-Lim (Perraudin, Balazs & Sondergaard 2013): Griffin-Lim alternates between the
coefficients with the wanted magnitude and the coefficients of an actual signal; the fast variant
adds a momentum term (0.99) to that alternation, which reaches a given spectral convergence in a
fraction of the iterations. Each iteration is one synthesis and one analysis of the codec's frame.
"""

from __future__ import annotations

import numpy as np

from studio.ml.audio.codec import ConstantQCodec

ITERATIONS = 32
MOMENTUM = 0.99


def spectral_convergence(codec: ConstantQCodec, magnitude: np.ndarray, audio: np.ndarray) -> np.ndarray:
    """||S - |analyse(x)||| / ||S|| per loop: 0 when the loop has exactly the wanted magnitude."""
    error = magnitude - np.abs(codec.analyse(audio))
    return np.linalg.norm(error, axis=(-2, -1)) / np.maximum(np.linalg.norm(magnitude, axis=(-2, -1)), 1e-12)


def retrieve_phase(
    codec: ConstantQCodec,
    magnitude: np.ndarray,
    iterations: int = ITERATIONS,
    momentum: float = MOMENTUM,
    seed: int | None = None,
) -> np.ndarray:
    """Loops ``(..., samples)`` whose constant-Q magnitude approximates ``magnitude``.

    ``seed`` None starts from zero phase, otherwise from a seeded random phase.
    ``momentum`` 0 is plain Griffin-Lim.
    """
    magnitude = np.asarray(magnitude, dtype=np.float64)
    if seed is None:
        coefficients = magnitude.astype(np.complex128)
    else:
        phase = np.random.default_rng(seed).uniform(0, 2 * np.pi, magnitude.shape)
        coefficients = magnitude * np.exp(1j * phase)
    previous = coefficients
    for _ in range(iterations):
        consistent = codec.analyse(codec.synthesise(coefficients))
        # the wanted magnitude with the consistent phase; scaling by |c| is ~15x cheaper than exp(i angle)
        projected = consistent * (magnitude / np.maximum(np.abs(consistent), 1e-30))
        coefficients = projected + momentum * (projected - previous)
        previous = projected
    return codec.synthesise(previous)

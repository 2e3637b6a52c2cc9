"""An invertible constant-Q codec: audio loop <-> fixed-size log-magnitude spectrogram image.

The frame is nsgt's non-stationary Gabor transform (Holighaus et al. 2013) on a log-frequency
scale, computed on the whole loop at once. That transform is circular, which suits loops: the
spectrogram of a loop has no edges, and a loop made from one repeats without a seam.

nsgt designs the frame: the Hann window of each band, where it sits in the spectrum, and the
canonical dual windows that make it invertible. Its own transform runs a Python loop over the
bands, and phase retrieval runs the transform dozens of times per loop, so here the same windows
are laid out once as index and weight matrices and every band is transformed by one gather and
one batched FFT (checked against nsgt's own transform in the tests).

"Matrix form" gives every band the same number of coefficients (the image's columns). nsgt sets
that to its widest band, which is usually the band between ``fmax`` and Nyquist; we round it up to
a power of two (``frames``), which keeps the frame painless and therefore exactly invertible, and
gives the image a width a convolutional GAN can use. (nsgt's "reduced form" drops the DC and
Nyquist bands and with them invertibility; here they stay, as the bottom and top rows.)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, replace
from functools import lru_cache

import numpy as np

from studio.ml.audio.nsgt_compat import load_nsgt


@dataclass(frozen=True)
class CQConfig:
    """Everything that fixes the codec. ``frames`` None: the next power of two that fits."""

    # 62 semitone bands, A1 to A#6, + DC and Nyquist: 64 rows. At 3840 Hz the band above A#6 ends at
    # Nyquist, so that the widest band, and with it the image, is 256 columns per second.
    sample_rate: int = 3840
    samples: int = 3840  # the loop's length
    fmin: float = 55.0
    fmax: float = 1864.0
    bins_per_octave: int = 12
    frames: int | None = None
    db_range: float = 80.0  # the image spans [-db_range, 0] dB relative to the codec's reference

    def __post_init__(self) -> None:
        if not 0 < self.fmin < self.fmax < self.sample_rate / 2:
            raise ValueError(f"constant-Q range must satisfy 0 < fmin < fmax < Nyquist ({self.sample_rate / 2:g} Hz),"
                             f" not fmin={self.fmin:g}, fmax={self.fmax:g}")
        if self.samples < 64 or self.bins_per_octave < 1 or self.db_range <= 0:
            raise ValueError(f"invalid constant-Q settings: {self}")

    def to_dict(self) -> dict:
        return asdict(self)


class ConstantQCodec:
    """Batched analysis/synthesis with nsgt's constant-Q frame, and the image mapping.

    Coefficients are complex arrays ``(..., rows, frames)``; row 0 is the DC band, the last row the
    Nyquist band, the ones between the constant-Q bands from ``fmin`` to ``fmax``. Images are
    float32 ``(..., rows, frames)`` in [-1, 1] with high frequencies at the top (row 0), as a
    spectrogram is drawn.
    """

    def __init__(self, config: CQConfig = CQConfig()):
        self.config = config
        nsgt = load_nsgt()
        with warnings.catch_warnings():
            # "Q-factor too high": nsgt's hint that the lowest bands are only a few FFT bins wide
            # in a short loop. They are still exact; their time resolution is just coarse.
            warnings.simplefilter("ignore", UserWarning)
            frame = nsgt.NSGT(nsgt.OctScale(config.fmin, config.fmax, config.bins_per_octave),
                              config.sample_rate, config.samples, real=True, matrixform=True)
        windows, positions, length = frame.g, frame.wins, frame.nn
        widest = max(len(w) for w in windows)
        frames = config.frames or 2 ** math.ceil(math.log2(widest))
        if frames < widest:
            raise ValueError(f"{frames} frames cannot hold the widest constant-Q band ({widest} coefficients): "
                             f"use at least {widest}, a lower fmax or more bins per octave")
        self.frames, self.length = frames, length
        self.rows = len(windows) // 2 + 1  # the positive-frequency bands of a real signal
        self.frequencies = np.concatenate(([0.0], frame.frqs, [config.sample_rate / 2]))
        duals = nsgt.nsdual.nsdual(windows, positions, length, np.full(len(windows), frames))

        # analysis: coefficient (band, column) = window * spectrum[index], for the positive bands
        self._index, self._window = _layout(windows[: self.rows], positions[: self.rows], frames)
        # synthesis: every band's dual window, the mirrored negative bands included, keeping only
        # what lands in the half spectrum that irfft reads
        index, weight = _layout(duals, positions, frames)
        weight *= frames  # nsgt's ifft/fft pair scales by 1/frames
        band, column = np.nonzero((weight != 0) & (index <= length // 2))
        mirrored = band >= self.rows  # band r of the negative half mirrors positive band (bands - r)
        source = np.where(mirrored, len(windows) - band, band)
        self._synth_source = source * frames + np.where(mirrored, (-column) % frames, column)
        self._synth_conj = mirrored
        self._synth_target = index[band, column]
        self._synth_weight = weight[band, column]
        self.reference = 1.0
        self.reference = float(np.abs(self.analyse(_unit_sine(config))).max())  # a unit sine -> 0 dB

    @property
    def image_shape(self) -> tuple[int, int]:
        return self.rows, self.frames

    # -- the frame ------------------------------------------------------------------------------
    def analyse(self, audio: np.ndarray) -> np.ndarray:
        """Loops ``(..., samples)`` -> complex coefficients ``(..., rows, frames)``."""
        audio = np.asarray(audio, dtype=np.float64)
        if audio.shape[-1] != self.config.samples:
            raise ValueError(f"the codec takes loops of {self.config.samples} samples, not {audio.shape[-1]}")
        spectrum = np.fft.fft(audio, axis=-1)
        return np.fft.ifft(spectrum[..., self._index] * self._window, axis=-1)

    def synthesise(self, coefficients: np.ndarray) -> np.ndarray:
        """Coefficients ``(..., rows, frames)`` -> loops ``(..., samples)`` (float64).

        The canonical dual frame: for coefficients that came from :meth:`analyse` this is exact;
        for any others it gives the signal whose coefficients are nearest in the least-squares sense.
        """
        coefficients = np.asarray(coefficients)
        if coefficients.shape[-2:] != self.image_shape:
            raise ValueError(f"the codec takes {self.image_shape} coefficients, not {coefficients.shape[-2:]}")
        batch = coefficients.shape[:-2]
        spectra = np.fft.fft(coefficients, axis=-1).reshape(-1, self.rows * self.frames)
        values = spectra[:, self._synth_source]
        values[:, self._synth_conj] = values[:, self._synth_conj].conj()
        values *= self._synth_weight
        half = self.length // 2 + 1
        offsets = (np.arange(len(values)) * half)[:, None]
        target = (self._synth_target + offsets).ravel()
        real = np.bincount(target, values.real.ravel(), minlength=len(values) * half)
        imag = np.bincount(target, values.imag.ravel(), minlength=len(values) * half)
        half_spectrum = (real + 1j * imag).reshape(len(values), half)
        audio = np.fft.irfft(half_spectrum, n=self.length, axis=-1)[:, : self.config.samples]
        return audio.reshape(*batch, self.config.samples)

    # -- images ---------------------------------------------------------------------------------
    def magnitude_to_image(self, magnitude: np.ndarray) -> np.ndarray:
        """|coefficients| -> float32 image in [-1, 1]: dB re the reference, clipped to the range."""
        level = 20 * np.log10(np.maximum(magnitude, 1e-12) / self.reference)
        image = 1 + 2 * np.clip(level, -self.config.db_range, 0) / self.config.db_range
        return image[..., ::-1, :].astype(np.float32)

    def image_to_magnitude(self, image: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`magnitude_to_image`; the floor of the range (-1) becomes silence."""
        image = np.asarray(image, dtype=np.float64)[..., ::-1, :]
        magnitude = self.reference * 10 ** ((image - 1) / 2 * self.config.db_range / 20)
        return np.where(image <= -1, 0.0, magnitude)

    def encode(self, audio: np.ndarray) -> np.ndarray:
        """Loops -> spectrogram images (magnitude only)."""
        return self.magnitude_to_image(np.abs(self.analyse(audio)))


@lru_cache(maxsize=8)
def cached_codec(config: CQConfig) -> ConstantQCodec:
    """One codec per configuration (building one designs ~130 windows and their duals)."""
    return ConstantQCodec(config)


def codec_for_model(config: dict) -> ConstantQCodec:
    """The codec of an audio model, from its config: rate and length from its data, frequency range
    and resolution from its params (the defaults where it has none). At least as many columns as
    rows, so that the image is never taller than wide."""
    defaults, rate = CQConfig(), int(config["sample_rate"])
    cq = CQConfig(sample_rate=rate, samples=int(config["samples"]),
                  fmin=float(config.get("fmin", defaults.fmin)),
                  fmax=float(config.get("fmax", defaults.fmax if defaults.fmax < rate / 2 else 0.45 * rate)),
                  bins_per_octave=int(config.get("bins_per_octave", defaults.bins_per_octave)))
    codec = cached_codec(cq)
    return codec if codec.frames >= codec.rows else cached_codec(replace(cq, frames=codec.rows))


def _layout(windows: list[np.ndarray], positions: list[np.ndarray], frames: int) -> tuple[np.ndarray, np.ndarray]:
    """nsgt's per-band window placement as ``(bands, frames)`` spectrum indices and weights.

    nsgt puts the second half of a band's window at the start of its coefficient buffer and the
    first half at the end (an fftshift), so that the band's time origin is the loop's.
    """
    index = np.zeros((len(windows), frames), dtype=np.int64)
    weight = np.zeros((len(windows), frames))
    for band, (window, where) in enumerate(zip(windows, positions)):
        n, half = len(window), len(window) // 2
        head = n - half  # ceil(n / 2)
        index[band, :head], weight[band, :head] = where[half:], window[:head]
        if half:
            index[band, -half:], weight[band, -half:] = where[:half], window[head:]
    return index, weight


def _unit_sine(config: CQConfig) -> np.ndarray:
    """A full-scale sine at the geometric middle of the range, on a whole number of cycles."""
    cycles = round(math.sqrt(config.fmin * config.fmax) * config.samples / config.sample_rate)
    return np.sin(2 * np.pi * cycles * np.arange(config.samples) / config.samples)

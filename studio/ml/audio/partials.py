"""How many partials sound at once, and does the pitch move? Measured on constant-Q images.

Seed paper 000 trained a GAN on single sine tones and heard polyphony and pitch glides in what it
generated. Here that is counted. In each column (time frame) of a spectrogram image, a *partial*
is a local maximum along frequency within ``PEAK_RANGE_DB`` of that frame's loudest band; a
sine's energy spreads over two or three neighbouring constant-Q bands, which still make one local
maximum. Only *sounding* frames count: those whose loudest band is within ``SOUNDING_DB`` of the
loop's loudest (a fade or a click at an onset spreads a little energy over every band, which
would otherwise read as many weak partials), and not within ``EDGE_SECONDS`` of the loop's seam:
a clip that fades in and out, as every training tone does, jumps in phase there, and the long
windows of the low bands smear that jump over their neighbours.

A loop is *polyphonic* when at least ``POLYPHONIC_SHARE`` of its sounding frames hold two or more
partials, and has a *pitch change* when its lowest partial moves by more than ``GLIDE_SEMITONES``
(more than a whole tone: a steady tone between two bands may flip between them) between sounding
frames, median-filtered over a few frames so that one odd frame does not count. The lowest
partial, not the loudest, so that a steady chord of equal notes does not read as a change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

PEAK_RANGE_DB = 24.0
SOUNDING_DB = 20.0
EDGE_SECONDS = 0.06
POLYPHONIC_SHARE = 0.1
GLIDE_SEMITONES = 2.5
SMOOTHING_FRAMES = 9


@dataclass(frozen=True)
class PartialStats:
    """One loop: partials per sounding frame, and how far the loudest one moves."""

    sounding_frames: int
    mean_partials: float
    max_partials: int
    polyphonic_share: float  # of sounding frames with >= 2 partials
    pitch_range_semitones: float
    polyphonic: bool
    pitch_change: bool

    def to_dict(self) -> dict:
        return asdict(self)


def partial_stats(image: np.ndarray, frequencies: np.ndarray, db_range: float, duration: float) -> PartialStats:
    """``image``: one codec image (rows, frames) in [-1, 1], high frequencies on top;
    ``frequencies``: the codec's band centres, low to high; ``db_range``: the codec's;
    ``duration``: the loop's, in seconds."""
    level = (np.asarray(image, dtype=np.float64)[::-1] - 1) / 2 * db_range  # dB, low band first
    level = level[1:-1]  # DC and Nyquist rows are not pitches
    loudest_band = level.max(axis=0)
    sounding = loudest_band > max(level.max() - SOUNDING_DB, -db_range + 1)
    edge = int(round(EDGE_SECONDS / duration * level.shape[1]))
    sounding[:edge] = sounding[len(sounding) - edge:] = False
    above = level > loudest_band - PEAK_RANGE_DB
    inner = level[1:-1]
    peaks = np.zeros_like(above)
    peaks[1:-1] = (inner > level[:-2]) & (inner >= level[2:]) & above[1:-1]
    peaks &= sounding
    counts = peaks.sum(axis=0)
    if not sounding.any():
        return PartialStats(0, 0.0, 0, 0.0, 0.0, False, False)
    semitones = 12 * np.log2(frequencies[1:-1] / frequencies[1])
    lowest = semitones[np.argmax(peaks, axis=0)][sounding]
    from scipy.ndimage import median_filter  # here, not at the top: scipy adds ~1 s to the studio's start

    smoothed = median_filter(lowest, size=min(SMOOTHING_FRAMES, len(lowest)), mode="nearest")
    share = float((counts[sounding] >= 2).mean())
    pitch_range = float(smoothed.max() - smoothed.min())
    return PartialStats(int(sounding.sum()), float(counts[sounding].mean()), int(counts.max()), share,
                        pitch_range, share >= POLYPHONIC_SHARE, pitch_range > GLIDE_SEMITONES)


def codec_partial_stats(codec, images: np.ndarray) -> list[PartialStats]:
    """:func:`partial_stats` of each of a codec's images (N, rows, frames)."""
    duration = codec.config.samples / codec.config.sample_rate
    return [partial_stats(image, codec.frequencies, codec.config.db_range, duration) for image in images]


def summarise(stats: list[PartialStats]) -> dict:
    """Shares of loops that are polyphonic / change pitch, for a results table."""
    count = len(stats)
    return {
        "loops": count,
        "polyphonic": sum(s.polyphonic for s in stats),
        "pitch_change": sum(s.pitch_change for s in stats),
        "either": sum(s.polyphonic or s.pitch_change for s in stats),
        "mean_partials_per_frame": float(np.mean([s.mean_partials for s in stats])) if count else 0.0,
    }

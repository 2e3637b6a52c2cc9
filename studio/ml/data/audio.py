"""Audio training data: short mono clips held in memory, synthetic or from the user's folder.

``AudioClips`` is the audio counterpart of ImageDataset: every clip has the same length and
sample rate, so a batch is one slice of a tensor.

Two synthetic sets are made from a seed (no download, no files):
  make_sine_tones  single notes at random pitches, one sine each, pitch kept as ground truth
  make_bass_loops  one-bar electric-bass phrases, rendered as seamless loops

``load_audio_folder`` turns every audio file under a folder into one clip. As with image folders,
bad files (unreadable, empty, too short, silent) are skipped, named in a logged warning and listed
in ``clips.skipped``; they never stop the load.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile
import torch

from studio.ml.data.base import WHOLE, DatasetError, Shard, nothing_usable, random_rows, short_reason
from studio.ml.data.folder import natural_key

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")
PEAK_LEVEL = 0.9  # loops and loaded clips are normalised to this peak: headroom below full scale
SILENCE_PEAK = 1e-4  # a clip whose peak stays below this (-80 dBFS) is silence, not training data
MAX_DENOMINATOR = 1000  # resampling ratios are reduced to p/q with q <= this: bounds the filter length
# Reading only the clip's length would let the resampling filter see zeros past the cut; this much
# more of the file (in seconds) covers its half-length at any ratio that MAX_DENOMINATOR allows.
READ_MARGIN = 0.05

# Sine tones
PITCH_RANGE_HZ = (110.0, 880.0)  # A2..A5, drawn log-uniform: every octave equally likely
AMPLITUDE_RANGE = (0.3, 0.8)
FADE_SECONDS = 0.01  # raised-cosine fade in and out: the clip starts and ends at 0, without a click

# Bass loops
BASS_ROOTS_MIDI = (28, 45)  # E1 (41.2 Hz) .. A2 (110 Hz), inclusive: the low register of a 4-string bass
MINOR_PENTATONIC = np.array([0, 3, 5, 7, 10, 12])  # semitones above the root, octave included
DEGREE_WEIGHTS = np.array([4.0, 2.0, 2.0, 3.0, 2.0, 1.0])  # bass lines lean on the root and the fifth
STEPS_PER_BAR = 16  # a 4/4 bar on a 16th-note grid
BEATS_PER_BAR = 4
EIGHTH_PROBABILITY = 0.6  # each event is an 8th (2 steps) with this probability, else a 16th
REST_PROBABILITY = 0.2  # after the downbeat, each event is a rest with this probability
VELOCITY_RANGE = (0.6, 1.0)
HARMONICS = 8
PLUCK_POSITION = 0.23  # fraction of the string length: sets the harmonic mix of an ideal plucked string
DECAY_SECONDS = 0.8  # time constant of the fundamental; harmonic k decays k times faster
ATTACK_SECONDS = 0.003  # a real pluck is not an infinitely steep step
RELEASE_SECONDS = 0.03  # the fretting hand damps the string when the note ends; this tail may wrap
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


class AudioFileError(ValueError):
    """An audio file could not be used; the message names the file, ``reason`` says why without it."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass
class AudioClips:
    """Mono clips of equal length held in memory as float32 ``(N, samples)`` in [-1, 1].

    ``labels`` names each clip (a file's path relative to its folder, "tone 440.0 Hz", ...).
    ``factors`` holds per-clip ground truth when the set has it (the sine tones' pitch).
    ``skipped`` lists ``(path, reason)`` for files that could not be used.
    """

    name: str
    waveforms: torch.Tensor
    sample_rate: int
    labels: list[str] = field(default_factory=list)
    factors: dict[str, np.ndarray] = field(default_factory=dict)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    description: str = ""

    def __post_init__(self) -> None:
        if self.waveforms.dtype != torch.float32 or self.waveforms.ndim != 2:
            raise ValueError("AudioClips.waveforms must be a float32 tensor of shape (N, samples)")
        if len(self.waveforms) == 0 or self.waveforms.shape[1] == 0:
            raise ValueError(f"audio set {self.name!r} has no clips")
        if self.sample_rate <= 0:
            raise ValueError(f"AudioClips.sample_rate must be positive, not {self.sample_rate}")
        if len(self.labels) != len(self.waveforms):
            raise ValueError(f"audio set {self.name!r} has {len(self.labels)} labels for {len(self)} clips")
        for key, values in self.factors.items():
            if len(values) != len(self.waveforms):
                raise ValueError(f"factor {key!r} of {self.name!r} has {len(values)} values for {len(self)} clips")
        peak = float(self.waveforms.abs().max())
        if not peak <= 1.0:  # also catches NaN, which compares False
            raise ValueError(f"audio set {self.name!r} has samples outside [-1, 1] (peak {peak})")

    def __len__(self) -> int:
        return len(self.waveforms)

    @property
    def samples(self) -> int:
        """Length of every clip, in samples."""
        return self.waveforms.shape[1]

    @property
    def duration(self) -> float:
        """Length of every clip, in seconds."""
        return self.samples / self.sample_rate

    def setup_values(self) -> dict:
        """What a model trained on these clips takes from them into its config."""
        return {"sample_rate": self.sample_rate, "samples": self.samples}

    def describe(self) -> dict:
        """For a checkpoint's metadata."""
        return {"sample_rate": self.sample_rate, "samples": self.samples, "clips": len(self)}

    def batch(self, batch_size: int, generator: torch.Generator, shard: Shard = WHOLE) -> torch.Tensor:
        """Random clips (with replacement) as float32 ``(batch_size, 1, samples)`` (this process's
        ``shard`` of them)."""
        return self.waveforms[random_rows(len(self.waveforms), batch_size, generator, shard)].unsqueeze(1)


# ---------------------------------------------------------------------------------------------
# Sine tones


def make_sine_tones(count: int = 1024, sample_rate: int = 3840, duration: float = 1.0, seed: int = 0) -> AudioClips:
    """``count`` single notes: one sine each at a log-uniform pitch in PITCH_RANGE_HZ (continuous,
    not on a musical scale), a steady amplitude in AMPLITUDE_RANGE and a random starting phase,
    faded in and out over FADE_SECONDS. factors: "pitch_hz", "amplitude", "phase"."""
    _check_rate_holds(PITCH_RANGE_HZ[1], sample_rate)
    samples = _samples(duration, sample_rate)
    rng = np.random.default_rng(seed)
    factors = {
        "pitch_hz": np.exp(rng.uniform(*np.log(PITCH_RANGE_HZ), count)),
        "amplitude": rng.uniform(*AMPLITUDE_RANGE, count),
        "phase": rng.uniform(0.0, 2 * np.pi, count),
    }
    # Cycles are counted in float64 (880 Hz runs to thousands of radians, where float32 rounding
    # would add phase noise) and reduced to [0, 1) first; the sine of that is taken in float32,
    # which numpy computes about twice as fast.
    cycles = np.outer(factors["pitch_hz"] / sample_rate, np.arange(samples))
    cycles += factors["phase"][:, None] / (2 * np.pi)
    waves = np.mod(cycles, 1.0, out=cycles).astype(np.float32)
    waves *= np.float32(2 * np.pi)
    np.sin(waves, out=waves)
    waves *= factors["amplitude"][:, None].astype(np.float32)
    waves *= _fade_envelope(samples, sample_rate).astype(np.float32)
    return AudioClips(
        name="sine-tones",
        waveforms=torch.from_numpy(waves),
        sample_rate=sample_rate,
        labels=[f"tone {pitch:.1f} Hz" for pitch in factors["pitch_hz"]],
        factors=factors,
        description=f"{count} sine tones of {duration:g} s at {sample_rate} Hz, "
        f"pitch {PITCH_RANGE_HZ[0]:g}-{PITCH_RANGE_HZ[1]:g} Hz (log-uniform), one note per clip",
    )


def _fade_envelope(samples: int, sample_rate: int) -> np.ndarray:
    """1 in the middle, raised-cosine ramps from 0 and back to 0 over FADE_SECONDS at each end."""
    length = min(max(1, round(FADE_SECONDS * sample_rate)), samples // 2)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(length) / length)  # starts at exactly 0
    envelope = np.ones(samples)
    envelope[:length] = ramp
    envelope[samples - length :] = ramp[::-1]
    return envelope


# ---------------------------------------------------------------------------------------------
# Bass loops


def make_bass_loops(count: int = 4, sample_rate: int = 3840, duration: float = 2.0, seed: int = 0) -> AudioClips:
    """``count`` one-bar electric-bass phrases, each a seamless loop of ``duration`` seconds.

    A phrase is a monophonic line of 8th and 16th notes and rests, at the tempo that fits one 4/4
    bar into ``duration``, on the minor pentatonic scale of a random root between E1 and A2; it
    starts on the root. Notes are plucked-string tones (see _pluck). A note's tail that runs past
    the end of the bar is added onto the start, so the clip repeats without a seam. Each loop is
    peak-normalised to PEAK_LEVEL; no two loops of a set have the same phrase.
    factors: "root_hz", "tempo_bpm", "notes" (notes played per bar).
    """
    _check_rate_holds(_midi_to_hz(BASS_ROOTS_MIDI[1] + MINOR_PENTATONIC[-1]), sample_rate)
    samples = _samples(duration, sample_rate)
    tempo = BEATS_PER_BAR * 60.0 / duration
    rng = np.random.default_rng(seed)
    waves = np.empty((count, samples), dtype=np.float32)
    roots, note_counts, labels, seen = [], [], [], set()
    for index in range(count):
        root, events = _draw_phrase(rng)
        while (root, tuple(events)) in seen:  # a repeated phrase would be a duplicate training clip
            root, events = _draw_phrase(rng)
        seen.add((root, tuple(events)))
        waves[index] = _render_loop(root, events, rng, samples, sample_rate)
        roots.append(_midi_to_hz(root))
        note_counts.append(sum(midi is not None for _, _, midi in events))
        labels.append(f"loop {index + 1}: {_note_name(root)} pentatonic, {tempo:g} bpm")
    return AudioClips(
        name="bass-loops",
        waveforms=torch.from_numpy(waves),
        sample_rate=sample_rate,
        labels=labels,
        factors={"root_hz": np.array(roots), "tempo_bpm": np.full(count, tempo), "notes": np.array(note_counts)},
        description=f"{count} synthetic bass loops of one bar ({duration:g} s, {tempo:g} bpm) at {sample_rate} Hz",
    )


def _draw_phrase(rng: np.random.Generator) -> tuple[int, list[tuple[int, int, int | None]]]:
    """A random root (MIDI note) and one bar of events ``(start step, length in steps, MIDI note
    or None for a rest)`` filling STEPS_PER_BAR exactly; the first event is the root."""
    root = int(rng.integers(BASS_ROOTS_MIDI[0], BASS_ROOTS_MIDI[1] + 1))
    events, step = [], 0
    while step < STEPS_PER_BAR:
        length = 2 if rng.random() < EIGHTH_PROBABILITY and step + 2 <= STEPS_PER_BAR else 1
        midi = root + int(rng.choice(MINOR_PENTATONIC, p=DEGREE_WEIGHTS / DEGREE_WEIGHTS.sum()))
        if step == 0:
            midi = root  # the downbeat states the key
        elif rng.random() < REST_PROBABILITY:
            midi = None
        events.append((step, length, midi))
        step += length
    return root, events


def _render_loop(
    root: int, events: list[tuple[int, int, int | None]], rng: np.random.Generator, samples: int, sample_rate: int
) -> np.ndarray:
    """The phrase as one loop of ``samples``, peak-normalised; tails past the end wrap to the start."""
    loop = np.zeros(samples)
    release = round(RELEASE_SECONDS * sample_rate)
    for step, length, midi in events:
        if midi is None:
            continue
        onset = round(step * samples / STEPS_PER_BAR)
        held = round((step + length) * samples / STEPS_PER_BAR) - onset
        velocity = rng.uniform(*VELOCITY_RANGE)
        note = velocity * _pluck(_midi_to_hz(midi), held, release, sample_rate)
        note = note[:samples]  # a tail longer than the loop would overlap the note itself
        loop[(onset + np.arange(len(note))) % samples] += note  # modulo: the loop has no end
    return (loop * (PEAK_LEVEL / np.abs(loop).max())).astype(np.float32)


def _pluck(frequency: float, held: int, release: int, sample_rate: int) -> np.ndarray:
    """One plucked-string note: held for ``held`` samples, then damped to 0 over ``release``.

    Harmonic k of an ideal string plucked at PLUCK_POSITION has amplitude sin(k pi p) / k^2, and
    decays k times faster than the fundamental (upper harmonics die first, as on a real string).
    Harmonics at or above Nyquist are left out (they would alias down as wrong pitches).
    """
    t = np.arange(held + release) / sample_rate
    k = np.arange(1, HARMONICS + 1)
    k = k[k * frequency < sample_rate / 2]
    amplitude = np.sin(k * np.pi * PLUCK_POSITION) / k**2
    partials = np.sin(2 * np.pi * frequency * np.outer(k, t)) * np.exp(-np.outer(k, t) / DECAY_SECONDS)
    note = amplitude @ partials
    attack = min(max(1, round(ATTACK_SECONDS * sample_rate)), held)
    note[:attack] *= np.arange(attack) / attack
    if release:
        note[held:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(1, release + 1) / release)  # ends at 0
    return note


def _midi_to_hz(midi: int) -> float:
    return 440.0 * 2.0 ** ((midi - 69) / 12)


def _note_name(midi: int) -> str:
    """MIDI number -> scientific pitch name: 28 -> "E1", 45 -> "A2"."""
    return f"{NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


def _samples(duration: float, sample_rate: int) -> int:
    samples = round(duration * sample_rate)
    if samples < 2:
        raise ValueError(f"{duration} s at {sample_rate} Hz is not a clip ({samples} samples)")
    return samples


def _check_rate_holds(highest_hz: float, sample_rate: int) -> None:
    """A pitch at or above Nyquist would alias to a different, wrong pitch."""
    if highest_hz >= sample_rate / 2:
        raise ValueError(f"sample rate {sample_rate} Hz cannot hold {highest_hz:.0f} Hz: use > {2 * highest_hz:.0f} Hz")


# ---------------------------------------------------------------------------------------------
# Files and folders


def load_audio_file(path: Path | str, sample_rate: int, max_duration: float | None = None) -> np.ndarray:
    """Any file soundfile reads (WAV, FLAC, OGG, ...; any rate, any channel count) as float32 mono
    at ``sample_rate``: channels averaged, resampled with a polyphase filter.

    The result is the file's duration at ``sample_rate``; with ``max_duration`` only the start is
    decoded and at most that many seconds come back (a long recording is not decoded to be cut).
    Samples are as stored: float files may exceed [-1, 1].
    Raises AudioFileError for a missing, unreadable or corrupt file (with soundfile's reason), an
    empty one, or one with non-finite samples.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(path, "does not exist" if not path.exists() else "is not a file")
    if path.stat().st_size == 0:
        raise AudioFileError(path, "empty file (0 bytes)")
    try:
        with soundfile.SoundFile(path) as sound:
            source_rate = sound.samplerate
            frames = sound.frames
            if max_duration is not None:
                frames = min(frames, math.ceil((max_duration + READ_MARGIN) * source_rate))
            data = sound.read(frames, dtype="float32", always_2d=True)
    except (soundfile.SoundFileError, RuntimeError) as exc:  # LibsndfileError is both
        reason = getattr(exc, "error_string", None) or str(exc).replace(str(path), path.name)
        raise AudioFileError(path, f"not readable as audio ({reason.rstrip('.')})") from exc
    if len(data) == 0:
        raise AudioFileError(path, "empty (0 audio frames)")
    if not np.isfinite(data).all():
        raise AudioFileError(path, "has non-finite samples (NaN or infinity)")
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    length = round(len(mono) * sample_rate / source_rate)  # the true length: the filter may add a sample
    if max_duration is not None:
        length = min(length, round(max_duration * sample_rate))
    return _fit_length(_resample(mono, source_rate, sample_rate), length)


def _resample(signal: np.ndarray, source_rate: int, sample_rate: int) -> np.ndarray:
    """Polyphase resampling by the reduced ratio sample_rate/source_rate. The ratio is limited to a
    denominator of MAX_DENOMINATOR (44.1 kHz -> 4096 Hz becomes 30/323): the filter length grows
    with it, and the pitch error this leaves is a few parts per million."""
    if source_rate == sample_rate:
        return signal
    ratio = Fraction(sample_rate, source_rate).limit_denominator(MAX_DENOMINATOR)
    from scipy.signal import resample_poly  # here, not at the top: scipy.signal adds ~1 s to the studio's start

    return resample_poly(signal, ratio.numerator, ratio.denominator).astype(np.float32, copy=False)


def _fit_length(signal: np.ndarray, length: int) -> np.ndarray:
    """Cut to ``length``, or repeat the last sample if rounding in the resampler left it one short."""
    if len(signal) >= length:
        return signal[:length]
    return np.pad(signal, (0, length - len(signal)), mode="edge")


def find_audio_files(folder: Path) -> list[Path]:
    """Files with an AUDIO_EXTENSIONS suffix under ``folder``, recursively, in natural order of
    their relative paths (take2 before take10). Hidden files and folders are left out."""
    found = []
    for root, dirs, files in os.walk(folder):  # does not follow symlinked folders: no loops
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(root, f) for f in files if not f.startswith(".") and Path(f).suffix.lower() in AUDIO_EXTENSIONS]
    return sorted(found, key=lambda p: natural_key(p.relative_to(folder).as_posix()))


def load_audio_folder(
    path: Path | str,
    sample_rate: int = 3840,
    duration: float = 2.0,
    progress: Callable[[int, int], None] | None = None,
) -> AudioClips:
    """Every audio file under ``path`` as one clip: its first ``duration`` seconds at
    ``sample_rate``, mono, peak-normalised to PEAK_LEVEL (quiet and loud recordings train alike).

    Files that are unreadable, empty, shorter than ``duration`` or silent are skipped and listed
    with the reason. ``progress(done, total)`` is called after each file. Raises DatasetError if
    the folder does not exist or has no usable audio file.
    """
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DatasetError(f"audio folder {folder} {'is not a folder' if folder.exists() else 'does not exist'}")
    files = find_audio_files(folder)
    samples = _samples(duration, sample_rate)
    waves = np.empty((len(files), samples), dtype=np.float32)
    labels, skipped = [], []
    for index, file in enumerate(files):
        try:
            waves[len(labels)] = _load_clip(file, sample_rate, duration, samples)
        except AudioFileError as exc:
            reason = short_reason(exc.reason)
            skipped.append((file, reason))
            log.warning("skipped %s: %s", file, reason)
        else:
            labels.append(file.relative_to(folder).as_posix())
        if progress is not None:
            progress(index + 1, len(files))
    if not labels:
        found = f"audio files ({', '.join(AUDIO_EXTENSIONS)})"
        raise DatasetError(nothing_usable(folder, skipped, found, "audio"))
    return AudioClips(
        name=folder.name,
        waveforms=torch.from_numpy(waves[: len(labels)].copy()),  # copy: do not pin the unused rows
        sample_rate=sample_rate,
        labels=labels,
        skipped=skipped,
        description=f"{len(labels)} clips of {duration:g} s from {folder}"
        + (f" ({len(skipped)} skipped)" if skipped else ""),
    )


def _load_clip(file: Path, sample_rate: int, duration: float, samples: int) -> np.ndarray:
    """The first ``samples`` of one file, peak-normalised. Raises AudioFileError if it is unusable."""
    signal = load_audio_file(file, sample_rate, max_duration=duration)
    if len(signal) < samples:
        raise AudioFileError(file, f"{len(signal) / sample_rate:.3g} s long, shorter than the {duration:g} s clips")
    clip = signal[:samples]
    peak = float(np.abs(clip).max())
    if peak < SILENCE_PEAK:
        raise AudioFileError(file, f"silent (peak level {peak:.1e} in its first {duration:g} s)")
    return clip * (PEAK_LEVEL / peak)

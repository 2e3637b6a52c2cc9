"""What each direction of a direction model does, as far as anyone measured it (Qt-free).

The evaluation command writes ``factors.json`` next to a direction checkpoint (or
``NAME.factors.json`` beside ``NAME.safetensors``, as the bundled ones have it):
``{"directions": [{"factor": "hue", "effect": 0.42}, {"factor": null, ...}, ...]}``, one entry per
direction, ``factor`` the known factor it moves most (None: none clearly). The editor names its
sliders after it and matches directions across methods by it. The file is optional and may be
stale or broken: a problem is returned as a message naming the file, never raised.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FACTORS_FILE = "factors.json"


@dataclass(frozen=True)
class FactorNames:
    """Per direction: its factor (None: unknown) and the measured effect (None: not given);
    ``problem`` says why the file could not be used ("" when it was, or when there is none)."""

    factors: tuple[str | None, ...]
    effects: tuple[float | None, ...]
    problem: str = ""
    source: Path | None = None  # the factors.json read

    @classmethod
    def unknown(cls, directions: int, problem: str = "", source: Path | None = None) -> FactorNames:
        return cls((None,) * directions, (None,) * directions, problem, source)

    def label(self, k: int) -> str:
        """The slider's name: the factor where known, else "direction k"."""
        factor = self.factors[k] if k < len(self.factors) else None
        if not factor:
            return f"direction {k}"
        return factor if self.factors.count(factor) == 1 else f"{factor} #{k}"  # two directions, one factor

    def labels(self) -> list[str]:
        return [self.label(k) for k in range(len(self.factors))]

    def tooltip(self, k: int) -> str:
        factor = self.factors[k] if k < len(self.factors) else None
        if not factor:
            why = f" ({self.source.name} names none)" if self.source is not None and not self.problem else ""
            return f"direction {k}: no known factor{why}"
        effect = self.effects[k]
        measured = f", effect {effect:.3g}" if effect is not None else ""
        return f"direction {k}: moves {factor} most{measured} (from {self.source})"


def factors_path(checkpoint: str | Path | None) -> Path | None:
    """``NAME.factors.json`` beside checkpoint ``NAME.safetensors`` when there is one (several
    models in one folder, as in checkpoints/), else the run folder's ``factors.json``."""
    if not checkpoint:
        return None
    own = Path(checkpoint).with_suffix(f".{FACTORS_FILE}")
    return own if own.is_file() else Path(checkpoint).with_name(FACTORS_FILE)


def read_factors(checkpoint: str | Path | None, directions: int) -> FactorNames:
    """The factors of a model with ``directions`` directions saved at ``checkpoint`` (None: a
    model never saved, e.g. a live training snapshot)."""
    path = factors_path(checkpoint)
    if path is None or not path.is_file():
        return FactorNames.unknown(directions)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["directions"]
        if not isinstance(entries, list):
            raise TypeError("'directions' is not a list")
        factors = tuple(_factor(entry) for entry in entries)
        effects = tuple(_effect(entry) for entry in entries)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        return FactorNames.unknown(directions, f"{path}: not usable as direction names ({exc})", path)
    if len(factors) != directions:
        return FactorNames.unknown(directions, f"{path} describes {len(factors)} directions, the model has "
                                   f"{directions}: written for another model? Names not used", path)
    return FactorNames(factors, effects, "", path)


def _factor(entry) -> str | None:
    if not isinstance(entry, dict):
        raise TypeError(f"entry {entry!r} is not an object")
    factor = entry.get("factor")
    if factor is not None and not isinstance(factor, str):
        raise TypeError(f"factor {factor!r} is not a string or null")
    return factor or None


def _effect(entry: dict) -> float | None:
    effect = entry.get("effect")
    return float(effect) if isinstance(effect, (int, float)) and not isinstance(effect, bool) else None


def match_edits(edits: Sequence[tuple[int, float]], own: FactorNames, other: FactorNames,
                other_count: int) -> tuple[list[tuple[int, float]], list[str]]:
    """``edits`` of one model carried over to another: each direction goes to the other model's
    direction of the same factor where both files name it, else to the same index. Returns the
    edits and, per original edit, how it was matched ("hue → 3", "#2 → #2", "#7: none")."""
    mapped, notes = [], []
    for k, t in edits:
        factor = own.factors[k] if k < len(own.factors) else None
        theirs = [j for j, f in enumerate(other.factors) if factor and f == factor]
        if theirs:  # the n-th direction of a factor here goes to its n-th there (or the last)
            j = theirs[min(own.factors[:k].count(factor), len(theirs) - 1)]
            mapped.append((j, t))
            notes.append(f"{factor} → #{j}")
        elif k < other_count:
            mapped.append((k, t))
            notes.append(f"#{k} → #{k}")
        else:
            notes.append(f"#{k}: none (the model has {other_count})")
    return mapped, notes

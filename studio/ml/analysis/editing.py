"""How good are a generator's discovered directions? Measured without human labels, by attribute
regressors (:mod:`studio.ml.analysis.attributes`) on the images before and after each edit.

- effects: for each direction k, how far each factor moves between t = -s and t = +s (% of range)
- matching: each direction is named by the factor it moves most *compared with a random move*
  of the same length (a blurry generated shape changes every reading a little whenever the image
  changes; scale, a few pixels across its whole range at 32x32, most of all)
- commutativity: edit k by a then l by b, against l by b then k by a (each edit a separate step,
  ``apply_in_turn``, so numerical error counts): the factors' difference
  between the two images (% of range), the distance between the two z, and the "undo" error
  (k by a, l by b, k by -a, l by -b should return to the start image)
- side effects: for the direction that moves a factor most, the change of every other factor per
  unit change of that one
- identity: how often the edit changes the shape's kind (the one factor no direction should touch,
  like a face's identity in the paper)

Edits are compared at the same size in z: direction k's amount is the t whose edits move z by
``shift`` on average (for the linear model t = shift; a curvilinear amount is a distance in f(z),
which the flow may stretch). Everything is drawn from one seeded generator, so methods are compared
on the same z.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from itertools import combinations

import torch

from studio.ml.analysis.attributes import FACTORS, AttributeRegressor, Ranges, attribute_change, read_attributes
from studio.ml.models.latent_editor import LatentEditor


@dataclass
class EditingReport:
    method: str
    shift: float  # the edits' mean length in z
    amounts: list[float]  # per direction, the t of an edit of that length
    effects: list[list[float]]  # (K, F): mean change of factor f moving along k from -shift to +shift, %
    random_effects: list[float]  # (F,): the same for straight moves along random unit vectors
    matched: list[str]  # per direction, the factor it moves most
    commutativity_pct: float  # mean over pairs, z and factors
    commutativity_max_pct: float  # the worst pair (mean over z and factors)
    commutativity_latent: float  # mean |z_kl - z_lk|
    undo_pct: float
    side_effects: dict[str, dict[str, float]]  # target factor -> {other factor: change per unit of target}
    side_effect_mean: float  # mean over targets of the mean change of the other factors per unit
    identity_pct: float  # % of edits (z, k, +-shift) that change the shape's kind
    pairs: int = 0
    latents: int = 0
    factors: tuple[str, ...] = FACTORS
    direction_pairs: list[dict] = field(default_factory=list)  # per pair: k, l, commutativity_pct

    def to_dict(self) -> dict:
        return asdict(self)

    def factor_names(self) -> list[dict]:
        """The ``factors.json`` entries the attribute editor names its sliders with."""
        return [{"factor": name, "effect": round(max(row), 3)} for name, row in zip(self.matched, self.effects)]


def _render(editor: LatentEditor, z: torch.Tensor, edits, batch: int = 256) -> torch.Tensor:
    device = next(editor.parameters()).device
    out = [editor.render(z[i:i + batch].to(device), edits).float().cpu() for i in range(0, len(z), batch)]
    return torch.cat(out)


def _mean_change(change: dict[str, torch.Tensor]) -> torch.Tensor:
    """Per image, the mean over factors (rotation only where it is defined)."""
    return torch.stack([change[name] for name in FACTORS], dim=1).nanmean(dim=1)


@torch.no_grad()
def evaluate_editor(editor: LatentEditor, regressor: AttributeRegressor, ranges: Ranges, *, shift: float,
                    latents: int = 128, pair_latents: int = 32, max_pairs: int = 28, seed: int = 0) -> EditingReport:
    """All of the module docstring's measures for ``editor``'s directions, at edits of +-``shift``."""
    gen = torch.Generator().manual_seed(seed)
    directions = editor.directions.directions
    z = torch.randn(latents, editor.nz, generator=gen)
    start = read_attributes(regressor, _render(editor, z, []))

    amounts = [calibrated_amount(editor, z, k, shift) for k in range(directions)]
    effects, kind_changed = [], []
    for k, t in enumerate(amounts):
        plus = read_attributes(regressor, _render(editor, z, [(k, t)]))
        minus = read_attributes(regressor, _render(editor, z, [(k, -t)]))
        change = attribute_change(minus, plus, ranges)
        effects.append([float(change[name].nanmean()) for name in FACTORS])
        kind_changed += [(plus["kind"] != start["kind"]).float(), (minus["kind"] != start["kind"]).float()]
    random = _random_effects(editor, regressor, ranges, z, shift, directions, gen)
    matched = [FACTORS[best] for best in _most_specific(effects, random)]

    pairs = list(combinations(range(directions), 2))
    if len(pairs) > max_pairs:
        pick = torch.randperm(len(pairs), generator=gen)[:max_pairs].sort().values
        pairs = [pairs[i] for i in pick.tolist()]
    z_pairs = z[:pair_latents]
    per_pair, latent_gap, undo = [], [], []
    for k, l in pairs:
        a, b = (torch.tensor([amounts[k], amounts[l]]) * (2 * torch.randint(0, 2, (2,), generator=gen) - 1)).tolist()
        device = next(editor.parameters()).device
        in_turn = editor.directions.apply_in_turn
        kl = in_turn(z_pairs.to(device), [(k, a), (l, b)]).cpu()
        lk = in_turn(z_pairs.to(device), [(l, b), (k, a)]).cpu()
        back = in_turn(kl.to(device), [(k, -a), (l, -b)]).cpu()
        read_kl, read_lk, read_back = (read_attributes(regressor, _render(editor, w, [])) for w in (kl, lk, back))
        per_pair.append(float(_mean_change(attribute_change(read_kl, read_lk, ranges)).mean()))
        start_pairs = {name: value[:pair_latents] for name, value in start.items()}
        undo.append(float(_mean_change(attribute_change(start_pairs, read_back, ranges)).mean()))
        latent_gap.append(float((kl - lk).norm(dim=1).mean()))

    return EditingReport(
        method=editor.method, shift=shift, amounts=amounts, effects=effects, random_effects=random, matched=matched,
        commutativity_pct=_mean(per_pair), commutativity_max_pct=max(per_pair, default=0.0),
        commutativity_latent=_mean(latent_gap), undo_pct=_mean(undo),
        side_effects=(sides := side_effects(effects, random)),
        side_effect_mean=_mean([_mean(list(row.values())) for row in sides.values()]),
        identity_pct=100.0 * float(torch.cat(kind_changed).mean()) if kind_changed else 0.0,
        pairs=len(pairs), latents=latents,
        direction_pairs=[{"k": k, "l": l, "commutativity_pct": c} for (k, l), c in zip(pairs, per_pair)],
    )


@torch.no_grad()
def calibrated_amount(editor: LatentEditor, z: torch.Tensor, k: int, length: float, rounds: int = 3) -> float:
    """The t for which edits along k (both signs) move ``z`` by ``length`` on average: a few
    secant steps from t = length (exact at once for the linear model)."""
    device = next(editor.parameters()).device
    z = z.to(device)

    def moved(t: float) -> float:
        return 0.5 * sum(float((editor.edit(z, [(k, sign * t)]) - z).norm(dim=1).mean()) for sign in (1, -1))

    t = length
    for _ in range(rounds):
        distance = moved(t)
        if distance <= 1e-9 or abs(distance - length) < 1e-3 * length:
            break
        t *= length / distance
    return t


def _random_effects(editor, regressor, ranges, z, shift, count, gen) -> list[float]:
    """Mean change of each factor between z - shift u and z + shift u, u random unit vectors."""
    total = torch.zeros(len(FACTORS))
    for _ in range(count):
        u = torch.randn(1, editor.nz, generator=gen)
        u = u / u.norm()
        plus, minus = (read_attributes(regressor, _render(editor, z + sign * shift * u, [])) for sign in (1, -1))
        change = attribute_change(minus, plus, ranges)
        total += torch.tensor([float(change[name].nanmean()) for name in FACTORS])
    return (total / count).tolist()


def _specificity(row: list[float], random: list[float]) -> list[float]:
    return [value / max(base, 1e-6) for value, base in zip(row, random)]


def _most_specific(effects: list[list[float]], random: list[float]) -> list[int]:
    """Per direction, the factor it moves most relative to a random move."""
    return [max(range(len(FACTORS)), key=_specificity(row, random).__getitem__) for row in effects]


def side_effects(effects: list[list[float]], random: list[float]) -> dict[str, dict[str, float]]:
    """For each factor that names a direction, that direction's change of each other factor
    divided by its change of the target (the most specific direction when several match)."""
    table: dict[str, dict[str, float]] = {}
    best: dict[str, float] = {}
    for row, target in zip(effects, _most_specific(effects, random)):
        name, size = FACTORS[target], row[target]
        specificity = _specificity(row, random)[target]
        if size <= 0 or specificity <= best.get(name, 0.0):
            continue
        best[name] = specificity
        table[name] = {other: row[i] / size for i, other in enumerate(FACTORS) if i != target}
    return {name: table[name] for name in FACTORS if name in table}


def _mean(values: list[float]) -> float:
    """The mean of the defined values (rotation is undefined for a circle), NaN if none is."""
    defined = [v for v in values if not math.isnan(v)]
    return sum(defined) / len(defined) if defined else math.nan

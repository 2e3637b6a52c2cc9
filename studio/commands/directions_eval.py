"""``latent-studio directions-eval CHECKPOINT... --out DIR``: score direction models without labels.

Trains attribute regressors on the direction models' dataset (the shapes, whose factors are known;
kept in DIR/regressor.safetensors and reused while the data is the same), then for each model:
``effects.md`` (how far each direction moves each factor, and the factor it is named after),
``editing.md``/``editing.csv`` (commutativity, undo, side-effect and identity errors per method),
``side_effects.md`` (per method, the change of each other factor per unit of the target),
``editing.json`` (everything), figures ``edits-METHOD.png`` (each direction from -shift to
+shift) and ``order-swap.png`` ("k then l", "l then k" and their difference, per method).
Each model's ``factors.json`` (its directions' names, read by the attribute editor) is written
next to its checkpoint unless ``--no-names``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

from studio.catalog import data_fields

SWAP_LATENTS = 3  # rows per method in order-swap.png
EDIT_COLUMNS = 7  # shifts per direction in edits-METHOD.png


def add_parser(commands) -> None:
    p = commands.add_parser("directions-eval", help="commutativity, side effects and identity of direction models",
                            description=__doc__.replace("``", ""), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", type=Path, nargs="+", metavar="CHECKPOINT",
                   help="direction models (kind directions), e.g. linear, warped and curvilinear on one generator")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the tables and figures")
    p.add_argument("--shift", type=float, help="edit size t (default: half the smallest max_shift of the models)")
    p.add_argument("--latents", type=int, default=128, help="z per measure (default 128)")
    p.add_argument("--regressor-steps", type=int, default=1500, help="training steps of the regressors (default 1500)")
    p.add_argument("--no-names", action="store_true", help="do not write factors.json next to the checkpoints")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", help="cuda, cuda:1, mps or cpu (default: the best available)")


def run(args: argparse.Namespace, catalog) -> int:
    try:
        return _evaluate(args, catalog)
    except (ValueError, KeyError, OSError) as exc:  # CheckpointError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _evaluate(args: argparse.Namespace, catalog) -> int:
    from studio.ml.analysis.attributes import Ranges
    from studio.ml.device import pick_device

    device = pick_device(args.device)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    models, data = _load_models(args.checkpoints, catalog, device)
    regressor, accuracy = _regressor(data, data_fields(models[0][1]["setup"]), out, args, device)
    ranges = Ranges.of(data.factors)
    shift = args.shift or min(meta["config"]["max_shift"] for _, meta, _ in models) / 2
    from studio.ml.analysis.editing import evaluate_editor

    reports = []
    for editor, meta, path in models:
        report = evaluate_editor(editor, regressor, ranges, shift=shift, latents=args.latents, seed=args.seed)
        reports.append((report, meta, path))
        print(f"{report.method:12s} commutativity {report.commutativity_pct:.3g}% (undo {report.undo_pct:.3g}%), "
              f"side effects {report.side_effect_mean:.3f}, identity {report.identity_pct:.1f}%  [{path}]")
        if not args.no_names:
            names = {"directions": report.factor_names(), "shift": shift, "evaluation": str(out.resolve())}
            (path.parent / "factors.json").write_text(json.dumps(names, indent=1) + "\n", encoding="utf-8")
    _write_tables(reports, accuracy, out)
    _write_figures(models, reports, shift, out, args.seed)
    print(f"tables and figures in {out}")
    return 0


def _load_models(paths: list[Path], catalog, device):
    """(editor, meta, path) per checkpoint, all on one dataset, and that dataset."""
    models, data, setup0 = [], None, None
    for path in paths:
        editor, meta, dataset = catalog.load_model(path, device, data)
        if meta["kind"] != "directions":
            raise ValueError(f"{path} holds a {meta['kind']} model, not a direction model")
        setup = data_fields(meta["setup"])
        if setup0 is not None and setup != setup0:
            raise ValueError(f"{path} was trained on other data ({setup}) than {paths[0]} ({setup0})")
        setup0, data = setup, dataset
        models.append((editor, meta, path))
    return models, data


def _regressor(data, setup: dict, out: Path, args, device):
    """The cached regressors when they were trained on this data with these steps, else new ones."""
    from studio.ml.analysis.attributes import load_regressor, save_regressor, train_regressor
    from studio.ml.checkpoints import CheckpointError

    key = setup | {"steps": args.regressor_steps}
    path = out / "regressor.safetensors"
    if path.exists():
        try:
            model, meta = load_regressor(path, device)
            if meta.get("data") == key:
                print(f"attribute regressors: reusing {path}")
                return model, meta["accuracy"]
        except CheckpointError as exc:
            print(f"attribute regressors: {exc}; training new ones", file=sys.stderr)
    print(f"attribute regressors: training on {data.name} ({args.regressor_steps} steps)…")
    model, accuracy = train_regressor(data, steps=args.regressor_steps, seed=args.seed, device=device)
    save_regressor(model, path, {"data": key, "accuracy": accuracy})
    return model, accuracy


def _write_tables(reports, accuracy: dict, out: Path) -> None:
    from studio.ml.analysis.attributes import FACTORS

    columns = ("commutativity_pct", "commutativity_max_pct", "commutativity_latent", "undo_pct",
               "side_effect_mean", "identity_pct")
    with open(out / "editing.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(("method", "checkpoint", *columns))
        writer.writerows([r.method, str(p), *(f"{getattr(r, c):.5f}" for c in columns)] for r, _, p in reports)
    lines = ["| method | commutativity (% of range) | worst pair (%) | ‖z_kl − z_lk‖ | undo (%) | "
             "side effect (per unit) | identity changed (%) |", "|---|" + "---:|" * 6]
    lines += [f"| {r.method} | {r.commutativity_pct:.3g} | {r.commutativity_max_pct:.3g} | "
              f"{r.commutativity_latent:.3g} | {r.undo_pct:.3g} | {_number(r.side_effect_mean, '.3f')} | "
              f"{r.identity_pct:.1f} |"
              for r, _, _ in reports]
    (out / "editing.md").write_text("\n".join(lines) + "\n", encoding="utf-8")

    effects = []
    for r, _, _ in reports:
        effects += [f"### {r.method} (change between edits of -t and +t, each moving z by {r.shift:g} on average; "
                    "% of range)", "", "| direction | t | " + " | ".join(FACTORS) + " | named |",
                    "|---|---:|" + "---:|" * len(FACTORS) + "---|"]
        effects += [f"| {k} | {t:.2f} | " + " | ".join(_number(v, ".1f") for v in row) + f" | {name} |"
                    for k, (t, row, name) in enumerate(zip(r.amounts, r.effects, r.matched))]
        effects += [f"| random | {r.shift:.2f} | " + " | ".join(_number(v, ".1f") for v in r.random_effects) + " | |",
                    ""]
    (out / "effects.md").write_text("\n".join(effects), encoding="utf-8")

    sides = []
    for r, _, _ in reports:
        sides += [f"### {r.method}: change of each factor per unit change of the target", "",
                  "| target | " + " | ".join(FACTORS) + " |", "|---|" + "---:|" * len(FACTORS)]
        for target, row in r.side_effects.items():
            cells = ("—" if f == target else _number(row[f], ".2f") for f in FACTORS)
            sides.append(f"| {target} | " + " | ".join(cells) + " |")
        sides.append("")
    (out / "side_effects.md").write_text("\n".join(sides), encoding="utf-8")
    data = {"regressor_accuracy": accuracy,
            "models": [{"checkpoint": str(p), "step": m["step"], "config": m["config"], **r.to_dict()}
                       for r, m, p in reports]}
    (out / "editing.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def _number(value: float, spec: str) -> str:
    """``value`` formatted, or "n/a" where it is undefined (rotation, when every shape read is a circle)."""
    return "n/a" if math.isnan(value) else format(value, spec)


def _write_figures(models, reports, shift: float, out: Path, seed: int) -> None:
    import torch

    from studio.ml.analysis.image_table import save_image_table
    from studio.ml.data.base import to_uint8

    gen = torch.Generator().manual_seed(seed + 1)
    swaps, swap_rows = [], []
    for (editor, _, _), (report, _, _) in zip(models, reports):
        device = next(editor.parameters()).device
        z = torch.randn(1, editor.nz, generator=gen).to(device)
        steps = [-1 + 2 * i / (EDIT_COLUMNS - 1) for i in range(EDIT_COLUMNS)]  # in units of each direction's t
        with torch.no_grad():
            images = torch.cat([editor.render(z, [(k, s * t)]) for k, t in enumerate(report.amounts)
                                for s in steps]).float().cpu()
        rows = [f"{k}: {name}" for k, name in enumerate(report.matched)]
        columns = [f"{s * shift:+.2g}" for s in steps]  # the edit's length in z
        save_image_table(to_uint8(images), columns, out / f"edits-{report.method}.png", rows)

        pair = max(report.direction_pairs, key=lambda p: p["commutativity_pct"], default=None)
        if pair is None:
            continue
        k, l = pair["k"], pair["l"]
        z = torch.randn(SWAP_LATENTS, editor.nz, generator=gen).to(device)
        with torch.no_grad():
            in_turn = editor.directions.apply_in_turn
            a, b = report.amounts[k], report.amounts[l]
            kl = editor(in_turn(z, [(k, a), (l, b)])).float().cpu()
            lk = editor(in_turn(z, [(l, b), (k, a)])).float().cpu()
            start = editor(z).float().cpu()
        difference = ((kl - lk).abs() * 4 - 1).clamp(-1, 1)  # 4x the [0, 1] difference, drawn on [-1, 1]
        swaps.append(torch.stack([start, kl, lk, difference], dim=1).flatten(0, 1))
        swap_rows += [f"{report.method} {k},{l}"] * SWAP_LATENTS
    if swaps:
        save_image_table(to_uint8(torch.cat(swaps)), ["start", "k then l", "l then k", "|diff| x4"],
                         out / "order-swap.png", swap_rows)

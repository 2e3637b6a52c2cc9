"""``latent-studio switchboard CHECKPOINT --out DIR``: the concat switchboard without a window.

For a trained U-Net (kind ``unet``) writes, over the pairs of ``--split``:
``zeroing.csv``/``zeroing.md`` (MSE, colour error and structure error with every latent, each
latent alone and each latent removed: the paper's figures 5 and 6 as numbers), ``one-on.png`` and
``one-off.png`` (those figures for ``--count`` pairs), ``probes.png`` and ``probes.json`` (R-, G-,
B-only and 3x3 colour-grid inputs and what the model makes of them; the share of light that stays
in its channel).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path


def add_parser(commands) -> None:
    p = commands.add_parser("switchboard", help="zero each skip of a U-Net: tables and figures",
                            description=__doc__.replace("``", ""), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path, metavar="CHECKPOINT", help="a unet .safetensors checkpoint")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the outputs")
    p.add_argument("--split", choices=("train", "test"), default="test",
                   help="the pairs measured and shown (default test; the probes always use train, as the paper)")
    p.add_argument("--count", type=int, default=4, help="pairs in each figure (default 4)")
    p.add_argument("--scale", type=int, default=2, help="enlarge the figures by this whole factor (default 2)")
    p.add_argument("--device", help="cuda, cuda:1, mps or cpu (default: the best available)")


def run(args: argparse.Namespace, catalog) -> int:
    try:
        return _switchboard(args, catalog)
    except (ValueError, KeyError, OSError) as exc:  # CheckpointError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _switchboard(args: argparse.Namespace, catalog) -> int:
    import torch

    from studio.ml.analysis import switchboard as sb
    from studio.ml.analysis.image_table import save_image_table
    from studio.ml.data.base import to_signed_float, to_uint8
    from studio.ml.device import pick_device
    from studio.ml.training.unet import spread

    if args.count < 1:
        raise ValueError(f"--count must be at least 1, not {args.count}")
    model, meta, pairs = catalog.load_model(args.checkpoint, pick_device(args.device))
    if catalog.model_kind(meta["kind"]).output != "translation":
        raise ValueError(f"{args.checkpoint.name} holds a {meta['kind']} model, not an image-to-image U-Net")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    results = sb.zeroing_study(model, pairs, args.split)
    _write_zeroing(results, out)
    shown = spread(pairs.indices(args.split), args.count)
    inputs, targets = to_signed_float(pairs.inputs[shown]), to_signed_float(pairs.targets[shown])
    rows = [pairs.labels[i] for i in shown.tolist()]
    for mode in ("one-on", "one-off"):
        images, columns = sb.mask_grid(model, inputs, mode)
        images = torch.cat([images.unflatten(0, (len(inputs), -1)), targets.unsqueeze(1)], dim=1).flatten(0, 1)
        save_image_table(to_uint8(images), columns + ["target"], out / f"{mode}.png", rows, args.scale)

    report = {"checkpoint": str(args.checkpoint), "step": meta["step"], "skips": meta["config"]["skips"],
              "split": args.split, "pairs": len(pairs.indices(args.split))}
    if pairs.channels == 3:
        train = spread(pairs.indices("train"), args.count)
        probe_images = to_signed_float(pairs.inputs[train])
        probes = sb.probe_inputs(probe_images)
        columns = [title for name, _ in probes for title in (name, "output")]
        made = [torch.stack([probe, sb.translate(model, probe)], dim=1) for _, probe in probes]
        images = torch.cat(made, dim=1).flatten(0, 1)
        save_image_table(to_uint8(images), columns, out / "probes.png", [pairs.labels[i] for i in train.tolist()],
                         args.scale)
        report["probes (train pairs, share of light kept in the probe's channel)"] = sb.probe_study(model, pairs)
    (out / "probes.json").write_text(json.dumps(report, indent=1))

    by_mask = {r.mask: r for r in results}
    print(f"{meta['kind']} ({meta['config']['skips']}) step {meta['step']} on {report['pairs']} {args.split} pairs "
          f"-> {out}")
    on = "subject_" if not math.isnan(by_mask["all"].subject_colour_error) else ""
    colour, structure = f"{on}colour_error", f"{on}structure_error"
    print(f"MSE {by_mask['all'].mse:.4f}; without latent1: colour error{' (head)' if on else ''} x"
          f"{_ratio(getattr(by_mask['-latent1'], colour), getattr(by_mask['all'], colour))}, without latent2: "
          f"structure error{' (head)' if on else ''} x"
          f"{_ratio(getattr(by_mask['-latent2'], structure), getattr(by_mask['all'], structure))}")
    return 0


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:.1f}" if reference > 0 else "inf"


ERRORS = ("mse", "colour_error", "structure_error", "subject_colour_error", "subject_structure_error")


def _write_zeroing(results, out: Path) -> None:
    with open(out / "zeroing.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(("mask", *ERRORS))
        writer.writerows([r.mask, *(f"{getattr(r, e):.6f}" for e in ERRORS)] for r in results)
    on_subject = not math.isnan(results[0].subject_colour_error)
    shown = ERRORS if on_subject else ERRORS[:3]
    titles = ["MSE", "colour error", "structure error", "colour error (head)", "structure error (head)"]
    lines = ["| latents | " + " | ".join(titles[:len(shown)]) + " |", "|---|" + "---:|" * len(shown)]
    lines += [f"| {r.mask} | " + " | ".join(f"{getattr(r, e):.4f}" for e in shown) + " |" for r in results]
    (out / "zeroing.md").write_text("\n".join(lines) + "\n", encoding="utf-8")

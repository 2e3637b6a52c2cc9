"""``latent-studio unet-ablation --out DIR``: Tables 1-4 of seed paper 001 on this machine.

Trains the autoencoder, the full U-Net and U-Nets with only some skips (``--variants``, the
``skips`` parameter's values: none, 1234, 2, 12, ...) on the same pairs, one run folder each under
DIR, then writes ``mse.csv``/``mse.md`` (train/test MSE beside the paper's) and ``outputs.png``
(test pairs: input, target, and each variant's output). A variant whose run folder already holds a
checkpoint continues from it, or is only evaluated when it has all its steps.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.ml.training.unet_params import PAPER_VARIANTS, QUICK_VARIANTS, SKIP_CHOICES


def _variants(text: str) -> list[str]:
    variants = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [v for v in variants if v not in SKIP_CHOICES]
    if unknown or not variants:
        raise argparse.ArgumentTypeError(f"{unknown[0] if unknown else text!r} is not a skip set: use some of "
                                         f"1-4 in order (1234, 2, 12, ...) or none for the autoencoder")
    return variants


def add_parser(commands) -> None:
    p = commands.add_parser("unet-ablation", help="train the AE, the U-Net and skip subsets: the MSE tables",
                            description=__doc__.replace("``", ""), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the runs and tables")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--variants", type=_variants, metavar="V,V,...",
                       help=f"skip sets to train (default {','.join(QUICK_VARIANTS)})")
    which.add_argument("--all", action="store_true", help=f"the paper's twelve: {','.join(PAPER_VARIANTS)}")
    p.add_argument("--dataset", default="heads", help="a paired dataset (default heads)")
    p.add_argument("--data-path", help="the folder, for paired_folder")
    p.add_argument("--size", type=int, default=64, help="image size (default 64, the paper's)")
    p.add_argument("--steps", type=int, default=1500, help="training steps per variant (default 1500)")
    p.add_argument("--seed", type=int, default=0, help="the same seed for every variant (default 0)")
    p.add_argument("--width", type=int, help="channels of the first layer (default: the kind's)")
    p.add_argument("--batch-size", type=int, help="pairs per step (default: the kind's)")
    p.add_argument("--count", type=int, default=6, help="test pairs in outputs.png (default 6)")
    p.add_argument("--device", help="cuda, cuda:1, mps or cpu (default: the best available)")


def run(args: argparse.Namespace, catalog) -> int:
    from studio.ml.training.run import NonFiniteLoss

    try:
        return _ablation(args, catalog)
    except (ValueError, KeyError, OSError, NonFiniteLoss) as exc:  # CheckpointError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _ablation(args: argparse.Namespace, catalog) -> int:
    import torch

    from studio.catalog import RunSetup, data_summary
    from studio.ml.analysis.image_table import save_image_table
    from studio.ml.analysis.switchboard import translate
    from studio.ml.data.base import to_signed_float, to_uint8
    from studio.ml.device import pick_device
    from studio.ml.training.ablation import evaluate, variant_folder, variant_label, write_table
    from studio.ml.training.unet import spread

    variants = PAPER_VARIANTS if args.all else (args.variants or QUICK_VARIANTS)
    device = pick_device(args.device)
    config = {key: value for key, value in (("width", args.width), ("batch_size", args.batch_size)) if value}
    base = RunSetup("unet", args.dataset, args.data_path, args.size, None, args.seed, config)
    pairs = catalog.load_dataset(base)
    for path, reason in pairs.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    print(f"{len(variants)} variants x {args.steps} steps on {args.dataset} ({data_summary(base.dataset_info(pairs))}) "
          f"on {device} -> {args.out}")
    rows, models = [], []
    for variant in variants:
        setup = RunSetup(**(base.to_dict() | {"config": config | {"skips": variant}}))
        out_dir = args.out / variant_folder(variant)
        model, steps, checkpoint = _train(catalog, setup, pairs, out_dir, args.steps, device, variant_label(variant))
        rows.append(evaluate(model, pairs, variant, steps, checkpoint))
        models.append(model)
        print(f"  {rows[-1].label:12s} train MSE {rows[-1].train_mse:.4f}  test MSE {rows[-1].test_mse:.4f}")
    csv_path, md_path = write_table(rows, args.out)

    shown = spread(pairs.indices("test"), args.count)
    inputs, targets = to_signed_float(pairs.inputs[shown]), to_signed_float(pairs.targets[shown])
    columns = [inputs, targets] + [translate(model, inputs) for model in models]
    save_image_table(to_uint8(torch.stack(columns, dim=1).flatten(0, 1)),
                     ["input", "target"] + [row.label for row in rows], args.out / "outputs.png",
                     [pairs.labels[i] for i in shown.tolist()])
    print(f"tables: {csv_path}, {md_path}\nfigure: {args.out / 'outputs.png'}")
    return 0


def _train(catalog, setup, pairs, out_dir: Path, steps: int, device, label: str):
    """Train (or continue, or only load) one variant; its eval-mode model, steps and checkpoint."""
    from tqdm import tqdm

    from studio.ml.training.run import CHECKPOINT_NAME, RunSettings, TrainingRun

    checkpoint = out_dir / CHECKPOINT_NAME
    if checkpoint.exists():
        trainer, _, saved = catalog.restore(checkpoint, device)
        asked = {key: saved.config.get(key) for key in setup.config}
        if (saved.dataset, saved.dataset_path, saved.image_size, saved.seed, asked) != (
                setup.dataset, setup.dataset_path, setup.image_size, setup.seed, setup.config):
            raise ValueError(f"{checkpoint} is a run with other settings ({saved.dataset} {saved.image_size} px, "
                             f"seed {saved.seed}, {saved.config}); choose another --out")
    else:
        trainer, _ = catalog.build_trainer(setup, device, pairs)
    if trainer.steps_done < steps:
        run = TrainingRun(trainer, RunSettings(out_dir, steps, sample_every=max(1, steps // 10)),
                          setup.dataset_info(pairs))
        bar = tqdm(total=steps, initial=trainer.steps_done, desc=label, unit="step", dynamic_ncols=True,
                   file=sys.stderr)
        try:
            while not run.done:
                report = run.advance()
                bar.update(1)
                bar.set_postfix({k: f"{v:.4f}" for k, v in report.losses.items()}, refresh=False)
        finally:
            bar.close()
            run.close(save=True)
    return trainer.inference_model(), trainer.steps_done, checkpoint

"""``latent-studio walk CHECKPOINT --out DIR``: the z-space walker without a window.

Writes ``strip.png`` (the frames side by side), ``path.gif`` (looping), ``novelty.json`` (each
frame's nearest training image and distance, and the training set's own typical nearest-neighbour
distance) and ``pca.png`` (training images and the path's frames on one PCA map of pixel space).
Keyframes come from seeds (default 0,1), image files (encoded by a VAE-GAN's encoder, or found by
optimising z for a plain GAN) or training images by index.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

MODES = ("linear", "spherical")  # studio.ml.analysis.latent_paths.MODES (not imported: keeps torch out of --help)


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values


def add_parser(commands) -> None:
    p = commands.add_parser("walk", help="walk through z between keyframes: PNG strip, GIF, novelty, PCA",
                            description=__doc__.replace("``", ""), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path, metavar="CHECKPOINT", help="a .safetensors checkpoint")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the outputs")
    keys = p.add_mutually_exclusive_group()
    keys.add_argument("--seeds", type=_int_list, metavar="S,S,...", help="keyframes from seeds (default 0,1)")
    keys.add_argument("--images", type=Path, nargs="+", metavar="IMAGE", help="keyframes from image files")
    keys.add_argument("--dataset-indices", type=_int_list, metavar="I,I,...",
                      help="keyframes from the model's training images")
    p.add_argument("--mode", choices=MODES, default="spherical",
                   help="linear: straight lines; spherical: great-circle arcs (default)")
    p.add_argument("--frames", type=int, default=32, help="frames along the whole path (default 32)")
    p.add_argument("--fps", type=float, default=12, help="GIF frame rate (default 12)")
    p.add_argument("--scale", type=int, default=1, help="enlarge the strip and GIF by this whole factor")
    p.add_argument("--invert-steps", type=int, default=300,
                   help="optimisation steps per image for a GAN without encoder (default 300)")
    p.add_argument("--device", help="cuda, cuda:1, mps or cpu (default: the best available)")


def run(args: argparse.Namespace, catalog) -> int:
    from studio.ml.data.image_file import ImageFileError

    try:
        return _walk(args, catalog)
    except (ImageFileError, ValueError, KeyError, OSError) as exc:  # CheckpointError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _walk(args: argparse.Namespace, catalog) -> int:
    import torch

    from studio.ml.analysis.latent_paths import path_positions, sample_path
    from studio.ml.analysis.novelty import NoveltyReference
    from studio.ml.analysis.path_export import save_gif, save_pca_picture, save_strip
    from studio.ml.data.base import to_uint8
    from studio.ml.device import pick_device

    if args.frames < 2:
        raise ValueError(f"--frames must be at least 2, not {args.frames}")
    device = pick_device(args.device)
    model, meta, dataset = catalog.load_model(args.checkpoint, device)
    if not isinstance(getattr(model, "nz", None), int):
        raise ValueError(f"{args.checkpoint.name} holds a {meta['kind']} model without a latent size (nz)")
    keyframes, labels = _keyframes(args, model, dataset, meta, device)
    with torch.no_grad():  # the path's frames and the keyframes' own images, in one batch
        z = torch.cat([sample_path(keyframes, args.frames, args.mode), keyframes])
        images = to_uint8(model(z.to(device))).cpu()
    frames, keyframe_images = images[: args.frames], images[args.frames :]
    reference = NoveltyReference.build(dataset.images, seed=meta["setup"].get("seed", 0))
    nearest, xy = reference.nearest(frames), reference.project(frames)

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    save_strip(frames, out / "strip.png", args.scale)
    save_gif(frames, out / "path.gif", args.fps, args.scale)
    title = f"PCA of {meta['setup']['dataset']} images (gray) and the {args.mode} path (blue to orange)"
    save_pca_picture(reference.training_xy, xy, out / "pca.png", keyframe_xy=reference.project(keyframe_images),
                     explained=reference.pca.explained_variance_ratio, title=title)
    report = {
        "checkpoint": str(args.checkpoint),
        "kind": meta["kind"],
        "step": meta["step"],
        "dataset": meta["setup"]["dataset"],
        "mode": args.mode,
        "keyframes": labels,
        "distance": "RMS pixel difference, pixels in [0, 1]",
        "training_nn_distance": reference.typical.to_dict(),
        "pca_explained_variance_ratio": reference.pca.explained_variance_ratio.tolist(),
        "frames": [
            {"frame": i, "s": round(s, 6), "nearest_index": int(j), "distance": float(d),
             "pca": [round(float(v), 4) for v in p]}
            for i, (s, j, d, p) in enumerate(zip(path_positions(args.frames).tolist(), nearest.index,
                                                 nearest.distance, xy))
        ],
    }
    (out / "novelty.json").write_text(json.dumps(report, indent=1))
    typical = reference.typical
    print(f"{args.frames} frames through {len(labels)} keyframes ({', '.join(labels)}) -> {out}")
    print(f"nearest training image: distance {nearest.distance.min():.3f}-{nearest.distance.max():.3f}; "
          f"training images lie {typical.median:.3f} (median) from their nearest neighbour")
    return 0


def _keyframes(args, model, dataset, meta: dict, device):
    """(K, nz) latents and a label for each keyframe, from whichever source was chosen."""
    import torch

    from studio.ml.analysis.latent_paths import seed_latent
    from studio.ml.data.base import to_signed_float

    if args.images:
        from studio.ml.data.image_file import load_image_file

        config = meta["config"]
        images = torch.stack([load_image_file(p, config["image_size"], config["channels"]) for p in args.images])
        labels = [p.name for p in args.images]
    elif args.dataset_indices:
        bad = [i for i in args.dataset_indices if not 0 <= i < len(dataset)]
        if bad:
            raise ValueError(f"training image index {bad[0]} is out of range: {meta['setup']['dataset']} has "
                             f"{len(dataset)} images (0-{len(dataset) - 1})")
        images = dataset.images[args.dataset_indices]
        labels = [f"{meta['setup']['dataset']} #{i}" for i in args.dataset_indices]
    else:
        seeds = args.seeds or [0, 1]
        return torch.stack([seed_latent(s, model.nz) for s in seeds]), [f"seed {s}" for s in seeds]
    found = _find_latents(model, to_signed_float(images), args.invert_steps)
    labels = [f"{label} ({found.method}, RMS {float(e):.3f})" for label, e in zip(labels, found.error)]
    return found.z, labels


def _find_latents(model, images, steps: int):
    from tqdm import tqdm

    from studio.ml.analysis.inversion import find_latents, has_encoder

    if has_encoder(model):
        return find_latents(model, images)
    bar = tqdm(total=steps, desc="optimising z", unit="step", dynamic_ncols=True, file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.update(done - bar.n)

    try:
        return find_latents(model, images, progress=progress, steps=steps)
    finally:
        bar.close()

"""``latent-studio loops CHECKPOINT --out DIR``: an audio GAN's loops, without a window.

Writes to DIR:
  loop_SEED.wav (or .flac)  each generated loop at the model's rate (z from --seed, --seed + 1, ...)
  spectrograms.png          their constant-Q spectrograms (high frequencies on top), one per row
  partials.json             partials per frame, polyphony and pitch change of each generated loop and
                            of as many training clips (the control: single tones must read as such)
  map.png, map.json         with --map: seed paper 002's figure 8, the training loops and --map-count
                            generated loops on one PCA plane, each generated loop's nearest training loop
  playback.wav              with --render: what the loop player plays, at 44.1 kHz: each loop twice,
                            one after another, switched at the seam; the seams' steps are reported
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parser(commands) -> None:
    p = commands.add_parser("loops", help="generate loops from an audio GAN: sound files, spectrograms, "
                            "polyphony counts, and the map against the training loops",
                            description=__doc__.split("\n\n")[0].replace("``", ""))
    p.add_argument("checkpoint", type=Path, help="a spectrogram-GAN or waveform-GAN checkpoint (.safetensors)")
    p.add_argument("--out", type=Path, required=True, help="folder for the loops and figures")
    p.add_argument("--count", type=int, default=16, help="loops to write and measure")
    p.add_argument("--seed", type=int, default=0, help="seed of the first loop's z")
    p.add_argument("--format", choices=("wav", "flac"), default="wav")
    p.add_argument("--iterations", type=int, default=32, help="phase-retrieval iterations (spectrogram GANs)")
    p.add_argument("--map", action="store_true", help="also draw the PCA map against the training loops")
    p.add_argument("--map-count", type=int, default=100, help="generated loops on the map")
    p.add_argument("--render", type=int, default=0, metavar="N",
                   help="also write playback.wav: the first N loops through the player's mixer")
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")


def run(args: argparse.Namespace, catalog) -> int:
    import soundfile
    import torch

    from studio.ml.analysis.latent_paths import seed_latent
    from studio.ml.audio.loops import LoopGenerator
    from studio.ml.audio.partials import codec_partial_stats, summarise
    from studio.ml.checkpoints import CheckpointError
    from studio.ml.device import pick_device

    try:
        if args.count < 1 or args.map_count < 1:
            raise ValueError("--count and --map-count must be at least 1")
        module, meta, clips = catalog.load_model(args.checkpoint, pick_device(args.device))
        generator = LoopGenerator(module, meta["config"], catalog.model_kind(meta["kind"]).output, args.iterations)
    except (CheckpointError, ValueError, KeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    nz = int(meta["config"]["nz"])
    seeds = list(range(args.seed, args.seed + max(args.count, args.map_count if args.map else 0)))
    loops = generator.generate(torch.stack([seed_latent(seed, nz) for seed in seeds]))
    args.out.mkdir(parents=True, exist_ok=True)
    for seed, audio in zip(seeds[: args.count], loops.audio):
        soundfile.write(args.out / f"loop_{seed:04d}.{args.format}", audio, loops.sample_rate)
    _save_spectrograms(loops.images[: args.count], args.out / "spectrograms.png")

    codec = generator.codec
    generated = codec_partial_stats(codec, loops.images[: args.count])
    training = codec_partial_stats(codec, codec.encode(clips.waveforms[: args.count].numpy()))
    report = {
        "model": {"kind": meta["kind"], "step": meta["step"], "checkpoint": str(args.checkpoint)},
        "generated": {"summary": summarise(generated),
                      "loops": {seed: s.to_dict() for seed, s in zip(seeds, generated)}},
        "training": {"summary": summarise(training), "clips": [s.to_dict() for s in training]},
    }
    (args.out / "partials.json").write_text(json.dumps(report, indent=2))
    summary = report["generated"]["summary"]
    print(f"{args.count} loops of {loops.audio.shape[1] / loops.sample_rate:g} s -> {args.out}: "
          f"{summary['polyphonic']} polyphonic, {summary['pitch_change']} with a pitch change "
          f"(training clips: {report['training']['summary']['either']} of {len(training)})")
    if args.map:
        _save_map(codec, clips, loops.audio[: args.map_count], seeds, args.out)
    if args.render:
        _render_playback(loops.audio[: args.render], loops.sample_rate, args.out / "playback.wav")
    return 0


def _render_playback(audio, rate: int, path: Path, output_rate: int = 44100, repeats: int = 2) -> None:
    """The player's output for these loops, each ``repeats`` times, and how smooth the seams are:
    the largest sample step across a seam against the largest inside the loops."""
    import numpy as np
    import soundfile

    from studio.runtime.loop_mixer import LoopMixer

    mixer = LoopMixer(output_rate)
    prepared = [mixer.prepare(loop, rate) for loop in audio]
    parts, seams = [], []
    for loop in prepared:
        mixer.queue(loop)
        parts.append(mixer.render(loop.frames * repeats)[:, 0])
        seams += [sum(map(len, parts)) - loop.frames * k for k in range(repeats, 0, -1)]
    signal = np.concatenate(parts)
    soundfile.write(path, signal, output_rate)
    steps = np.abs(np.diff(signal))
    near = np.zeros(len(steps), dtype=bool)
    for seam in seams[1:]:  # the first "seam" is the start from silence
        near[max(seam - 2, 0): seam + mixer.fade_frames] = True
    peak = float(np.abs(signal).max())
    print(f"wrote playback.wav: {len(signal) / output_rate:.1f} s at {output_rate} Hz, peak "
          f"{20 * np.log10(max(peak, 1e-9)):.1f} dBFS, RMS {20 * np.log10(max(float(np.sqrt(np.mean(signal ** 2))), 1e-9)):.1f} dBFS; "
          f"largest step at a seam {steps[near].max():.4f}, elsewhere {steps[~near].max():.4f}")


def _save_spectrograms(images, path: Path) -> None:
    import torch

    from studio.ml.data.base import to_uint8
    from studio.ml.grid import make_grid, save_png

    pixels = to_uint8(torch.from_numpy(images)[:, None])
    save_png(make_grid(pixels, nrow=min(4, len(pixels)), padding=4), path)


def _save_map(codec, clips, generated_audio, seeds, out: Path) -> None:
    """Seed 002's figure 8: PCA of training and generated loops, nearest training loop of each."""
    import numpy as np

    from studio.ml.analysis.figures import Axes
    from studio.ml.audio.compare import LOOP_PALETTE, loop_images, loop_map

    result = loop_map(loop_images(codec, clips.waveforms.numpy()), loop_images(codec, generated_audio))
    ratio = result.pca.explained_variance_ratio
    both = np.concatenate([result.training_xy, result.generated_xy])
    coloured = len(clips) <= len(LOOP_PALETTE)
    title = (f"{len(generated_audio)} generated loops (dots, in the colour of their nearest) and {len(clips)} "
             f"training loops ({'rings' if coloured else 'gray'})")
    axes = Axes(both[:, 0], both[:, 1], title, f"PC 1 ({100 * ratio[0]:.0f}%)", f"PC 2 ({100 * ratio[1]:.0f}%)")
    for index in range(len(clips)) if coloured else []:
        near = result.nearest.index == index
        axes.markers(result.generated_xy[near], fill=LOOP_PALETTE[index], outline=LOOP_PALETTE[index], radius=3)
    if not coloured:
        axes.markers(result.generated_xy, fill="#1f77b4", outline="#1f77b4", radius=3)
    if coloured:  # a few training loops: big rings in their colours
        for index, point in enumerate(result.training_xy):
            axes.markers(point[None], fill=None, outline=LOOP_PALETTE[index], radius=9)
            axes.markers(point[None], fill=None, outline=LOOP_PALETTE[index], radius=10)
    else:
        axes.markers(result.training_xy, fill=None, outline="#909090", radius=3)
    if coloured:
        axes.legend([(label.split(",")[0][:22], LOOP_PALETTE[i]) for i, label in enumerate(clips.labels)])
    axes.image.save(out / "map.png")
    summary = {
        "explained_variance": ratio.tolist(),
        "training": [{"label": label, "xy": xy.tolist()} for label, xy in zip(clips.labels, result.training_xy)],
        "generated": [{"seed": seed, "xy": xy.tolist(), "nearest": clips.labels[int(i)], "distance": float(d)}
                      for seed, xy, i, d in zip(seeds, result.generated_xy, result.nearest.index,
                                                result.nearest.distance)],
    }
    (out / "map.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote map.png and map.json (nearest-training distances: median "
          f"{np.median(result.nearest.distance):.3f})")

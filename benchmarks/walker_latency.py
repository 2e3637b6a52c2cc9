"""Time from a move of the z-space walker's slider to the image at that point on screen, with the
bundled walker model (the VAE-GAN a first launch shows; its training images indexed, so each point
is also placed on the PCA map), with the studio idle and while it trains a DCGAN.

    .venv/bin/python benchmarks/walker_latency.py [--moves 200] [--checkpoint PATH]

A drag is simulated as a user makes it: the slider held down, its value stepped, the next step sent
once the image of the previous one is on screen. Prints JSON with p50/p95 of move -> ``point_shown``
(the foundation's targets: p95 <= 10 ms idle, <= 50 ms while training) and the bare request (path
point, decoder forward, PCA projection) on a fresh thread for reference.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _studio import as_a_script_would, offscreen_studio, percentiles_ms, wait_until  # noqa: E402

import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (1, 2, 3)


def bare_times(render, module, n: int) -> list[float]:
    times = []
    with torch.inference_mode():
        for i in range(10 + n):
            start = time.perf_counter()
            render(i / (10 + n))(module, torch.device("cpu"))
            times.append(time.perf_counter() - start)
    return times[10:]


def drag_latencies(app, panel, moves: int) -> list[float]:
    """Drag the slider along the path and back, one step per shown image."""
    shown: list[float] = []
    panel.point_shown.connect(lambda s: shown.append(time.perf_counter()))
    slider, latencies = panel.scrubber.slider, []
    up = [round(slider.maximum() * k / 50) for k in range(51)]
    cycle = up[1:] + up[-2::-1]  # along the path and back, never the same value twice in a row

    def move_to(value: int) -> float:
        count, start = len(shown), time.perf_counter()
        slider.setValue(value)
        wait_until(app, lambda: len(shown) > count, timeout=30, wake=[panel.point_shown])
        return shown[-1] - start

    if slider.value() != 0:
        move_to(0)  # the start of the path, untimed
    slider.setSliderDown(True)
    for i in range(moves):
        latencies.append(move_to(cycle[i % len(cycle)]))
    slider.setSliderDown(False)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--checkpoint", type=Path, default=ROOT / "checkpoints" / "vaegan-walk.safetensors")
    args = parser.parse_args()

    from studio_plugins.z_walker.work import render_point
    from studio.catalog import RunSetup
    from studio.runtime.model_loading import submit_model_load
    from studio.runtime.openmp import background_threads
    from studio.runtime.training_worker import RunRequest
    from studio.testing.signals import SignalRecorder

    app, studio, window = offscreen_studio()
    panel = studio.panels["z_walker"]
    window.docks["z_walker"].raise_()
    done = SignalRecorder(studio.jobs, "finished", "failed")
    submit_model_load(studio, args.checkpoint, "bench walker")
    wait_until(app, lambda: done.args("finished") or done.args("failed"), timeout=300, wake=[done.recorded])
    if done.args("failed"):
        raise SystemExit(done.args("failed")[0][1])
    panel.picker.combo.setCurrentText("bench walker")
    wait_until(app, lambda: panel._reference is not None, timeout=300)  # the PCA map is part of a point's cost
    for seed in SEEDS:
        panel.add_seed(seed)
    wait_until(app, lambda: panel._point is not None, timeout=60)

    loaded = studio.models.get("bench walker")
    keyframes, mode, reference = panel.keyframes.latents(), panel.walk.mode_name(), panel._reference

    def render(s):
        return render_point(keyframes, s, mode, reference)

    bare = as_a_script_would(bare_times, render, loaded.module, args.moves)
    idle = drag_latencies(app, panel, args.moves)

    seen = SignalRecorder(studio.training, "metrics")
    setup = RunSetup("dcgan", "shapes", image_size=32, channels=3)
    out = Path(studio.settings.fileName()).parent / "latency-run"
    studio.training.start(RunRequest(10**7, out, setup, checkpoint_every=10**9))
    wait_until(app, lambda: len(seen.args("metrics")) >= 5, timeout=600, wake=[seen.recorded])  # in full swing
    training = drag_latencies(app, panel, args.moves)
    studio.shutdown()
    config = loaded.meta.get("config", {})
    print(json.dumps({
        "benchmark": "walker_latency",
        "model": f"{loaded.meta.get('kind')} {args.checkpoint.name}: "
                 + ", ".join(f"{k} {config[k]}" for k in ("image_size", "nz", "ngf", "g_upsample") if k in config),
        "device": str(studio.models.device),
        "torch_threads": background_threads(),
        "keyframes": len(SEEDS),
        "mode": mode,
        "bare_request": percentiles_ms(bare),
        "idle": percentiles_ms(idle) | {"p95_target_ms": 10},
        "while_training": percentiles_ms(training) | {"p95_target_ms": 50},
    }, indent=2))


if __name__ == "__main__":
    main()

"""Time from a latent switch's click to the new output on screen in the switchboard panel (batch 1,
64x64 U-Net of the kind's default width), with the studio idle and while it trains a U-Net.

    .venv/bin/python benchmarks/switchboard_latency.py [--clicks 200] [--width 16]

Prints JSON with p50/p95 of click -> ``output_shown`` (the foundation's targets: p95 <= 10 ms idle,
<= 50 ms while training), split into the forward on the inference thread and the rest (the click's
handling, thread hand-offs, drawing), and the bare forward of the same model for reference. One click at a time,
as a user switching and looking: the next click is sent after the output arrived.
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

LATENT1_OFF = (False, True, True, True, True)


def bare_forward_times(model, n: int) -> list[float]:
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    times = []
    with torch.inference_mode():
        for _ in range(10):
            model(x)
        for _ in range(n):
            start = time.perf_counter()
            model(x, LATENT1_OFF)
            times.append(time.perf_counter() - start)
    return times


def timed_forward(model) -> list[float]:
    """Record the time of each forward of ``model`` (on whichever thread runs it)."""
    times: list[float] = []
    forward = model.forward

    def timed(*args):
        start = time.perf_counter()
        result = forward(*args)
        times.append(time.perf_counter() - start)
        return result

    model.forward = timed
    return times


def click_latencies(app, panel, clicks: int, forwards: list[float]) -> dict:
    """Click -> output on screen, and that latency less the forward on the inference thread."""
    shown: list[float] = []
    panel.output_shown.connect(lambda stamp: shown.append(time.perf_counter()))
    button, latencies, overheads = panel.toggles.buttons[0], [], []
    for _ in range(clicks):
        count = len(shown)
        start = time.perf_counter()
        button.click()
        wait_until(app, lambda: len(shown) > count, timeout=30, wake=[panel.output_shown])
        latencies.append(shown[-1] - start)
        overheads.append(latencies[-1] - forwards[-1])
    return {"click_to_output": percentiles_ms(latencies), "forward": percentiles_ms(forwards[-clicks:]),
            "overhead": percentiles_ms(overheads)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--width", type=int, help="U-Net width (default: the kind's)")
    args = parser.parse_args()

    from studio.catalog import RunSetup
    from studio.ml.data.heads import make_heads
    from studio.ml.models.unet import UNet
    from studio.ml.training.unet_params import UNET_PARAMS
    from studio.runtime.openmp import background_threads
    from studio.runtime.training_worker import RunRequest
    from studio.testing.signals import SignalRecorder

    width = args.width or UNET_PARAMS["width"].default
    app, studio, window = offscreen_studio()
    panel = studio.panels["switchboard"]
    window.docks["switchboard"].raise_()
    setup = RunSetup("unet", "heads", image_size=64, channels=3, config={"width": width})
    studio.datasets.put(setup, make_heads(size=64, identities=20))
    model = UNet(3, 64, width).eval().requires_grad_(False)
    bare = as_a_script_would(bare_forward_times, model, args.clicks)
    forwards = timed_forward(model)
    studio.models.publish("bench unet", model, {"kind": "unet", "config": {"width": width, "image_size": 64,
                                                                          "channels": 3, "skips": "1234"},
                                                "step": 0, "setup": setup.to_dict()})
    wait_until(app, lambda: panel.translation is not None, timeout=120)
    idle = click_latencies(app, panel, args.clicks, forwards)

    seen = SignalRecorder(studio.training, "metrics")
    out = Path(studio.settings.fileName()).parent / "latency-run"
    studio.training.start(RunRequest(10**7, out, setup, checkpoint_every=10**9))
    wait_until(app, lambda: len(seen.args("metrics")) >= 5, timeout=600, wake=[seen.recorded])  # in full swing
    training = click_latencies(app, panel, args.clicks, forwards)
    studio.shutdown()
    print(json.dumps({
        "benchmark": "switchboard_latency",
        "model": f"unet 64x64 rgb, width {width}, all skips, batch 1; latent1 switched each click",
        "device": str(studio.models.device),
        "torch_threads": background_threads(),
        "bare_forward": percentiles_ms(bare),
        "idle": idle | {"p95_target_ms": 10},
        "while_training": training | {"p95_target_ms": 50},
    }, indent=2))


if __name__ == "__main__":
    main()

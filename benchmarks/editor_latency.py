"""Time from a slider move to the edited image on screen in the attribute editor (batch 1, a 32x32
DCGAN generator of the results' size: nz 16, ngf 32), for each direction method, with the studio
idle and while it trains a DCGAN.

    .venv/bin/python benchmarks/editor_latency.py [--moves 200]

A drag is simulated as a user makes it: the slider held down, its value stepped, the next step sent
once the image of the previous one is on screen. Prints JSON with p50/p95 of move -> ``image_shown``
(the foundation's targets: p95 <= 10 ms idle, <= 50 ms while training) and the bare edit + forward
of the same model for reference.
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

NZ, NGF, DIRECTIONS, MAX_SHIFT = 16, 32, 8, 3.0


def make_editor(method: str):
    from studio.ml.models.dcgan import Generator
    from studio.ml.models.directions import make_directions
    from studio.ml.models.latent_editor import LatentEditor

    torch.manual_seed(0)
    return LatentEditor(Generator(NZ, NGF, 3, 32), make_directions(method, NZ, DIRECTIONS)).eval().requires_grad_(False)


def bare_times(editor, n: int) -> list[float]:
    z, times = torch.randn(1, NZ), []
    with torch.inference_mode():
        for i in range(10 + n):
            start = time.perf_counter()
            editor.render(z, [(0, 0.01 * i), (3, 1.0)])
            times.append(time.perf_counter() - start)
    return times[10:]


def drag_latencies(app, panel, moves: int) -> list[float]:
    """Drag slider 0 back and forth, one step per shown image."""
    shown: list[float] = []
    panel.image_shown.connect(lambda stamp: shown.append(time.perf_counter()))
    slider, latencies = panel.sliders.sliders[0], []
    values = [MAX_SHIFT * (-1 + 2 * (i % 50) / 49) for i in range(moves)]
    slider.setSliderDown(True)
    for value in values:
        count = len(shown)
        start = time.perf_counter()
        slider.setValue(value)
        wait_until(app, lambda: len(shown) > count, timeout=30, wake=[panel.image_shown])
        latencies.append(shown[-1] - start)
    slider.setSliderDown(False)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=200)
    args = parser.parse_args()

    from studio.catalog import RunSetup
    from studio.runtime.openmp import background_threads
    from studio.runtime.training_worker import RunRequest
    from studio.testing.signals import SignalRecorder

    app, studio, window = offscreen_studio()
    panel = studio.panels["attribute_editor"]
    window.docks["attribute_editor"].raise_()
    results: dict = {}
    for method in ("linear", "warped", "curvilinear"):
        editor = make_editor(method)
        meta = {"kind": "directions", "step": 0,
                "config": {"method": method, "directions": DIRECTIONS, "max_shift": MAX_SHIFT, "generator": ""}}
        studio.models.publish(f"bench {method}", editor, meta)
        panel.picker.combo.setCurrentText(f"bench {method}")
        wait_until(app, lambda: panel.edited is not None and panel.up_to_date(), timeout=60)
        results[method] = {"bare_edit_and_forward": percentiles_ms(as_a_script_would(bare_times, editor, args.moves)),
                           "idle": percentiles_ms(drag_latencies(app, panel, args.moves)) | {"p95_target_ms": 10}}

    seen = SignalRecorder(studio.training, "metrics")
    setup = RunSetup("dcgan", "shapes", image_size=32, channels=3)
    out = Path(studio.settings.fileName()).parent / "latency-run"
    studio.training.start(RunRequest(10**7, out, setup, checkpoint_every=10**9))
    wait_until(app, lambda: len(seen.args("metrics")) >= 5, timeout=600, wake=[seen.recorded])  # in full swing
    for method in results:
        panel.picker.combo.setCurrentText(f"bench {method}")
        wait_until(app, lambda: panel.edited is not None and panel.up_to_date(), timeout=60)
        results[method]["while_training"] = (percentiles_ms(drag_latencies(app, panel, args.moves))
                                             | {"p95_target_ms": 50})
    studio.shutdown()
    print(json.dumps({
        "benchmark": "editor_latency",
        "model": f"DCGAN generator 32x32 rgb, nz {NZ}, ngf {NGF}; {DIRECTIONS} directions; batch 1; slider 0 dragged",
        "device": str(studio.models.device),
        "torch_threads": background_threads(),
        "methods": results,
    }, indent=2))


if __name__ == "__main__":
    main()

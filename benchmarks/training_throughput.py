"""Images/s of DCGAN 32x32, batch 64, trained through the studio's TrainingWorker inside a running
offscreen studio (trainer monitor connected), vs a bare PyTorch loop of the same model, in one run.

    .venv/bin/python benchmarks/training_throughput.py [--steps 120] [--rounds 6]

Prints JSON: both rates, their ratio (target >= 0.95) and the longest UI event-loop stall during
training (target <= 50 ms). Rounds alternate which of the two goes first, so drift in the machine's
speed hits both alike, and the ratio is of the two medians (on a shared 2-core VM single rounds
vary by +-10%).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _studio import StallMeter, as_a_script_would, offscreen_studio, wait_until  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402

CONFIG = {"nz": 100, "ngf": 64, "ndf": 64, "batch_size": 64, "lr": 2e-4, "beta1": 0.0, "beta2": 0.9,
          "d_norm": "spectral", "g_upsample": "resize"}
WARMUP = 5


def bare_loop(dataset, steps: int) -> float:
    """The textbook DCGAN step (pytorch/examples), no studio code around it."""
    from studio.ml.models.dcgan import Discriminator, Generator

    torch.manual_seed(0)
    G = Generator(CONFIG["nz"], CONFIG["ngf"], dataset.channels, dataset.size, CONFIG["g_upsample"])
    D = Discriminator(CONFIG["ndf"], dataset.channels, dataset.size, CONFIG["d_norm"])
    opt_g = torch.optim.Adam(G.parameters(), lr=CONFIG["lr"], betas=(CONFIG["beta1"], CONFIG["beta2"]))
    opt_d = torch.optim.Adam(D.parameters(), lr=CONFIG["lr"], betas=(CONFIG["beta1"], CONFIG["beta2"]))
    loss = nn.BCEWithLogitsLoss()
    bs, gen = CONFIG["batch_size"], torch.Generator().manual_seed(0)
    ones, zeros = torch.ones(bs), torch.zeros(bs)

    def step():
        real = dataset.batch(bs, gen)
        fake = G(torch.randn(bs, CONFIG["nz"]))
        opt_d.zero_grad(set_to_none=True)
        loss_d = loss(D(real), ones) + loss(D(fake.detach()), zeros)
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad(set_to_none=True)
        loss_g = loss(D(fake), ones)
        loss_g.backward()
        opt_g.step()
        return loss_d.item(), loss_g.item()

    for _ in range(WARMUP):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * bs / (time.perf_counter() - start)


def worker_run(app, studio, steps: int, out_dir: Path) -> tuple[float, float]:
    from studio.catalog import RunSetup
    from studio.runtime.training_worker import RunRequest

    from studio.testing.signals import SignalRecorder

    seen = SignalRecorder(studio.training, "metrics", "finished")  # on the UI thread, as a panel's slots

    def records():
        return [record for (batch,) in seen.args("metrics") for record in batch]

    setup = RunSetup("dcgan", "shapes", image_size=32, channels=3, seed=0, config=CONFIG)
    meter = StallMeter()
    studio.training.start(RunRequest(steps + WARMUP, out_dir, setup, sample_every=100, checkpoint_every=10**9))
    wait_until(app, lambda: len(records()) >= WARMUP, timeout=600, wake=[seen.recorded])
    meter.reset()
    wait_until(app, lambda: seen.args("finished"), timeout=3600, wake=[seen.recorded])
    stall = meter.longest_stall_ms()
    meter.timer.stop()
    records = records()
    timed = [r for r in records if r["step"] > WARMUP]
    # step k's record is stamped when step k ends: the span from step WARMUP's end covers `steps` steps
    start = next(r["time"] for r in records if r["step"] == WARMUP)
    rate = len(timed) * CONFIG["batch_size"] / (timed[-1]["time"] - start)
    return rate, stall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()

    from studio.ml.data.shapes import make_shapes
    from studio.runtime.openmp import background_threads

    app, studio, window = offscreen_studio()
    dataset = make_shapes(size=32, channels=3, seed=0)
    bare, worker, stalls = [], [], []
    for round_ in range(args.rounds):
        if round_ % 2 == 0:
            bare.append(as_a_script_would(bare_loop, dataset, args.steps))
        rate, stall = worker_run(app, studio, args.steps, Path(studio.settings.fileName()).parent / f"run{round_}")
        worker.append(rate)
        stalls.append(stall)
        if round_ % 2 == 1:
            bare.append(as_a_script_would(bare_loop, dataset, args.steps))
    studio.shutdown()
    result = {
        "benchmark": "training_throughput",
        "model": "dcgan 32x32 rgb, nz 100, ngf=ndf=64, batch 64",
        "device": str(studio.models.device),
        "torch_threads": background_threads(),
        "steps_per_round": args.steps,
        "bare_images_per_s": [round(r, 1) for r in bare],
        "worker_images_per_s": [round(r, 1) for r in worker],
        "ratio_of_medians": round(statistics.median(worker) / statistics.median(bare), 3),
        "ratio_target": 0.95,
        "longest_ui_stall_ms": round(max(stalls), 1),
        "ui_stall_per_round_ms": [round(s, 1) for s in stalls],
        "ui_stall_target_ms": 50,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

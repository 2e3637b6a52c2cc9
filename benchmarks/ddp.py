"""Images/s of `latent-studio train` alone and under torchrun with more processes, in one run.

    .venv/bin/python benchmarks/ddp.py [--kind dcgan] [--steps 60] [--rounds 2]     # CPU: 1 vs 2 processes
    .venv/bin/python benchmarks/ddp.py --device cuda --processes 1,2                # GPUs: 1 vs 2 GPUs

Every configuration trains the same model with the same global batch (each of N processes takes
1/N of it) through the real command line, and the rate is read back from the run folder's own
metrics.jsonl (its time stamps, after ``WARMUP`` steps), so start-up, data building and sample
grids are not counted. On a CPU the fair baseline is one process using every core; one process on
one core is printed too. Configurations alternate within each round and the medians are compared
(a shared VM's speed drifts). Prints JSON with the rates and the ratios to the first configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

WARMUP = 10  # steps not timed: allocator and DDP bucket warm-up
NEVER = "1000000"  # no sample grids or checkpoints during the timed steps


def configurations(device: str, processes: list[int]) -> list[tuple[str, int, int]]:
    """(label, processes, threads per process)."""
    if device.startswith("cuda"):
        return [(f"{n} process{'es' if n > 1 else ''} ({n} GPU{'s' if n > 1 else ''})", n, 1) for n in processes]
    cores = os.cpu_count() or 1
    found = [(f"1 process x {cores} threads", 1, cores)]
    if cores > 1:
        found.append(("1 process x 1 thread", 1, 1))
    found += [(f"{n} processes x {max(1, cores // n)} thread(s)", n, max(1, cores // n)) for n in processes if n > 1]
    return found


def images_per_second(run: Path, warmup: int) -> tuple[float, int]:
    info = json.loads((run / "run.json").read_text())
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    timed = records[warmup:]
    seconds = timed[-1]["time"] - timed[0]["time"]
    return info["batch_size"] * (len(timed) - 1) / seconds, info["batch_size"]


def train(kind: str, steps: int, device: str, processes: int, threads: int, out: Path, extra: list[str]) -> None:
    command = ["-m", "studio.cli", "train", kind, "--steps", str(steps), "--device", device, "--out", str(out),
               "--sample-every", NEVER, "--checkpoint-every", NEVER, *extra]
    if processes > 1:
        command = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}", *command]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    if sys.platform.startswith("linux"):
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")  # one machine: talk over loopback
    done = subprocess.run([sys.executable, *command], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="dcgan")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda (one GPU per process)")
    parser.add_argument("--processes", default="2", help="comma-separated process counts to compare with one")
    args, extra = parser.parse_known_args()  # anything else goes to `latent-studio train KIND`
    counts = [int(n) for n in args.processes.split(",") if n.strip()]
    configs = configurations(args.device, counts)
    rates: dict[str, list[float]] = {label: [] for label, _, _ in configs}
    batch = None
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            order = configs if round_ % 2 == 0 else configs[::-1]
            for label, processes, threads in order:
                out = Path(tmp) / f"r{round_}-{processes}-{threads}"
                train(args.kind, args.steps, args.device, processes, threads, out, extra)
                rate, batch = images_per_second(out, WARMUP)
                rates[label].append(rate)
    medians = {label: statistics.median(values) for label, values in rates.items()}
    baseline = configs[0][0]
    print(json.dumps({
        "kind": args.kind, "device": args.device, "cpu_cores": os.cpu_count(), "batch_size": batch,
        "steps": args.steps, "timed_steps": args.steps - WARMUP - 1, "rounds": args.rounds,
        "images_per_s": {label: round(value, 1) for label, value in medians.items()},
        "each_round": {label: [round(v, 1) for v in values] for label, values in rates.items()},
        "ratio_to_baseline": {label: round(value / medians[baseline], 3) for label, value in medians.items()},
        "baseline": baseline,
    }, indent=1))


if __name__ == "__main__":
    main()

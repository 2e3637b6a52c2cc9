"""Real torchrun runs: two CPU processes (gloo) on this machine, as a researcher would start them.

Each launch costs a few seconds (two processes importing torch), so the checks share launches.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli import main
from studio.ml.checkpoints import load_checkpoint, read_checkpoint_meta
from studio.ml.training.run import read_metrics_log

TINY = ["--nz", "8", "--ngf", "8", "--ndf", "8", "--batch-size", "8"]
WORKER = Path(__file__).parent / "distributed" / "every_trainer.py"
TIMEOUT = 240


def torchrun(*args: str, home: Path, options=("--standalone", "--nproc_per_node=2")) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", LATENT_STUDIO_HOME=str(home))
    env.setdefault("GLOO_SOCKET_IFNAME", "lo")  # a container's hostname may not resolve to an interface
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", *options, *args], env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def generator(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("generator")
    assert main(["train", "dcgan", "--steps", "1", "--out", str(out), *TINY]) == 0
    return out / "last.safetensors"


def test_every_trainer_averages_its_gradients_over_two_processes(tmp_path, generator):
    torchrun(str(WORKER), str(tmp_path / "result.json"), str(generator), home=tmp_path)
    found = json.loads((tmp_path / "result.json").read_text())
    assert (found["world_size"], found["backend"]) == (2, "gloo")
    kinds = found["results"]
    assert {"dcgan", "vaegan", "vaegan-next", "unet", "cq_dcgan", "wavegan", "directions-linear",
            "directions-warped", "directions-curvilinear"} == set(kinds)
    for name, result in kinds.items():
        assert result["steps"] == 2, name
        assert result["start_spread"] == 0, name  # both built the same networks
        assert result["unsynced_weight_spread"] > 1e-5, name  # their data differed...
        assert result["weight_spread"] == 0, name  # ...yet averaged gradients kept them identical
        assert result["loss_spread"] == 0, name  # and both report the losses of the whole batch


def test_torchrun_trains_writes_once_from_rank_0_and_resumes(tmp_path):
    run = tmp_path / "run"
    args = ["-m", "studio.cli", "train", "dcgan", "--steps", "4", "--sample-every", "2", "--checkpoint-every", "2",
            "--out", str(run), "--device", "cpu", *TINY]
    done = torchrun(*args, home=tmp_path)
    assert done.stdout.count("training dcgan on shapes") == 1  # rank 0 speaks for the run
    assert "x 2 processes (gloo)" in done.stdout

    assert [r["step"] for r in read_metrics_log(run / "metrics.jsonl")] == [1, 2, 3, 4]  # one writer
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step_000000.png", "step_000002.png", "step_000004.png"]
    info = json.loads((run / "run.json").read_text())
    assert (info["status"], info["step"], info["world_size"], info["backend"]) == ("finished", 4, 2, "gloo")
    assert info["command"][:3] == ["latent-studio", "train", "dcgan"] and info["host"] == socket.gethostname()

    # the same checkpoint as a single process writes: same tensors, same shapes, same metadata keys
    alone = tmp_path / "alone"
    assert main(["train", "dcgan", "--steps", "2", "--out", str(alone), "--device", "cpu", *TINY]) == 0
    ours, theirs = load_checkpoint(run / "last.safetensors"), load_checkpoint(alone / "last.safetensors")
    assert {k: v.shape for k, v in ours.tensors.items()} == {k: v.shape for k, v in theirs.tensors.items()}
    assert ours.meta.keys() == theirs.meta.keys() and ours.meta["step"] == 4

    torchrun("-m", "studio.cli", "train", "dcgan", "--resume", str(run / "last.safetensors"), "--steps", "6",
             "--device", "cpu", home=tmp_path)
    assert read_checkpoint_meta(run / "last.safetensors")["step"] == 6
    assert [r["step"] for r in read_metrics_log(run / "metrics.jsonl")] == [1, 2, 3, 4, 5, 6]
    info = json.loads((run / "run.json").read_text())
    assert (info["status"], info["start_step"], info["step"]) == ("finished", 4, 6)
    # and a single process continues what two trained
    assert main(["train", "dcgan", "--resume", str(run / "last.safetensors"), "--steps", "7", "--device", "cpu"]) == 0
    assert read_checkpoint_meta(run / "last.safetensors")["step"] == 7


def test_multi_node_arguments(tmp_path):
    """Two "nodes" of one process each, as on two machines: global rank 0 (node 0) writes, node 1
    (local rank 0 there, global rank 1) writes nothing."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    common = ["--nnodes=2", "--nproc_per_node=1", "--master_addr=127.0.0.1", f"--master_port={port}"]
    env = dict(os.environ, OMP_NUM_THREADS="1", LATENT_STUDIO_HOME=str(tmp_path))
    env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    nodes = [subprocess.Popen([sys.executable, "-m", "torch.distributed.run", *common, f"--node_rank={node}",
                               "-m", "studio.cli", "train", "dcgan", "--steps", "2", "--device", "cpu",
                               "--out", str(tmp_path / f"node{node}"), *TINY],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for node in (0, 1)]
    outputs = [node.communicate(timeout=TIMEOUT)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    info = json.loads((tmp_path / "node0" / "run.json").read_text())
    assert (info["world_size"], info["status"]) == (2, "finished")
    assert not (tmp_path / "node1").exists()

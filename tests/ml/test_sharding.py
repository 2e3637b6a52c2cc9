"""The pieces of distributed training that need no second process: how batches are shared out,
which process is which, and what a trainer refuses. Two real processes: tests/test_distributed.py."""

import pytest
import torch

from studio.ml import distributed
from studio.ml.data.base import Shard
from studio.ml.data.paired import PairedImages
from studio.ml.distributed import SINGLE, ProcessGroup
from studio.ml.training.dcgan import DCGANTrainer


def draws(dataset_batch, shard: Shard) -> torch.Tensor:
    return dataset_batch(torch.Generator().manual_seed(7), shard)


@pytest.mark.parametrize("processes", [2, 4])
def test_shards_of_one_batch_are_disjoint_and_make_it_whole(shapes32, processes):
    whole = draws(lambda g, s: shapes32.batch(16, g, s), Shard())
    parts = [draws(lambda g, s: shapes32.batch(16, g, s), Shard(rank, processes)) for rank in range(processes)]
    assert all(len(part) == 16 // processes for part in parts)
    for rank, part in enumerate(parts):  # process r keeps rows r, r + N, ...: the DistributedSampler's deal
        assert torch.equal(part, whole[rank::processes])


def test_pairs_and_next_frames_are_shared_out_alike(shapes32):
    pairs = PairedImages("pairs", shapes32.images[:40], shapes32.images[40:80], torch.zeros(40, dtype=torch.bool))
    whole = pairs.batch_pairs(8, torch.Generator().manual_seed(1))
    half = pairs.batch_pairs(8, torch.Generator().manual_seed(1), Shard(1, 2))
    assert torch.equal(half[0], whole[0][1::2]) and torch.equal(half[1], whole[1][1::2])
    shapes32.sequence = "open"
    try:
        whole = shapes32.batch_pairs(8, torch.Generator().manual_seed(1))
        half = shapes32.batch_pairs(8, torch.Generator().manual_seed(1), Shard(0, 2))
    finally:
        shapes32.sequence = None
    assert torch.equal(half[1], whole[1][0::2])


def test_a_plain_launch_is_a_single_process(monkeypatch):
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    group, device = distributed.join("cpu")
    assert group is SINGLE and not group.distributed and group.is_main and device == torch.device("cpu")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")  # torchrun --nproc_per_node=1: nothing to synchronise
    assert distributed.join("cpu")[0] is SINGLE
    assert not torch.distributed.is_initialized()


def test_processes_share_the_cpu_never_an_mps_device(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setattr(distributed, "pick_device", lambda preference: torch.device("mps"))
    with pytest.raises(ValueError, match="give --device cpu"):
        distributed.join("mps")
    joined = []
    monkeypatch.setattr(torch.distributed, "init_process_group", lambda backend, **options: joined.append(backend))
    group, device = distributed.join(None)  # no choice made: the CPU, not the Mac's GPU
    assert device == torch.device("cpu") and joined == ["gloo"] and (group.rank, group.world_size) == (1, 2)


def test_a_batch_that_does_not_split_is_refused(tiny_config, shapes32):
    trainer = DCGANTrainer(tiny_config | {"batch_size": 10}, shapes32, "cpu", seed=0)
    with pytest.raises(ValueError, match="batch size 10 does not split evenly over 4 processes"):
        trainer.distribute(ProcessGroup(rank=0, world_size=4, backend="gloo"))


def test_a_single_process_trains_exactly_as_before(tiny_config, shapes32):
    """distribute(SINGLE) changes nothing: same losses, step for step, as an undistributed trainer."""
    plain, alone = (DCGANTrainer(tiny_config, shapes32, "cpu", seed=3) for _ in range(2))
    alone.distribute(SINGLE)
    assert [plain.step() for _ in range(3)] == [alone.step() for _ in range(3)]

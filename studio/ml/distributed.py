"""Training as one of several processes started by torchrun, with DistributedDataParallel.

torchrun starts one process per GPU (or per CPU share) on each node and tells each who it is in its
environment: RANK (0..WORLD_SIZE-1 over all nodes), LOCAL_RANK (on this node), WORLD_SIZE, and
MASTER_ADDR/MASTER_PORT for the rendezvous. :func:`join` reads them, picks this process's device
(``cuda:LOCAL_RANK`` on GPUs) and joins the group: nccl between GPUs, gloo between CPU processes.
A process not started by torchrun, or started alone, is :data:`SINGLE` and touches no
torch.distributed machinery at all, so a one-process run costs nothing extra.

What the trainers do with a group (see :meth:`studio.ml.training.common.SeededTrainer.distribute`):
every process draws the same global batch from the same seeded generator and keeps its
:class:`~studio.ml.data.base.Shard` of it; each trained network is wrapped in DDP, which averages
the gradients over all processes during ``backward``; logged losses are averaged over processes.
Only rank 0 writes the run folder (:class:`studio.ml.training.run.TrainingRun`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn

from studio.ml.data.base import WHOLE, Shard
from studio.ml.device import pick_device

TORCHRUN_VARIABLES = ("RANK", "LOCAL_RANK", "WORLD_SIZE")


@dataclass(frozen=True)
class ProcessGroup:
    """This process's place among the processes training one model together."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None  # "gloo" or "nccl"; None for a single process

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes checkpoints, samples, metrics and logs."""
        return self.rank == 0

    def shard(self) -> Shard:
        return Shard(self.rank, self.world_size) if self.distributed else WHOLE

    def wrap(self, network: nn.Module) -> nn.Module:
        """``network`` under DDP: its parameters are broadcast from rank 0 now, and its gradients
        averaged over all processes in every ``backward`` after a call of the wrapper.

        Buffers are synchronised once, here, not before every forward: a discriminator runs
        several forwards before one backward, and a broadcast between them would overwrite the
        spectral-norm vectors that the first forward saved for its backward (an in-place error).
        Those vectors evolve identically on every process anyway (same weights, same iteration);
        batch-norm running statistics become per process, and rank 0's are the ones saved.
        """
        if not self.distributed:
            return network
        from torch.nn.parallel import DistributedDataParallel

        device = next(network.parameters()).device
        device_ids = [device] if device.type == "cuda" else None
        return DistributedDataParallel(network, device_ids=device_ids, forward_sync_buffers=False)

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """``values`` averaged over all processes (every process must call this, in step)."""
        if not self.distributed:
            return values
        averaged = values.detach().clone()
        torch.distributed.all_reduce(averaged)
        return averaged / self.world_size


SINGLE = ProcessGroup()


def launched_by_torchrun() -> bool:
    return all(name in os.environ for name in TORCHRUN_VARIABLES)


def join(device: str | None = None) -> tuple[ProcessGroup, torch.device]:
    """This process's group and device. Under torchrun with more than one process, joins the
    process group (call :func:`leave` at the end); otherwise :data:`SINGLE` and ``pick_device``.

    ``device`` "cuda" (or None with GPUs present) means this process's own GPU, ``cuda:LOCAL_RANK``;
    None on a Mac means the CPU. ValueError for a device that processes cannot share (mps asked for)
    or too few GPUs for the processes.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1")) if launched_by_torchrun() else 1
    if world_size <= 1:
        return SINGLE, pick_device(device)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])
    chosen = pick_device(device)
    if chosen.type == "mps" and (device or "auto").strip().lower() == "auto":
        chosen = torch.device("cpu")  # the best device processes can share on a Mac
    if chosen.type == "cuda":
        if chosen.index is not None:
            raise ValueError(f"under torchrun each process takes the GPU of its local rank; give --device cuda, "
                             f"not {device!r}")
        if local_rank >= torch.cuda.device_count():
            raise ValueError(f"local rank {local_rank} needs GPU {local_rank}, but this node has "
                             f"{torch.cuda.device_count()}: start at most that many processes per node")
        chosen = torch.device("cuda", local_rank)
        torch.cuda.set_device(chosen)
        backend = "nccl"
    elif chosen.type == "cpu":
        backend = "gloo"
    else:
        raise ValueError(f"distributed training runs on cuda (nccl) or cpu (gloo), not {chosen.type}: "
                         "give --device cpu")
    options = {"device_id": chosen} if chosen.type == "cuda" else {}
    torch.distributed.init_process_group(backend, rank=rank, world_size=world_size, **options)
    return ProcessGroup(rank, world_size, local_rank, backend), chosen


def leave(group: ProcessGroup, wait_for_others: bool = True) -> None:
    """Leave the process group :func:`join` joined (nothing for a single process).

    After a run every process first waits for the others: one that tore its gloo pairs down while a
    peer still finished its last collective aborted ("terminate called without an active
    exception", seen once in a test). A process leaving on an error must not wait: the others may
    never get there."""
    if group.distributed and torch.distributed.is_initialized():
        if wait_for_others:
            torch.distributed.barrier()
        torch.distributed.destroy_process_group()

"""Distributed training: ``torchrun`` detection, process groups and the few collectives the engine needs.

A run started by ``torchrun --nproc_per_node N -m reid_core run ...`` finds ``RANK``,
``WORLD_SIZE`` and ``LOCAL_RANK`` in its environment; the engine then joins a process group
(NCCL on GPUs, gloo on CPU), wraps modules in ``DistributedDataParallel`` and lets only rank 0
write. Without those variables everything here is a no-op for a single process.
"""

from __future__ import annotations

import logging
import math
import os
from typing import Any

import attrs
import torch
import torch.distributed as dist

logger = logging.getLogger(__name__)


@attrs.define
class DistInfo:
    """Where this process stands: its rank, the number of processes and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = attrs.field(factory=lambda: torch.device("cpu"))
    #: True when this module created the process group (and so must destroy it).
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def env_world_size() -> int:
    """``WORLD_SIZE`` set by torchrun (1 when absent)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def pick_device(preference: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> CUDA when available (the process's local GPU), else CPU."""
    if preference == "cuda" or (preference == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            from reid_core.config import ConfigError

            raise ConfigError("train.device = 'cuda' but no CUDA device is available; use --device cpu")
        return torch.device("cuda", local_rank % max(torch.cuda.device_count(), 1))
    return torch.device("cpu")


def setup(device_preference: str) -> DistInfo:
    """Join the process group when launched by torchrun (or use one that already exists)."""
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
        local = int(os.environ.get("LOCAL_RANK", rank))
        device = pick_device(device_preference, local)
        return DistInfo(rank, world, local, device, owns_group=False)
    world = env_world_size()
    if world <= 1:
        return DistInfo(device=pick_device(device_preference))
    rank = int(os.environ["RANK"])
    local = int(os.environ.get("LOCAL_RANK", rank))
    device = pick_device(device_preference, local)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend=backend, init_method="env://")
    logger.info("joined process group: rank %d of %d (%s, %s)", rank, world, backend, device)
    return DistInfo(rank, world, local, device, owns_group=True)


def teardown(info: DistInfo, *, clean: bool = True) -> None:
    """Leave the process group if this run created it (after a barrier, unless leaving on an error,
    where the other ranks may never arrive)."""
    if info.owns_group and dist.is_initialized():
        if clean:
            dist.barrier()
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    """Wait for every rank (no-op for one process)."""
    if info.distributed:
        dist.barrier()


def broadcast_object(obj: Any, info: DistInfo, src: int = 0) -> Any:
    """Rank ``src``'s ``obj`` on every rank (picklable plain values only)."""
    if not info.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def all_gather_rows(tensor: torch.Tensor, info: DistInfo) -> list[torch.Tensor]:
    """Every rank's ``tensor`` (same shape on every rank), as a list indexed by rank."""
    if not info.distributed:
        return [tensor]
    # gloo cannot gather CUDA tensors and NCCL cannot gather CPU ones: gather on the group's device.
    backend = dist.get_backend()
    work = tensor.contiguous()
    if backend == "nccl":
        work = work.to(info.device)
    else:
        work = work.cpu()
    out = [torch.empty_like(work) for _ in range(info.world_size)]
    dist.all_gather(out, work)
    return out


def all_reduce_mean(values: dict[str, float], info: DistInfo) -> dict[str, float]:
    """The mean of each value over the ranks (epoch losses reported by rank 0)."""
    if not info.distributed or not values:
        return values
    keys = sorted(values)
    device = info.device if dist.get_backend() == "nccl" else torch.device("cpu")
    tensor = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    tensor /= info.world_size
    return {k: float(v) for k, v in zip(keys, tensor.tolist())}


def shard_indices(n: int, info: DistInfo) -> tuple[list[int], int]:
    """This rank's share of ``range(n)`` for feature extraction: ``(indices, valid)``.

    Every rank gets ``ceil(n / world_size)`` indices (the last ones padded with ``n - 1``), so
    that every rank runs the same number of batches and collectives; only the first ``valid``
    are real. :func:`gather_shards` puts the rows back in order. One process: ``range(n)``.
    """
    per = math.ceil(n / info.world_size) if n else 0
    start = min(info.rank * per, n)
    mine = list(range(start, min(start + per, n)))
    valid = len(mine)
    return mine + [n - 1] * (per - valid), valid


def gather_shards(local: torch.Tensor, n: int, info: DistInfo) -> torch.Tensor:
    """Rows ``[n, ...]`` (on the CPU) from every rank's :func:`shard_indices` share, in the original
    order, padding dropped. A collective: every rank calls it with its ``local`` rows."""
    per = math.ceil(n / info.world_size) if n else 0
    gathered = all_gather_rows(local, info)
    counts = [max(0, min(per, n - r * per)) for r in range(info.world_size)]
    return torch.cat([g[:c].cpu() for g, c in zip(gathered, counts)])


def gather_objects(obj: Any, info: DistInfo) -> list[Any]:
    """Every rank's ``obj`` (picklable), indexed by rank; ``[obj]`` for one process."""
    if not info.distributed:
        return [obj]
    out: list[Any] = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out

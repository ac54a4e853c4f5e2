"""Split any seeded sampler across DDP ranks.

The core samplers take ``rank``/``world_size`` themselves; :class:`DistributedWrapper` gives the same
behaviour to a sampler that does not (a plugin's), provided that the wrapped sampler yields the same
order on every rank for a given epoch (it is seeded by a shared seed and ``set_epoch``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from torch.utils.data import Sampler


class DistributedWrapper(Sampler[int]):
    """Deal the wrapped sampler's order to the ranks, ``block_size`` consecutive indices at a time.

    Rank ``r`` gets blocks ``r, r + world_size, ...``; every rank is cut to the same length (rounded
    down to a multiple of ``batch_size`` when given), so DDP processes run the same number of steps.

    Args:
        sampler: an iterable of indices, identical on every rank for a given epoch.
        rank, world_size: this process and the number of processes.
        block_size: indices kept together (K for P x K samplers, so identities are not split).
        batch_size: per-rank batch; when given, each rank keeps whole batches only.
    """

    def __init__(
        self, sampler: Any, *, rank: int, world_size: int, block_size: int = 1, batch_size: int | None = None
    ) -> None:
        super().__init__()
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, world_size), got rank={rank}, world_size={world_size}")
        if block_size < 1:
            raise ValueError(f"block_size must be >= 1, got {block_size}")
        self.sampler, self.rank, self.world_size = sampler, int(rank), int(world_size)
        self.block_size, self.batch_size = int(block_size), batch_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Forward the epoch to the wrapped sampler (its order must depend on it)."""
        self.epoch = int(epoch)
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def indices(self) -> list[int]:
        """This rank's indices for the current epoch."""
        order = [int(i) for i in self.sampler]
        b = self.block_size
        blocks = [order[i : i + b] for i in range(0, len(order), b)]
        per_rank = [[i for blk in blocks[r :: self.world_size] for i in blk] for r in range(self.world_size)]
        length = min(len(p) for p in per_rank)
        if self.batch_size:
            length = length // self.batch_size * self.batch_size
        return per_rank[self.rank][:length]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices())

    def __len__(self) -> int:
        return len(self.indices())

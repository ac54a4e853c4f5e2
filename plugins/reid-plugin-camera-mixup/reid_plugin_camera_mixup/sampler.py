"""The cross-domain sampler: every per-process batch is half source, half target (``CrossDatasetDistributedSampler``).

The loader draws from ``source + target`` (the source's samples first): indices below
``num_source`` are source images, the others target images. Per epoch (a seeded order, the
same on every rank) the source and the target indices are permuted separately; the smaller set is
tiled with whole permutations plus random (with replacement) padding up to the size ``L`` of the
larger one, and both are padded at random to a multiple of ``2 * world_size`` (the released code pads
to a multiple of ``world_size``; the extra padding keeps at least 2 images per half in the last,
shorter batch, which batch normalisation needs). The global order then
alternates chunks of ``world_size * batch_size / 2`` source indices and as many target indices, and
rank ``r`` takes every ``world_size``-th index from ``r``: each rank's batch of ``batch_size`` is
``batch_size / 2`` source images followed by ``batch_size / 2`` target images, also in the last,
shorter batch (kept when the loader's ``drop_last`` is false, as in the method's first epoch).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reid_core.data import EpochSampler


def _tiled(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    """Whole permutations of ``range(n)`` then random draws (with replacement), ``length`` in all."""
    parts = [rng.permutation(n) for _ in range(length // n)]
    parts.append(rng.integers(0, n, size=length % n))
    return np.concatenate(parts)


class CrossDomainSampler(EpochSampler):
    """Half-source, half-target batches over ``source + target`` (see the module docstring).

    Args:
        num_source: how many of the samples (the first ones) are source images.
        num_samples: all samples (source + target).
        batch_size: per-process batch (even).
    """

    def __init__(
        self, num_source: int, num_samples: int, batch_size: int, *, seed: int = 0, rank: int = 0, world_size: int = 1
    ) -> None:
        super().__init__(seed=seed, rank=rank, world_size=world_size)
        if batch_size < 2 or batch_size % 2:
            raise ValueError(f"cross-domain sampler: the per-process batch must be even (half source, half "
                             f"target), got {batch_size}; set data.batch_size to a multiple of {2 * world_size}")
        if not 0 < num_source < num_samples:
            raise ValueError(f"cross-domain sampler: need source and target samples, got {num_source} source "
                             f"of {num_samples}")
        self.num_source, self.num_target = int(num_source), int(num_samples) - int(num_source)
        self.batch_size = int(batch_size)

    def _blocks(self, rng: np.random.Generator) -> list[list[int]]:
        length = max(self.num_source, self.num_target)
        length += (-length) % (2 * self.world_size)  # a last, shorter batch still has 2 + 2 images per rank
        source = _tiled(rng, self.num_source, length)
        target = _tiled(rng, self.num_target, length) + self.num_source
        chunk = self.world_size * self.batch_size // 2
        order: list[int] = []
        for start in range(0, length, chunk):
            order += source[start : start + chunk].tolist()
            order += target[start : start + chunk].tolist()
        return [[i] for i in order]


def cross_domain_factory(
    *, pids: Sequence[int], batch_size: int, seed: int, rank: int, world_size: int, num_source: int
) -> CrossDomainSampler:
    """The registered ``cross-domain`` sampler; ``sampler_options={"num_source": len(source)}``."""
    return CrossDomainSampler(int(num_source), len(pids), batch_size, seed=seed, rank=rank, world_size=world_size)


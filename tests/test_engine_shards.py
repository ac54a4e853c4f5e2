"""Feature extraction over ranks: equal shards with padding, gathered back in the original order."""

from __future__ import annotations

import pytest
import torch

from reid_core.engine import distributed
from reid_core.engine.distributed import DistInfo, gather_shards, shard_indices


@pytest.mark.parametrize(("n", "world"), [(5, 2), (7, 3), (1, 2), (4, 4), (9, 1)])
def test_shards_cover_every_index_once_and_have_equal_length(n: int, world: int) -> None:
    shards = [shard_indices(n, DistInfo(rank=r, world_size=world)) for r in range(world)]
    assert len({len(idx) for idx, _ in shards}) == 1  # the same number of batches on every rank
    real = [i for idx, valid in shards for i in idx[:valid]]
    assert real == list(range(n))


def test_gather_shards_restores_the_order_and_drops_the_padding(monkeypatch: pytest.MonkeyPatch) -> None:
    n, world = 5, 2
    rows = torch.arange(n, dtype=torch.float32)[:, None] * torch.ones(1, 3)
    locals_ = [rows[shard_indices(n, DistInfo(rank=r, world_size=world))[0]] for r in range(world)]
    monkeypatch.setattr(distributed, "all_gather_rows", lambda local, info: locals_)
    out = gather_shards(locals_[0], n, DistInfo(rank=0, world_size=world))
    torch.testing.assert_close(out, rows)
    single = DistInfo()
    assert shard_indices(3, single) == ([0, 1, 2], 3)
    torch.testing.assert_close(gather_shards(rows[:3], 3, single), rows[:3])

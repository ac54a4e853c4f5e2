"""``data.batch_size`` is the global batch: the engine splits it over the ranks (and refuses an uneven split)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reid_core import config as cfg
from reid_core.data.sample import Sample
from reid_core.datasets.base import ReidDataset
from reid_core.engine import EngineError, RunContext
from reid_core.engine.distributed import DistInfo
from reid_core.methods.baseline import BaselineConfig


def _context(tmp_path: Path, rank: int, world_size: int, batch_size: int) -> RunContext:
    run_cls = cfg.run_config_class("baseline", BaselineConfig)
    config = cfg.resolve(run_cls, {"data": {"batch_size": batch_size, "num_instances": 8, "num_workers": 0}})
    train = [Sample(path=f"/x/{p}_{i}.jpg", pid=p, camid=i % 2) for p in range(16) for i in range(8)]
    return RunContext(config, ReidDataset(train, [], []), DistInfo(rank=rank, world_size=world_size), tmp_path)


def test_each_rank_loads_its_share_of_the_global_batch(tmp_path: Path) -> None:
    loaders = [_context(tmp_path, r, 2, 64).train_loader(_context(tmp_path, r, 2, 64).dataset.train) for r in (0, 1)]
    assert [loader.batch_size for loader in loaders] == [32, 32]
    single = _context(tmp_path, 0, 1, 64)
    assert single.train_loader(single.dataset.train).batch_size == 64
    # the two ranks share one epoch: together they see as many images as one process with the global batch
    assert len(loaders[0]) == len(loaders[1]) == len(single.train_loader(single.dataset.train))


def test_a_global_batch_that_does_not_split_is_an_error(tmp_path: Path) -> None:
    ctx = _context(tmp_path, 0, 3, 64)
    with pytest.raises(EngineError, match=r"data.batch_size = 64 .* 3 processes; use a multiple of 3"):
        ctx.train_loader(ctx.dataset.train)

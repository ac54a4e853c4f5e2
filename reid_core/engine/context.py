"""The run context: what the engine offers a method (the :class:`reid_core.methods.Context` protocol).

It moves and wraps modules (``prepare``), builds training loaders with the registered samplers
(``train_loader``), extracts test features over the ranks (``extract_features``) and logs.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from reid_core.engine import distributed
from reid_core.engine.distributed import DistInfo
from reid_core.engine.errors import EngineError
from reid_core.progress import Progress

if TYPE_CHECKING:
    from reid_core.data.sample import Sample
    from reid_core.datasets.base import ReidDataset
    from reid_core.methods.base import Method

logger = logging.getLogger(__name__)


def to_device(batch: Any, device: torch.device) -> Any:
    """Move every tensor of a (nested) batch to ``device``; other values are kept."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def _seed_worker(worker_id: int) -> None:
    """Seed Python and NumPy in a loader worker from the seed torch gave it (reproducible augmentation)."""
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)


class _Remapped(torch.utils.data.Sampler):
    """A sampler over a subset, yielding the positions of the full sample list."""

    def __init__(self, inner: Any, mapping: Sequence[int]) -> None:
        self.inner = inner
        self.mapping = list(mapping)

    def __iter__(self) -> Iterator[Any]:
        for item in self.inner:
            if isinstance(item, (list, tuple)):
                yield [self.mapping[i] for i in item]
            else:
                yield self.mapping[item]

    def __len__(self) -> int:
        return len(self.inner)

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.inner, "set_epoch"):
            self.inner.set_epoch(epoch)


class EpochLoader:
    """A training loader re-seeded for each epoch, so that a resumed run sees the same batches.

    Iterating creates a ``DataLoader`` whose worker seeds come from ``(seed, epoch, pass)``,
    independent of the global random state; the sampler is told the epoch. The engine calls
    :meth:`set_epoch` at every epoch start.
    """

    def __init__(
        self,
        dataset: Any,
        sampler: Any,
        *,
        batch_size: int,
        num_workers: int,
        seed: int,
        pin_memory: bool = False,
        batch_sampler: bool = False,
        drop_last: bool = True,
    ) -> None:
        self.dataset = dataset
        self.sampler = sampler
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        self.pin_memory = pin_memory
        self.batch_sampler = batch_sampler
        #: Drop the last incomplete batch (ignored by batch samplers). A method may change it between
        #: epochs, e.g. keep every sample in epoch 1 only; every rank must set the same value.
        self.drop_last = bool(drop_last)
        self.epoch = 0
        self._passes = 0

    def set_epoch(self, epoch: int) -> None:
        """Start epoch ``epoch``: the sampler's order and the workers' seeds follow it."""
        self.epoch = epoch
        self._passes = 0
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def _loader(self) -> DataLoader:
        generator = torch.Generator()
        generator.manual_seed((self.seed * 1_000_003 + self.epoch * 7919 + self._passes) % 2**63)
        common: dict[str, Any] = {
            "num_workers": self.num_workers,
            "pin_memory": self.pin_memory,
            "worker_init_fn": _seed_worker,
            "generator": generator,
            "persistent_workers": False,
        }
        if self.batch_sampler:
            return DataLoader(self.dataset, batch_sampler=self.sampler, **common)
        return DataLoader(
            self.dataset, batch_size=self.batch_size, sampler=self.sampler, drop_last=self.drop_last, **common
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._passes > 0 and hasattr(self.sampler, "set_epoch"):
            # a further pass within an epoch (a cycled loader): a fresh but reproducible order
            self.sampler.set_epoch(self.epoch * 1000 + self._passes)
        loader = self._loader()
        self._passes += 1
        return iter(loader)

    def __len__(self) -> int:
        if self.batch_sampler:
            return len(self.sampler)
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return math.ceil(len(self.sampler) / self.batch_size)


class RunContext:
    """The engine's side of a run, handed to the method (see :class:`reid_core.methods.Context`)."""

    def __init__(self, config: Any, dataset: ReidDataset, dist_info: DistInfo, output_dir: Path) -> None:
        self.config = config
        self.dataset = dataset
        self.dist = dist_info
        self.device = dist_info.device
        self.rank = dist_info.rank
        self.world_size = dist_info.world_size
        self.is_main = dist_info.is_main
        self.output_dir = Path(output_dir)
        #: The current global epoch (0-based); set by the engine before ``on_epoch_start``.
        self.epoch = 0
        #: The method being trained; set by the engine after construction.
        self.method: Method | None = None

    # -- modules -------------------------------------------------------------------------------
    def prepare(self, module: nn.Module, *, find_unused_parameters: bool = False) -> nn.Module:
        """Move ``module`` to the device and, under DDP, wrap it (modules without trainable parameters are not)."""
        if isinstance(module, nn.parallel.DistributedDataParallel):
            return module
        module = module.to(self.device)
        if self.dist.distributed and any(p.requires_grad for p in module.parameters()):
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            module = nn.parallel.DistributedDataParallel(
                module, device_ids=device_ids, find_unused_parameters=find_unused_parameters
            )
        return module

    # -- data ----------------------------------------------------------------------------------
    def train_loader(
        self,
        samples: Sequence[Sample],
        *,
        sampler: str = "identity",
        batch_size: int | None = None,
        num_instances: int | None = None,
        transform: Any = None,
        labels: Sequence[int] | None = None,
        drop_last: bool = True,
        sampler_options: Mapping[str, Any] | None = None,
    ) -> EpochLoader:
        """A training loader over ``samples`` (see :meth:`reid_core.methods.Context.train_loader`).

        ``batch_size`` is the global batch (all ranks together); each rank loads its share.
        With ``labels``, the batch's ``pid`` is the label and samples labelled -1 are left out;
        ``index`` always refers to the position in ``samples``. ``sampler`` is a registered sampler
        kind (hook ``reid_register_samplers``) and ``sampler_options`` extra keyword arguments of its
        factory. ``drop_last=False`` keeps the last incomplete batch of each rank (``loader.drop_last``
        may be changed between epochs).
        """
        from reid_core.data.image_dataset import ImageDataset
        from reid_core.data.samplers import build_sampler
        from reid_core.data.transforms import build_train_transform

        data = self.config.data
        batch_size = batch_size or data.batch_size
        num_instances = num_instances or data.num_instances
        if transform is None:
            transform = build_train_transform(data.height, data.width)
        samples = list(samples)
        if labels is not None:
            labels = [int(v) for v in labels]
            if len(labels) != len(samples):
                raise ValueError(f"train_loader got {len(labels)} labels for {len(samples)} samples")
            keep = [i for i, v in enumerate(labels) if v >= 0]
        else:
            keep = list(range(len(samples)))
        if not keep:
            raise ValueError("train_loader: every sample is labelled -1; nothing to train on")
        pids = [labels[i] if labels is not None else samples[i].pid for i in keep]
        if batch_size % self.world_size:
            raise EngineError(
                f"data.batch_size = {batch_size} is the global batch and must split evenly over the "
                f"{self.world_size} processes; use a multiple of {self.world_size}"
            )
        dataset = ImageDataset(samples, transform, labels=labels)
        per_rank = batch_size // self.world_size
        inner = build_sampler(
            sampler,
            pids=pids,
            camids=[samples[i].camid for i in keep],
            modalities=[samples[i].modality for i in keep],
            batch_size=per_rank,
            num_instances=num_instances,
            seed=self.config.train.seed,
            rank=self.rank,
            world_size=self.world_size,
            samples=[samples[i] for i in keep],
            options=sampler_options,
        )
        is_batch_sampler = bool(getattr(inner, "yields_batches", False))
        chosen = inner if len(keep) == len(samples) else _Remapped(inner, keep)
        loader = EpochLoader(
            dataset,
            chosen,
            batch_size=per_rank,
            num_workers=data.num_workers,
            seed=self.config.train.seed + 1000 * self.rank,
            pin_memory=self.device.type == "cuda",
            batch_sampler=is_batch_sampler,
            drop_last=drop_last,
        )
        loader.set_epoch(self.epoch)
        return loader

    def extract_features(self, samples: Sequence[Sample], *, transform: Any = None) -> torch.Tensor:
        """Test-mode features ``[N, D]`` (float32, CPU) of ``samples`` in order, computed across ranks."""
        from reid_core.data.image_dataset import ImageDataset
        from reid_core.data.transforms import build_test_transform

        if self.method is None:
            raise RuntimeError("extract_features() needs the method; the engine sets context.method")
        samples = list(samples)
        n = len(samples)
        if n == 0:
            return torch.empty(0, 0)
        data = self.config.data
        if transform is None:
            transform = self.method.test_transform() or build_test_transform(data.height, data.width)
        mine, _ = distributed.shard_indices(n, self.dist)  # equal shards: the same number of batches per rank
        per = len(mine)
        dataset = ImageDataset([samples[i] for i in mine], transform)
        loader = DataLoader(
            dataset,
            batch_size=data.eval_batch_size,
            shuffle=False,
            num_workers=data.num_workers,
            pin_memory=self.device.type == "cuda",
        )
        method = self.method
        modes = {name: m.training for name, m in method.modules().items()}
        method.train(False)
        chunks = []
        amp = self.config.train.amp
        # rank 0 reports (its shard is the largest, so it finishes last)
        progress = Progress(per, desc=f"features ({n} images, {self.world_size} process(es))", unit="img",
                            enabled=self.is_main)
        try:
            with torch.no_grad():
                for batch in loader:
                    progress.update(int(batch["img"].shape[0]) if "img" in batch else 0)
                    batch = to_device(batch, self.device)
                    if amp != "off":
                        dtype = torch.bfloat16 if amp == "bf16" else torch.float16
                        with torch.autocast(device_type=self.device.type, dtype=dtype):
                            feats = method.extract_features(batch)
                    else:
                        feats = method.extract_features(batch)
                    chunks.append(feats.float())
        finally:
            progress.close()
            for name, module in method.modules().items():
                module.train(modes.get(name, True))
        return distributed.gather_shards(torch.cat(chunks), n, self.dist)

    # -- logging -------------------------------------------------------------------------------
    def log(self, message: str) -> None:
        """A line in the run's log (rank 0 only)."""
        if self.is_main:
            logger.info(message)

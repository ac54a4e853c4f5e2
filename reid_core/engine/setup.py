"""Helpers shared by training and checkpoint evaluation: seeding, the data set, loading weights."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from reid_core.engine import checkpoint as ckpt
from reid_core.engine import distributed
from reid_core.engine.errors import EngineError
from reid_core.methods.base import Method
from reid_core.plugins import get_registry


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def load_dataset(config: Any) -> Any:
    """The run's data set from the registry (``data.root = ""`` means no root).

    With ``data.source``, a :class:`reid_core.datasets.CrossDomainDataset`: the source's labelled
    train split, the target's unlabelled train split (``target_train``) and the target's test splits.
    """
    data = config.data
    registry = get_registry("datasets")
    target = registry.create(data.dataset, data.root or None, **dict(data.options))
    if not data.source:
        return target
    from reid_core.datasets.cross_domain import CrossDomainDataset

    source_root = data.source_root or data.root or None
    source = registry.create(data.source, source_root, **dict(data.source_options))
    return CrossDomainDataset(source, target, source_name=data.source, target_name=data.dataset)


def load_dataset_once(config: Any, info: distributed.DistInfo) -> Any:
    """:func:`load_dataset` on rank 0 first, then on the other ranks: a data set that builds a cache
    (generated images, extracted archives) builds it once instead of racing with itself."""
    if not info.distributed:
        return load_dataset(config)
    dataset = load_dataset(config) if info.is_main else None
    distributed.barrier(info)
    return dataset if dataset is not None else load_dataset(config)


def configure_determinism(config: Any, device: torch.device) -> None:
    """``train.deterministic``: deterministic algorithms; otherwise let cuDNN pick the fastest kernels."""
    if config.train.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = True


def load_method_weights(method: Method, state: dict[str, Any], *, strict: bool = True) -> None:
    """Load a checkpoint's module weights into the method's registered modules."""
    modules = method.modules()
    saved = state["modules"]
    missing = sorted(set(modules) - set(saved))
    if missing and strict:
        raise EngineError(f"checkpoint has no weights for module(s) {missing}; it has {sorted(saved)}")
    for name, module in modules.items():
        if name in saved:
            ckpt.unwrap(module).load_state_dict(saved[name])

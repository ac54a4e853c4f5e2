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


def load_method_weights(
    method: Method, state: dict[str, Any], *, strict: bool = True, path: Any = None, test_only: bool = False
) -> list[str]:
    """Load a checkpoint's module weights into the method's registered modules.

    A tensor whose shape differs from the model's is an :class:`EngineError` naming the checkpoint,
    the tensor and both shapes. With ``test_only`` (``reid eval``: features, not training), tensors
    that only training uses (names containing one of the method's ``train_only_weights``, e.g. the
    identity classifier, whose size is the number of training identities) are left out when their
    shape differs: that is cross-domain evaluation. Returns the names of the tensors left out.
    """
    where = f"checkpoint {str(path)!r}" if path is not None else "the checkpoint"
    modules = method.modules()
    saved = state["modules"]
    missing = sorted(set(modules) - set(saved))
    if missing and strict:
        raise EngineError(f"{where} has no weights for module(s) {missing}; it has {sorted(saved)}")
    skipped: list[str] = []
    train_only = tuple(getattr(method, "train_only_weights", ()))
    for name, module in modules.items():
        if name not in saved:
            continue
        target = ckpt.unwrap(module)
        own = target.state_dict()
        tensors = dict(saved[name])
        for key, tensor in list(tensors.items()):
            if key not in own or not hasattr(tensor, "shape") or tuple(tensor.shape) == tuple(own[key].shape):
                continue
            full = f"{name}.{key}"
            if test_only and any(part in full for part in train_only):
                skipped.append(full)
                tensors[key] = own[key]  # keep the model's own (unused at test time)
                continue
            raise EngineError(
                f"{where}: tensor {full} has shape {tuple(tensor.shape)} but the model expects "
                f"{tuple(own[key].shape)}; the checkpoint was written with other settings or another data set "
                "(check --dataset and the method's settings), or it is not this method's checkpoint"
            )
        try:
            target.load_state_dict(tensors)
        except RuntimeError as exc:
            reason = " ".join(str(exc).split())[:300]
            raise EngineError(f"{where} does not fit module {name!r} of {method.name!r}: {reason}") from None
    return skipped


def restore_for_inference(
    method: Method, state: dict[str, Any], *, path: Any = None, test_only: bool = False
) -> list[str]:
    """Set up the checkpoint's stage, load its weights (strictly) and put the method in eval mode.

    ``path`` and ``test_only`` are passed to :func:`load_method_weights`; returns the tensors it left out.
    """
    stages = list(method.stages())
    if not stages:
        raise EngineError(f"method {method.name!r} returned no stage; it cannot be restored")
    index = min(int(state.get("stage_index", 0)), len(stages) - 1)
    method.reset()
    method.setup_stage(stages[index])
    skipped = load_method_weights(method, state, strict=True, path=path, test_only=test_only)
    method.train(False)
    return skipped

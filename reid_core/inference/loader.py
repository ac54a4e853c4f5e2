"""``reid_core.load``: a trained method, restored from a run folder or a checkpoint, ready to extract.

A run folder resolves to ``checkpoints/best.pt`` (else ``last.pt``). The method and its
configuration come from the checkpoint (``--set`` overrides change the method's test-time
settings, e.g. ``baseline.flip=true``); the modules are built from the training labels the
checkpoint carries, so the training images need not be on disk.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reid_core import config as cfg
from reid_core.config import ConfigError
from reid_core.engine import checkpoint as ckpt
from reid_core.engine.errors import EngineError

logger = logging.getLogger(__name__)

CHECKPOINT_NAMES = ("best.pt", "last.pt")


def find_checkpoint(path: str | Path) -> Path:
    """``path`` itself when it is a file; for a run folder its ``checkpoints/best.pt`` or ``last.pt``."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.exists():
        raise EngineError(f"{str(path)!r} does not exist; give a run folder (reid run --output) or a .pt checkpoint")
    for name in CHECKPOINT_NAMES:
        candidate = path / "checkpoints" / name
        if candidate.is_file():
            return candidate
    raise EngineError(
        f"run folder {str(path)!r} holds no checkpoints/best.pt or checkpoints/last.pt; "
        "has the run finished an epoch?"
    )


def _method_class(state: dict[str, Any], method: str | None, source: Path) -> type:
    from reid_core.plugins import get_registry

    saved = state.get("method")
    if method is not None and saved is not None and method != saved:
        raise EngineError(f"checkpoint {str(source)!r} was written by method {saved!r}, not {method!r}")
    name = method or saved
    if not name:
        raise EngineError(f"checkpoint {str(source)!r} does not name its method; pass --method NAME")
    return get_registry("methods").get(name).factory


def _config(method_cls: type, state: dict[str, Any], source: Path, sets: Sequence[str], device: str) -> Any:
    cls = cfg.run_config_class(method_cls.name, method_cls.config_class)
    layers: list[dict[str, Any]] = []
    text = state.get("config")
    run_toml = source.parent.parent / "config.toml"
    if text:
        layers.append(cfg.to_dict(cfg.loads_toml(cls, text)))
    elif run_toml.is_file():
        layers.append(cfg.load_toml(run_toml))
    else:
        from reid_core.resolve import resolve_run_config

        logger.warning("checkpoint %s has no saved config; using the method's defaults", source)
        layers.append(cfg.to_dict(resolve_run_config(method_cls)))
    if sets:
        layers.append(cfg.parse_set(list(sets)))
    layers.append({"train": {"device": device}})
    try:
        return cfg.resolve(cls, *layers)
    except ConfigError as exc:
        raise ConfigError(f"{exc} (config of checkpoint {source})") from None


def _training_dataset(config: Any, state: dict[str, Any], root: str | None, training_data: bool) -> Any:
    """The label-only stand-in from the checkpoint, else (or on request) the training data set from the registry."""
    import attrs

    from reid_core.datasets.standin import LabelOnlyDataset
    from reid_core.engine.setup import load_dataset

    labels = state.get("train_labels")
    if labels and not training_data:
        return LabelOnlyDataset(labels, name=f"{config.data.dataset} (labels from the checkpoint)")
    if not training_data:
        logger.info("checkpoint has no train labels (written before they were saved): reading data set %s",
                    config.data.dataset)
    if root is not None:
        config = attrs.evolve(config, data=attrs.evolve(config.data, root=root))
    return load_dataset(config)


def load(
    path: str | Path,
    *,
    method: str | None = None,
    device: str = "cpu",
    sets: Sequence[str] = (),
    dataset: Any = None,
    root: str | None = None,
    training_data: bool = False,
) -> Any:
    """Restore a trained method for feature extraction and export.

    Args:
        path: a run folder (``checkpoints/best.pt``, else ``last.pt``) or a checkpoint file.
        method: the method's registered name; checked against the checkpoint's.
        device: ``cpu``, ``cuda`` or ``auto``.
        sets: ``key=value`` overrides of the saved config (e.g. ``baseline.flip=true``).
        dataset: the training data set, when a method needs more than the training labels to
            build its modules (default: the labels saved in the checkpoint).
        root: where the training data set lies (default: the saved ``data.root``), when it is read.
        training_data: read the training data set named in the saved config instead of using the
            checkpoint's labels (for a method whose modules need more than the labels, e.g. keypoints).

    Returns:
        a :class:`reid_core.inference.ReidModel`.

    Example:
        >>> model = reid_core.load("runs/baseline-synthetic-20260101-120000")  # doctest: +SKIP
        >>> feats = model.extract(["a.jpg", "b.jpg"])  # [2, D] float32 tensor
    """
    from reid_core.engine import distributed
    from reid_core.engine.context import RunContext
    from reid_core.engine.setup import restore_for_inference
    from reid_core.inference.model import ReidModel
    from reid_core.models.weights import initial_weights_skipped

    source = find_checkpoint(path)
    state = ckpt.load(source)
    method_cls = _method_class(state, method, source)
    config = _config(method_cls, state, source, sets, device)
    data_set = dataset if dataset is not None else _training_dataset(config, state, root, training_data)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))  # under torchrun: this process's own GPU
    info = distributed.DistInfo(device=distributed.pick_device(config.train.device, local_rank))
    context = RunContext(config, data_set, info, source.parent)
    with initial_weights_skipped():  # the checkpoint's weights replace any initialisation
        instance = method_cls(config, context)
        context.method = instance
        restore_for_inference(instance, state)
    return ReidModel(instance, context, source)

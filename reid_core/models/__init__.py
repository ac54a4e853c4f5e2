"""Backbones (ResNet, ResNet-IBN-a), global pooling (avg, max, maxavg, GeM), the BNNeck head and
pretrained-weights loading from local files. Backbones are built through the registry, so that a
plugin's backbone is used exactly like a core one.

The submodules (which need torch and torchvision) are imported on first access, so that loading the
builtin plugins (every ``reid`` command) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reid_core._lazy import lazy_getattr

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from torch import nn

    from reid_core.models.heads import BNNeck
    from reid_core.models.ibn import IBN
    from reid_core.models.pooling import GeM, build_pooling
    from reid_core.models.resnet import ResNet, build_resnet
    from reid_core.models.weights import (
        LoadReport,
        WeightsError,
        WeightsNotFoundError,
        load_pretrained,
        resolve_weights,
    )

_LAZY = {
    "BNNeck": "heads",
    "IBN": "ibn",
    "GeM": "pooling",
    "build_pooling": "pooling",
    "ResNet": "resnet",
    "build_resnet": "resnet",
    "LoadReport": "weights",
    "WeightsError": "weights",
    "WeightsNotFoundError": "weights",
    "load_pretrained": "weights",
    "resolve_weights": "weights",
}


__getattr__ = lazy_getattr("reid_core.models", _LAZY, globals())


def build_backbone(name: str, **kwargs: Any) -> nn.Module:
    """Build the backbone registered as ``name`` (by the core or a plugin).

    Args:
        name: a registered backbone name (``reid list backbones``), e.g. ``resnet50``.
        kwargs: passed to the factory; common ones are ``pretrained`` and ``last_stride``.

    Returns:
        A module mapping images ``[B, 3, H, W]`` to a feature map ``[B, C, h, w]``, with ``out_channels == C``.
    """
    from reid_core.plugins import get_registry

    return get_registry("backbones").create(name, **kwargs)


__all__ = [
    "IBN",
    "BNNeck",
    "GeM",
    "LoadReport",
    "ResNet",
    "WeightsError",
    "WeightsNotFoundError",
    "build_backbone",
    "build_pooling",
    "build_resnet",
    "load_pretrained",
    "resolve_weights",
]

"""Backbones (ResNet, ResNet-IBN-a), global pooling (avg, max, maxavg, GeM), the BNNeck head and
pretrained-weights loading from local files. Backbones are built through the registry, so that a
plugin's backbone is used exactly like a core one."""

from __future__ import annotations

from typing import Any

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

"""The network: ResNet (last stride 1) -> global average pooling -> BN neck with two paths -> classifier.

The BN neck (``BatchNorm1d``, weight 1, bias 0 and frozen) normalises the first half of a training
batch (source or mixed images) with that half's **batch statistics only** (``F.batch_norm`` without
running statistics, the neck's shared weight and bias), and the second half (target images) with the
module itself in train mode: only target statistics feed the running mean and variance, which
normalise every image at test time. The backbone's BNs are ordinary and see the whole batch. The
source classifier is a bias-free ``Linear``. Test feature: the neck's output (eval mode), not
normalised (the cosine evaluation normalises).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CameraMixupNet(nn.Module):
    """Backbone + GAP + two-path BN neck + bias-free classifier over ``num_classes`` source identities."""

    def __init__(self, backbone: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.feature_dim = int(backbone.out_channels)
        self.bn_neck = nn.BatchNorm1d(self.feature_dim)
        nn.init.ones_(self.bn_neck.weight)
        nn.init.zeros_(self.bn_neck.bias)
        self.bn_neck.bias.requires_grad_(False)
        self.classifier = nn.Linear(self.feature_dim, num_classes, bias=False)

    def pooled(self, images: torch.Tensor) -> torch.Tensor:
        """Backbone map -> global average pooling ``[B, D]``."""
        return self.backbone(images).mean(dim=(2, 3))

    def forward(self, images: torch.Tensor, *, split: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Training (``split`` = size of the first half): ``(z_first, z_target)``; the first half is
        normalised with its own batch statistics, the rest by the neck (updating its running stats).
        ``split=None`` (single domain, or eval mode): ``(neck(all), None)``."""
        g = self.pooled(images)
        if split is None or not self.training:
            return self.bn_neck(g), None
        first = F.batch_norm(g[:split], None, None, self.bn_neck.weight, self.bn_neck.bias, training=True)
        return first, self.bn_neck(g[split:])

"""The ICSR network: backbone (last stride 1) -> GeM -> BN neck (frozen bias) -> L2 normalisation.

The output is the L2-normalised BN feature in both train and eval mode (cluster-contrast's
``norm=True``); there is no classifier, the cluster memory plays that role.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ICSRNet"]


class ICSRNet(nn.Module):
    """Backbone + pooling + BN neck; ``forward(img) -> [B, D]`` unit-norm features.

    Args:
        arch: a registered backbone name (``resnet50-ibn-a`` in the paper).
        pretrained: ``"none"``, ``"imagenet"`` or a weights file (see ``reid_core.models.build_resnet``).
        pooling: ``gem`` (paper), ``avg``, ``max`` or ``maxavg``.
        width: backbone stem width for ResNets (64 standard; smaller only for fast tests and demos).
    """

    def __init__(self, arch: str = "resnet50-ibn-a", pretrained: str = "none", pooling: str = "gem",
                 width: int = 64) -> None:
        super().__init__()
        from reid_core.models import BNNeck, build_backbone, build_pooling

        kwargs = {"pretrained": pretrained, "last_stride": 1}
        if width != 64:
            kwargs["width"] = width
        self.backbone = build_backbone(arch, **kwargs)
        self.pool = build_pooling(pooling)
        dim = int(self.backbone.out_channels) * int(getattr(self.pool, "out_multiplier", 1))
        self.neck = BNNeck(dim, num_classes=0, bias_frozen=True)
        self.out_dim = dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, 3, H, W]`` -> L2-normalised ``[B, D]``."""
        pooled = self.pool(self.backbone(images))
        feats, _ = self.neck(pooled)
        return F.normalize(feats, dim=1)

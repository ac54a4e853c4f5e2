"""Center loss (Wen et al., ECCV 2016): pull each feature towards a learnable center of its class.

``L = (1/B) sum_j ||f_j - c_{y_j}||^2``. The centers are parameters of the loss module, so the method
must give them to an optimizer (BoT: a separate SGD, lr 0.5, with the loss weight's gradient scaling undone).
"""

from __future__ import annotations

import torch
from torch import nn


class CenterLoss(nn.Module):
    """Center loss with its own ``centers`` parameter ``[num_classes, feat_dim]`` (initialised N(0, 1)).

    Args:
        num_classes: number of training identities.
        feat_dim: feature dimension.

    ``forward(features [B, D], targets [B]) -> scalar``.
    """

    def __init__(self, num_classes: int, feat_dim: int) -> None:
        super().__init__()
        if num_classes <= 0 or feat_dim <= 0:
            raise ValueError(f"center loss needs num_classes > 0 and feat_dim > 0, got {num_classes}, {feat_dim}")
        self.num_classes = int(num_classes)
        self.feat_dim = int(feat_dim)
        self.centers = nn.Parameter(torch.randn(self.num_classes, self.feat_dim))

    def forward(self, features: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean squared distance of every feature to its class center."""
        diff = features.float() - self.centers[targets.long()]
        return diff.pow(2).sum(dim=1).clamp(min=1e-12, max=1e12).mean()

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, feat_dim={self.feat_dim}"

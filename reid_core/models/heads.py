"""The BNNeck head (Luo et al., "Bag of Tricks", 2019): BatchNorm1d then an optional bias-free classifier.

The pooled feature ``f`` (used by metric losses such as triplet) goes through ``BatchNorm1d``; the
normalised feature ``f_bn`` feeds the ID classifier and is the usual test-time feature.
"""

from __future__ import annotations

import torch
from torch import nn


class BNNeck(nn.Module):
    """BatchNorm1d neck with an optional linear classifier.

    Args:
        in_dim: feature dimension.
        num_classes: classifier outputs; 0 means no classifier (``logits`` is ``None``).
        bias_frozen: the BN shift is kept at 0 and not trained (BoT, ICSR); ``False`` trains it (CAL/AIM).
        bn_weight_std: 0 initialises the BN scale to 1 (BoT); > 0 draws it from N(1, std) (CAL/AIM use 0.02).
        classifier_bias: give the classifier a bias (BoT: no bias).
        classifier_std: the classifier weight is drawn from N(0, std) (BoT: 0.001).

    ``forward(f) -> (f_bn, logits)``: ``f_bn`` is ``[B, in_dim]``; ``logits`` is ``[B, num_classes]`` or
    ``None`` when ``num_classes == 0``.

    Example:
        >>> neck = BNNeck(2048, num_classes=751)
        >>> f_bn, logits = neck(torch.randn(8, 2048))  # triplet on f, CE on logits, f_bn at test
    """

    def __init__(
        self,
        in_dim: int,
        num_classes: int = 0,
        *,
        bias_frozen: bool = True,
        bn_weight_std: float = 0.0,
        classifier_bias: bool = False,
        classifier_std: float = 0.001,
    ) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(in_dim)
        if bn_weight_std > 0:
            nn.init.normal_(self.bn.weight, 1.0, bn_weight_std)
        else:
            nn.init.ones_(self.bn.weight)
        nn.init.zeros_(self.bn.bias)
        self.bn.bias.requires_grad_(not bias_frozen)
        self.in_dim = in_dim
        self.num_classes = num_classes
        self.classifier: nn.Linear | None = None
        if num_classes > 0:
            self.classifier = nn.Linear(in_dim, num_classes, bias=classifier_bias)
            nn.init.normal_(self.classifier.weight, 0.0, classifier_std)
            if classifier_bias:
                nn.init.zeros_(self.classifier.bias)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``f [B, in_dim]`` -> ``(f_bn, logits or None)``."""
        f_bn = self.bn(features)
        logits = self.classifier(f_bn) if self.classifier is not None else None
        return f_bn, logits

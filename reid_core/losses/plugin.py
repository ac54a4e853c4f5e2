"""The core's builtin losses plugin: registers the core's losses through the public hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reid_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from torch import nn


def cross_entropy_ls(epsilon: float = 0.1) -> nn.Module:
    """Label-smoothed cross-entropy (``epsilon = 0``: plain cross-entropy)."""
    from reid_core.losses.cross_entropy import CrossEntropyLabelSmooth

    return CrossEntropyLabelSmooth(epsilon=float(epsilon))


def triplet(
    margin: float | None = 0.3, metric: str = "euclidean", soft_margin: bool = False, normalize: bool = False
) -> nn.Module:
    """Batch-hard triplet loss (euclidean or cosine, hinge or soft margin)."""
    from reid_core.losses.triplet import TripletLoss

    return TripletLoss(margin=margin, metric=metric, soft_margin=soft_margin, normalize=normalize)


def center(num_classes: int, feat_dim: int) -> nn.Module:
    """Center loss with learnable centers (give its parameters to an optimizer)."""
    from reid_core.losses.center import CenterLoss

    return CenterLoss(num_classes=int(num_classes), feat_dim=int(feat_dim))


@hookimpl
def reid_register_losses(register: Any) -> None:
    """Register the core's losses."""
    register("cross_entropy_ls", cross_entropy_ls, description="cross-entropy with label smoothing (epsilon 0.1)")
    register("triplet", triplet, description="batch-hard triplet, margin 0.3, euclidean|cosine, soft margin option")
    register("center", center, description="center loss (learnable centers; needs num_classes, feat_dim)")

"""Batch-hard triplet loss (Hermans et al. 2017): for each anchor, its farthest positive and its
nearest negative in the batch.

``L = mean_a max(0, d(a, p*) - d(a, n*) + margin)``, or the soft margin ``log(1 + exp(d_ap - d_an))``.
Distances are Euclidean (``sqrt(clamp(|x - y|^2, 1e-12))``) or cosine (``1 - cos``). The hardest pair
is chosen without gradient through the choice; the gradient flows into the chosen distances only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

METRICS = ("euclidean", "cosine")


def pairwise_distance(x: torch.Tensor, y: torch.Tensor, metric: str = "euclidean") -> torch.Tensor:
    """Distance matrix ``[N, M]`` between the rows of ``x [N, D]`` and ``y [M, D]``."""
    if metric == "euclidean":
        sq = x.pow(2).sum(1, keepdim=True) + y.pow(2).sum(1).unsqueeze(0) - 2.0 * x @ y.t()
        return sq.clamp(min=1e-12).sqrt()
    if metric == "cosine":
        return 1.0 - F.normalize(x, dim=1) @ F.normalize(y, dim=1).t()
    raise ValueError(f"unknown distance metric {metric!r}; choose one of {', '.join(METRICS)}")


def hard_example_mining(dist: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Hardest positive and negative distance of every anchor (row) of a square distance matrix.

    Returns ``(d_ap, d_an)``, each ``[N]``. An anchor with no other positive uses itself (``d_ap`` ~ 0);
    an anchor with no negative gets ``d_an = +inf`` (its hinge term is then 0).
    """
    same = targets.unsqueeze(0) == targets.unsqueeze(1)
    d_ap = dist.masked_fill(~same, float("-inf")).amax(dim=1)
    d_an = dist.masked_fill(same, float("inf")).amin(dim=1)
    return d_ap, d_an


class TripletLoss(nn.Module):
    """Batch-hard triplet loss.

    Args:
        margin: hinge margin (0.3 in BoT/AIM); ``None`` selects the soft margin.
        metric: ``"euclidean"`` or ``"cosine"``.
        soft_margin: use ``softplus(d_ap - d_an)`` instead of the hinge (``margin`` is then ignored).
        normalize: L2-normalise the features before the distances.

    ``forward(features [B, D], targets [B]) -> scalar``.
    """

    def __init__(
        self,
        margin: float | None = 0.3,
        metric: str = "euclidean",
        soft_margin: bool = False,
        normalize: bool = False,
    ) -> None:
        super().__init__()
        if metric not in METRICS:
            raise ValueError(f"unknown triplet metric {metric!r}; choose one of {', '.join(METRICS)}")
        self.margin = None if margin is None else float(margin)
        self.metric = metric
        self.soft_margin = bool(soft_margin) or margin is None
        self.normalize = bool(normalize)

    def forward(self, features: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean batch-hard triplet loss of the batch."""
        features = features.float()
        if self.normalize:
            features = F.normalize(features, dim=1)
        dist = pairwise_distance(features, features, self.metric)
        d_ap, d_an = hard_example_mining(dist, targets)
        has_negative = torch.isfinite(d_an)
        if not bool(has_negative.any()):
            return features.sum() * 0.0  # one identity in the batch: nothing to push away
        d_ap, d_an = d_ap[has_negative], d_an[has_negative]
        if self.soft_margin:
            return F.softplus(d_ap - d_an).mean()
        assert self.margin is not None
        return F.relu(d_ap - d_an + self.margin).mean()

    def extra_repr(self) -> str:
        kind = "soft_margin" if self.soft_margin else f"margin={self.margin}"
        return f"{kind}, metric={self.metric}, normalize={self.normalize}"

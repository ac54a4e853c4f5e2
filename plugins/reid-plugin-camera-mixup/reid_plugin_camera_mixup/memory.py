"""The exemplar memory of the target images (``ExemplarLinear``): one L2-normalised row per target image.

Similarities are ``f @ M.T`` with ``M`` a buffer (never a parameter, never differentiated: the
gradient reaching ``f`` is ``grad @ M``, as the released code's custom backward). The update
``M[u] <- normalize(m * M[u] + (1 - m) * f)`` runs after the optimisation step with the features
of the batch's forward pass (the released code runs it inside the backward, with the same values).

Under DDP the rows are updated from the target features and indices of **every** rank, gathered
in rank order, so all ranks hold the same memory (the released code kept one diverging copy per
GPU, each updated with its own half of the batches; see the plugin README). An index present
twice in one update keeps its last occurrence (rank order, then batch order).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reid_core.engine import distributed
from reid_core.engine.distributed import DistInfo


class ExemplarMemory(nn.Module):
    """``num_items x dim`` memory rows, initialised N(0, 0.001^2), with the items' cameras.

    Args:
        num_items: target training images (N_t).
        dim: feature dimension.
        cameras: the camera of each item (0-based), defining the intra/inter-camera partitions.
    """

    def __init__(self, num_items: int, dim: int, cameras: torch.Tensor | list[int]) -> None:
        super().__init__()
        cameras = torch.as_tensor(cameras, dtype=torch.long)
        if cameras.shape != (num_items,):
            raise ValueError(f"ExemplarMemory: {tuple(cameras.shape)} cameras for {num_items} items")
        generator = torch.Generator().manual_seed(0)
        self.register_buffer("memory", torch.randn(num_items, dim, generator=generator) * 0.001)
        self.register_buffer("cameras", cameras)

    def similarities(self, features: torch.Tensor) -> torch.Tensor:
        """``features @ M.T`` in float32 (``features`` are the L2-normalised target features)."""
        return features.float() @ self.memory.t()

    @torch.no_grad()
    def update(self, features: torch.Tensor, indices: torch.Tensor, momentum: float) -> None:
        """``M[u] <- normalize(m * M[u] + (1 - m) * f)`` for the given rows (this process's only)."""
        features = features.detach().float()
        indices = indices.long()
        last = _last_occurrence(indices)
        features, indices = features[last], indices[last]
        rows = momentum * self.memory[indices] + (1.0 - momentum) * features
        self.memory[indices] = F.normalize(rows, dim=1)

    @torch.no_grad()
    def update_gathered(self, features: torch.Tensor, indices: torch.Tensor, momentum: float, dist: DistInfo) -> None:
        """:meth:`update` with the features and indices of every rank (a collective: all ranks call it)."""
        if dist.distributed:
            feats = distributed.all_gather_rows(features.detach().float().contiguous(), dist)
            idx = distributed.all_gather_rows(indices.long().contiguous(), dist)
            features = torch.cat([f.to(self.memory.device) for f in feats])
            indices = torch.cat([i.to(self.memory.device) for i in idx])
        self.update(features, indices, momentum)


def _last_occurrence(indices: torch.Tensor) -> torch.Tensor:
    """Positions of the last occurrence of each distinct value of ``indices``, in ascending order."""
    order = torch.arange(indices.numel(), device=indices.device)
    if indices.numel() == 0:
        return order
    last = torch.full((int(indices.max()) + 1,), -1, dtype=torch.long, device=indices.device)
    last.scatter_reduce_(0, indices, order, reduce="amax")
    return order[last[indices] == order]

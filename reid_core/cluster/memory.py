"""The cluster memory: one L2-normalised centroid per pseudo label and the ClusterNCE loss.

Cluster-contrast style unsupervised re-ID keeps a ``K x D`` buffer of centroids, scores each
feature against all of them with a temperature-scaled softmax (a non-parametric classifier)
and, inside the backward pass, moves the centroid of each sample's class towards that sample.
The update lives in a custom autograd ``Function`` so that it happens exactly once per
optimisation step, after the loss that used the old centroids has been differentiated.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ClusterMemory", "cluster_memory_logits", "momentum_update"]


@torch.no_grad()
def momentum_update(
    memory: torch.Tensor, features: torch.Tensor, targets: torch.Tensor, momentum: float, *, hard: bool = False
) -> None:
    """Update ``memory`` rows in place from a batch of (normalised) features.

    Default: for each sample in batch order, ``m_y <- normalize(mu * m_y + (1 - mu) * q)``
    (sequential, per sample: later samples of a class see the already-moved row). ``hard``:
    for each class in the batch, only the sample with the lowest cosine to ``m_y`` is used.
    """
    if momentum >= 1.0:  # the row would only be re-normalised: leave it bit-for-bit unchanged
        return
    features = features.detach().to(memory.dtype)
    if hard:
        for label in torch.unique(targets).tolist():
            members = (targets == label).nonzero(as_tuple=True)[0]
            sims = features[members] @ memory[label]
            hardest = members[int(torch.argmin(sims))]
            row = momentum * memory[label] + (1.0 - momentum) * features[hardest]
            memory[label] = row / row.norm().clamp_min(1e-12)
        return
    for feature, label in zip(features, targets.tolist()):
        row = momentum * memory[label] + (1.0 - momentum) * feature
        memory[label] = row / row.norm().clamp_min(1e-12)


def _gather_rows(tensor: torch.Tensor) -> torch.Tensor:
    """All ranks' rows in rank order under ``torch.distributed`` (equal row counts); else ``tensor``."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return tensor
    parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, tensor.contiguous())
    return torch.cat(parts)


class _MemoryLogits(torch.autograd.Function):
    """``q @ M.T`` whose backward treats ``M`` as a constant, then updates ``M`` in place.

    Under ``torch.distributed`` the update uses the features of all ranks (gathered, rank order),
    so each rank's memory stays identical; every rank must have the same batch size.
    """

    @staticmethod
    def forward(ctx: Any, inputs: torch.Tensor, targets: torch.Tensor, memory: torch.Tensor,
                momentum: float, hard: bool) -> torch.Tensor:
        ctx.memory, ctx.momentum, ctx.hard = memory, momentum, hard
        ctx.save_for_backward(inputs, targets)
        return inputs.mm(memory.t())

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Any, ...]:
        inputs, targets = ctx.saved_tensors
        grad_inputs = grad_output.mm(ctx.memory.to(grad_output.dtype)) if ctx.needs_input_grad[0] else None
        # under DDP every rank applies every rank's samples in the same order: the copies stay equal
        momentum_update(ctx.memory, _gather_rows(inputs.detach()), _gather_rows(targets), ctx.momentum,
                        hard=ctx.hard)
        return grad_inputs, None, None, None, None


def cluster_memory_logits(
    inputs: torch.Tensor, targets: torch.Tensor, memory: torch.Tensor, momentum: float, hard: bool = False
) -> torch.Tensor:
    """Similarities ``inputs @ memory.T`` (unscaled); backward updates ``memory`` (see :func:`momentum_update`)."""
    return _MemoryLogits.apply(inputs, targets, memory, momentum, hard)


class ClusterMemory(nn.Module):
    """A ``K x D`` centroid memory with the ClusterNCE loss.

    Args:
        num_features: feature dimension ``D``.
        num_samples: number of clusters ``K`` (rows).
        temp: softmax temperature (0.05 in cluster-contrast / ICSR).
        momentum: ``mu`` of the update ``m <- normalize(mu m + (1 - mu) q)``; 1 leaves rows unchanged.
        hard: update each class only with its hardest (least similar) sample of the batch.

    Example::

        memory = ClusterMemory(2048, num_clusters, temp=0.05, momentum=0.1)
        memory.init_from(centroids)           # rows L2-normalised
        loss = memory(features, pseudo_labels)
    """

    def __init__(self, num_features: int, num_samples: int, temp: float = 0.05, momentum: float = 0.2,
                 hard: bool = False) -> None:
        super().__init__()
        if temp <= 0:
            raise ValueError(f"ClusterMemory: temp must be > 0, got {temp}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"ClusterMemory: momentum must be in [0, 1], got {momentum}")
        self.num_features = int(num_features)
        self.num_samples = int(num_samples)
        self.temp = float(temp)
        self.momentum = float(momentum)
        self.hard = bool(hard)
        self.register_buffer("features", torch.zeros(self.num_samples, self.num_features))

    @torch.no_grad()
    def init_from(self, centroids: torch.Tensor) -> None:
        """Copy ``K x D`` centroids into the memory, L2-normalising each row."""
        if tuple(centroids.shape) != (self.num_samples, self.num_features):
            raise ValueError(
                f"ClusterMemory.init_from: expected centroids of shape {(self.num_samples, self.num_features)}, "
                f"got {tuple(centroids.shape)}"
            )
        self.features.copy_(F.normalize(centroids.to(self.features), dim=1))

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """ClusterNCE: cross-entropy of ``normalize(inputs) @ M.T / temp`` against ``targets``."""
        if targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= self.num_samples):
            raise ValueError(
                f"ClusterMemory: targets must be in 0..{self.num_samples - 1}, got "
                f"{int(targets.min())}..{int(targets.max())} (relabel the pseudo labels first)"
            )
        # always float32: with temp 0.05 the logits reach 20 and fp16 would round them (AMP runs)
        with torch.autocast(device_type=inputs.device.type, enabled=False):
            q = F.normalize(inputs.float(), dim=1)
            logits = cluster_memory_logits(q, targets, self.features, self.momentum, self.hard) / self.temp
            return F.cross_entropy(logits, targets)

    def extra_repr(self) -> str:
        return (f"num_features={self.num_features}, num_samples={self.num_samples}, temp={self.temp}, "
                f"momentum={self.momentum}, hard={self.hard}")

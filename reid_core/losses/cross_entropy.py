"""Cross-entropy with label smoothing (Szegedy et al. 2016), as used by BoT, CAL/AIM and others."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CrossEntropyLabelSmooth(nn.Module):
    """Label-smoothed cross-entropy: target ``q = (1 - eps) * onehot(y) + eps / K``.

    ``L = mean_i sum_k -q_ik log softmax(logits_i)_k`` with K the number of classes (``logits.shape[1]``).
    ``eps = 0`` is exactly ``F.cross_entropy``; with uniform logits the loss is ``log K`` for any eps.

    Args:
        epsilon: smoothing weight in [0, 1) (0.1 in BoT and AIM).
    """

    def __init__(self, epsilon: float = 0.1) -> None:
        super().__init__()
        if not 0.0 <= float(epsilon) < 1.0:
            raise ValueError(f"label smoothing epsilon must be in [0, 1), got {epsilon!r}")
        self.epsilon = float(epsilon)

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """``logits [B, K]``, ``targets [B]`` (class indices) -> scalar loss."""
        log_probs = F.log_softmax(logits.float(), dim=1)
        nll = -log_probs.gather(1, targets.long().unsqueeze(1)).squeeze(1)
        if self.epsilon == 0.0:
            return nll.mean()
        uniform = -log_probs.mean(dim=1)
        return ((1.0 - self.epsilon) * nll + self.epsilon * uniform).mean()

    def extra_repr(self) -> str:
        return f"epsilon={self.epsilon}"

"""AIM's clothes losses: CAL's clothes-based adversarial loss, the scaled cosine clothes CE and
the symmetric KL of the knowledge transfer (``shared/methods/aim.md`` section 2).

The label-smoothed identity loss is the core's ``cross_entropy_ls``.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn


def pid_to_clothes(pids: Iterable[int], clothes: Iterable[int], num_pids: int, num_clothes: int) -> torch.Tensor:
    """The 0/1 matrix ``[num_pids, num_clothes]`` of which clothes each (train) identity wears.

    Why: the adversarial loss treats every outfit of the sample's own identity as positive.
    """
    mask = torch.zeros(num_pids, num_clothes)
    for pid, clo in zip(pids, clothes):
        if clo is not None and clo >= 0:
            mask[int(pid), int(clo)] = 1.0
    return mask


class CosineCrossEntropy(nn.Module):
    """CosFace with margin 0: cross-entropy of ``s * cos`` (trains the clothes classifiers)."""

    def __init__(self, s: float = 16.0) -> None:
        super().__init__()
        self.s = float(s)

    def forward(self, cosines: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean CE of the scaled cosines ``[B, K]`` against class indices ``[B]``."""
        return F.cross_entropy(self.s * cosines.float(), targets)


class ClothesAdversarialLoss(nn.Module):
    """CAL's clothes-based adversarial loss on scaled cosines ``z = s * cos``.

    For class ``j`` of sample ``i``: ``l_ij = z_ij - log(exp(z_ij) + sum_{k not in P_i} exp(z_ik))``
    (a softmax over ``j`` and the other identities' clothes); target
    ``t_ij = (1-eps)[j = c_i] + eps/|P_i| [j in P_i]``; loss ``mean_i sum_j -t_ij l_ij``. It pulls
    the ID feature towards every outfit of its own identity and away from other identities'.
    """

    def __init__(self, s: float = 16.0, epsilon: float = 0.1) -> None:
        super().__init__()
        self.s = float(s)
        self.epsilon = float(epsilon)

    def forward(self, cosines: torch.Tensor, clothes: torch.Tensor, positive_mask: torch.Tensor) -> torch.Tensor:
        """``cosines [B,K]``, clothes labels ``[B]``, ``positive_mask [B,K]`` (row of pid2clothes)."""
        z = self.s * cosines.float()  # fp32 even under autocast: exp(16 cos) is large
        positive = positive_mask.to(dtype=torch.bool, device=z.device)
        negatives = z.masked_fill(positive, float("-inf"))
        neg_lse = torch.logsumexp(negatives, dim=1, keepdim=True)  # -inf if no negatives
        log_prob = z - torch.logaddexp(z, neg_lse.expand_as(z))
        mask = positive.to(z.dtype)
        onehot = F.one_hot(clothes, z.size(1)).to(z.dtype)
        target = (1.0 - self.epsilon) * onehot + self.epsilon * mask / mask.sum(dim=1, keepdim=True).clamp_min(1.0)
        return -(target * log_prob).sum(dim=1).mean()


def symmetric_kl(p_cosines: torch.Tensor, q_cosines: torch.Tensor) -> torch.Tensor:
    """Jeffreys divergence ``KL(P||Q) + KL(Q||P)`` summed over batch and classes.

    ``P = softmax(p_cosines)`` (clothing branch, gets gradients) and ``Q = softmax(q_cosines)``
    (``delta_A`` on the ID feature, detached): softmax over the UNSCALED cosines, sum reduction,
    as in the official code (``kl_div(log Q, P, 'sum') + kl_div(log P, Q, 'sum')``).
    """
    log_p = F.log_softmax(p_cosines.float(), dim=1)
    log_q = F.log_softmax(q_cosines.detach().float(), dim=1)
    return ((log_p.exp() - log_q.exp()) * (log_p - log_q)).sum()

"""The losses of the IV-ReID seed and of AGW.

* :func:`mutual_kl`: the seed's cross-modality KL. Each modality head's prediction on its own samples is
  the student; the other head's prediction on the same samples, **detached**, is the teacher::

      L_kl = KL(p(z_t[V]).detach() || p(z_v[V])) + KL(p(z_v[T]).detach() || p(z_t[T]))

  computed as ``kl_div(log_softmax(student), softmax(teacher))``. ``reduction="batchmean"`` (the seed's
  SYSU code) divides by the number of samples, ``"mean"`` (its RegDB code) by samples x classes.
* :func:`modality_id_loss`: ``CE(z_s[B]) + CE(z_v[V]) + CE(z_t[T])``, plain cross-entropy, each term
  averaged over its own samples.
* :class:`WeightedRegularizedTriplet`: AGW's WRT. Per anchor, positives weighted by ``softmax(d_ap)`` and
  negatives by ``softmax(-d_an)`` (over the positives / negatives only), then the soft margin
  ``log(1 + exp(d_p - d_n))`` of the weighted distances, averaged over anchors.

Batch-hard triplet is the core's :class:`reid_core.losses.TripletLoss`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reid_core.losses import pairwise_distance

KL_REDUCTIONS = ("batchmean", "mean")


def _kl(student: torch.Tensor, teacher: torch.Tensor, reduction: str) -> torch.Tensor:
    """KL(teacher || student) summed, then divided by the samples (``batchmean``) or the elements
    (``mean``, PyTorch's old ``KLDivLoss()`` default, written out: torch announces that its 'mean'
    will become 'batchmean')."""
    total = F.kl_div(F.log_softmax(student.float(), dim=1), F.softmax(teacher.float(), dim=1), reduction="sum")
    return total / (student.shape[0] if reduction == "batchmean" else student.numel())


def mutual_kl(
    visible_logits: torch.Tensor,
    infrared_logits: torch.Tensor,
    visible: torch.Tensor,
    infrared: torch.Tensor,
    reduction: str = "batchmean",
) -> torch.Tensor:
    """The detached mutual KL between the two modality heads (module docstring).

    Args:
        visible_logits, infrared_logits: ``[B, C]`` logits of the visible and the infrared head on every sample.
        visible, infrared: ``[B]`` boolean masks of the visible and the infrared samples.
        reduction: ``batchmean`` or ``mean``.
    """
    if reduction not in KL_REDUCTIONS:
        raise ValueError(f"mutual_kl: reduction must be one of {KL_REDUCTIONS}, got {reduction!r}")
    loss = visible_logits.sum() * 0.0
    if bool(visible.any()):
        loss = loss + _kl(visible_logits[visible], infrared_logits[visible].detach(), reduction)
    if bool(infrared.any()):
        loss = loss + _kl(infrared_logits[infrared], visible_logits[infrared].detach(), reduction)
    return loss


def modality_id_loss(
    shared_logits: torch.Tensor,
    visible_logits: torch.Tensor,
    infrared_logits: torch.Tensor,
    targets: torch.Tensor,
    visible: torch.Tensor,
    infrared: torch.Tensor,
) -> torch.Tensor:
    """``CE(shared, all) + CE(visible head, visible samples) + CE(infrared head, infrared samples)``."""
    loss = F.cross_entropy(shared_logits.float(), targets)
    if bool(visible.any()):
        loss = loss + F.cross_entropy(visible_logits[visible].float(), targets[visible])
    if bool(infrared.any()):
        loss = loss + F.cross_entropy(infrared_logits[infrared].float(), targets[infrared])
    return loss


def _softmax_weights(dist: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax of ``dist`` over the entries where ``mask`` is 1 (rows), 0 elsewhere (AGW's stabilised form)."""
    max_v = torch.max(dist * mask, dim=1, keepdim=True)[0]
    exp = torch.exp(dist - max_v) * mask
    return exp / (exp.sum(dim=1, keepdim=True) + 1e-6)


class WeightedRegularizedTriplet(nn.Module):
    """AGW's weighted regularized triplet (no margin, no mining): ``forward(features, targets) -> scalar``."""

    def forward(self, features: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        dist = pairwise_distance(features.float(), features.float())
        same = (targets.unsqueeze(0) == targets.unsqueeze(1)).float()
        other = 1.0 - same
        d_ap, d_an = dist * same, dist * other
        furthest_positive = (d_ap * _softmax_weights(d_ap, same)).sum(dim=1)
        closest_negative = (d_an * _softmax_weights(-d_an, other)).sum(dim=1)
        return F.softplus(furthest_positive - closest_negative).mean()

"""The losses of camera-aware invariance learning and cross-domain mixup, and their schedule.

Notation (spec section 3): target feature ``f_i`` (L2-normalised), its memory row ``u_i`` and camera
``c_i``; ``s_ij = f_i . M_j``; ``I_i`` = memory rows of camera ``c_i`` (``u_i`` included), ``O_i`` = the
other rows. Neighbour sets use the detached similarities: ``N = {j : s_ij > eps * max_k s_ik}`` over
``I_i \\ {u_i}`` (intra) or ``O_i`` (inter). Probabilities are clamped to >= 1e-5 before the log, in
both terms (the released code clamps the inter-camera ones too).

Guard (spec pitfall 6): the released code divides by ``|N|``, which is 0 when the nearest
similarity is <= 0 (NaN, even under a zero weight). Here an empty set takes the nearest row as its
only neighbour, and a row with no candidate at all (a camera holding a single image, or a
single-camera target) contributes 0.
"""

from __future__ import annotations

import attrs
import torch
import torch.nn.functional as F

PROB_FLOOR = 1e-5


@attrs.frozen
class Schedule:
    """Which parts are on at a 1-based epoch (hard-coded in the released ``model.py``)."""

    mix_start: int = 2
    intra_weight: float = 1.0
    intra_after: int = 10
    inter_weight: float = 0.5
    inter_after: int = 30
    momentum: float = 0.6

    def weights(self, epoch: int) -> tuple[float, float]:
        """``(w_intra, w_inter)``: 0 until ``intra_after`` / ``inter_after``, then the configured weights."""
        return (self.intra_weight if epoch > self.intra_after else 0.0,
                self.inter_weight if epoch > self.inter_after else 0.0)

    def mixing(self, epoch: int, enabled: bool = True) -> bool:
        """Whether the source half is mixed with the target half (from epoch ``mix_start``)."""
        return enabled and epoch >= self.mix_start

    def memory_momentum(self, epoch: int) -> float:
        """0 in epoch 1 (rows overwritten), ``momentum`` after."""
        return 0.0 if epoch <= 1 else self.momentum


def neighbour_mask(sims: torch.Tensor, candidates: torch.Tensor, eps: float) -> torch.Tensor:
    """``s_ij > eps * max_{k in candidates} s_ik`` among ``candidates`` (bool ``[B, N]``), never empty
    where a row has a candidate: an empty set takes the row's nearest candidate."""
    masked = sims.detach().masked_fill(~candidates, float("-inf"))
    nearest, arg = masked.max(dim=1, keepdim=True)
    mask = (masked > eps * nearest) & candidates
    empty = ~mask.any(dim=1) & candidates.any(dim=1)
    if bool(empty.any()):
        mask[empty.nonzero(as_tuple=True)[0], arg[empty, 0]] = True
    return mask


def _masked_log_prob(sims: torch.Tensor, region: torch.Tensor, scale: float) -> torch.Tensor:
    """``log(max(softmax over region of scale * s, 1e-5))``; entries outside ``region`` are junk (masked later)."""
    logits = (scale * sims).masked_fill(~region, float("-inf"))
    prob = torch.softmax(logits, dim=1).nan_to_num(0.0)  # a row without region: all masked later
    return prob.clamp_min(PROB_FLOOR).log()


def _neighbour_term(log_prob: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    count = mask.sum(dim=1).clamp_min(1)
    return -(log_prob * mask).sum(dim=1).div(count).mean()


def camera_masks(
    memory_cameras: torch.Tensor, cameras: torch.Tensor, indices: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(instance, intra, inter)`` bool masks ``[B, N]``: the row's own item, same-camera items (own
    included), other-camera items. ``intra | inter`` is everything, ``intra & inter`` nothing."""
    intra = cameras.view(-1, 1) == memory_cameras.view(1, -1)
    instance = torch.zeros_like(intra)
    instance[torch.arange(len(indices), device=indices.device), indices] = True
    return instance, intra, ~intra


def intra_camera_loss(
    sims: torch.Tensor, instance: torch.Tensor, intra: torch.Tensor, *, scale: float, eps: float
) -> torch.Tensor:
    """Intra-camera invariance: same-camera neighbours plus the exemplar (self) term."""
    log_p = _masked_log_prob(sims, intra, scale)
    neighbours = neighbour_mask(sims, intra & ~instance, eps)
    exemplar = -(log_p * instance).sum(dim=1).mean()
    return _neighbour_term(log_p, neighbours) + exemplar


def inter_camera_loss(sims: torch.Tensor, inter: torch.Tensor, *, scale: float, eps: float) -> torch.Tensor:
    """Inter-camera invariance: neighbours among the other cameras' items, softmax over those only."""
    if not bool(inter.any()):
        return sims.sum() * 0.0
    log_q = _masked_log_prob(sims, inter, scale)
    return _neighbour_term(log_q, neighbour_mask(sims, inter, eps))


def mix_images(source: torch.Tensor, target: torch.Tensor, lam: float) -> torch.Tensor:
    """``lam * source + (1 - lam) * target``, pairing images by position (augmented, normalised tensors)."""
    return lam * source + (1.0 - lam) * target


def mixup_logits(z: torch.Tensor, weight: torch.Tensor, agents: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``[B, C + 1]``: ``W z`` and the virtual target logit ``(z . M_u) * ||W_y||`` (agents and norms detached)."""
    logits = F.linear(z, weight)
    virtual = (z * agents.detach().to(z.dtype)).sum(dim=1, keepdim=True)
    virtual = virtual * weight.detach()[labels].norm(dim=1, keepdim=True)
    return torch.cat([logits, virtual], dim=1).float()


def mixup_loss(logits: torch.Tensor, labels: torch.Tensor, lam: float) -> torch.Tensor:
    """``lam * CE(l, y_s) + (1 - lam) * CE(l, C)`` with the virtual class C = the last column."""
    virtual = torch.full_like(labels, logits.shape[1] - 1)
    return lam * F.cross_entropy(logits, labels) + (1.0 - lam) * F.cross_entropy(logits, virtual)

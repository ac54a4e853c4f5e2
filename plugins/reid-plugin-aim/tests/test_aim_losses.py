"""Special cases of AIM's clothes losses (shared/methods/aim.md section 9)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from reid_plugin_aim.losses import ClothesAdversarialLoss, CosineCrossEntropy, pid_to_clothes, symmetric_kl


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_pid_to_clothes_marks_every_outfit_of_an_identity() -> None:
    mask = pid_to_clothes([0, 0, 1, 1, 2], [0, 1, 2, 2, 3], num_pids=3, num_clothes=4)
    assert mask.tolist() == [[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]


def test_adversarial_loss_with_one_outfit_per_identity_is_plain_ce_on_scaled_logits() -> None:
    cos = torch.rand(6, 5) * 2 - 1
    clothes = torch.tensor([0, 1, 2, 3, 4, 0])
    positive = F.one_hot(clothes, 5).float()  # P_i = {c_i}
    loss = ClothesAdversarialLoss(s=16.0, epsilon=0.1)(cos, clothes, positive)
    torch.testing.assert_close(loss, F.cross_entropy(16.0 * cos, clothes))


def test_adversarial_loss_matches_hand_formula_with_two_positive_outfits() -> None:
    cos = torch.tensor([[0.5, -0.2, 0.1, 0.3]])
    clothes = torch.tensor([1])
    positive = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    s, eps = 2.0, 0.2
    z = s * cos[0]
    neg = torch.exp(z[2]) + torch.exp(z[3])
    ell = [z[j] - torch.log(torch.exp(z[j]) + neg) for j in range(2)]
    expected = -((eps / 2) * ell[0] + (1 - eps + eps / 2) * ell[1])
    loss = ClothesAdversarialLoss(s=s, epsilon=eps)(cos, clothes, positive)
    torch.testing.assert_close(loss, expected)


def test_adversarial_loss_pushes_away_from_other_identities_clothes() -> None:
    cos = torch.zeros(1, 3, requires_grad=True)
    ClothesAdversarialLoss()(cos, torch.tensor([0]), torch.tensor([[1.0, 1.0, 0.0]])).backward()
    assert cos.grad[0, 0] < 0 and cos.grad[0, 1] < 0  # pulled towards own outfits
    assert cos.grad[0, 2] > 0  # away from the other identity's outfit


def test_adversarial_loss_with_no_negative_clothes_is_finite() -> None:
    cos = torch.rand(2, 2)
    loss = ClothesAdversarialLoss()(cos, torch.tensor([0, 1]), torch.ones(2, 2))
    assert torch.isfinite(loss) and loss.item() == pytest.approx(0.0, abs=1e-6)


def test_cosine_cross_entropy_is_cosface_without_margin() -> None:
    cos = torch.rand(4, 3) * 2 - 1
    y = torch.tensor([0, 2, 1, 1])
    torch.testing.assert_close(CosineCrossEntropy(16.0)(cos, y), F.cross_entropy(16 * cos, y))


def test_symmetric_kl_is_zero_for_equal_distributions_and_symmetric() -> None:
    p, q = torch.rand(4, 6) * 2 - 1, torch.rand(4, 6) * 2 - 1
    assert symmetric_kl(p, p).item() == pytest.approx(0.0, abs=1e-7)
    torch.testing.assert_close(symmetric_kl(p, q), symmetric_kl(q, p))


def test_symmetric_kl_is_the_official_sum_reduced_jeffreys_on_unscaled_cosines() -> None:
    p, q = torch.rand(3, 5) * 2 - 1, torch.rand(3, 5) * 2 - 1
    lp, lq = F.log_softmax(p, 1), F.log_softmax(q, 1)
    official = F.kl_div(lq, lp.exp(), reduction="sum") + F.kl_div(lp, lq.exp(), reduction="sum")
    torch.testing.assert_close(symmetric_kl(p, q), official)
    # sum, not batchmean: twice the batch gives twice the loss
    torch.testing.assert_close(symmetric_kl(torch.cat([p, p]), torch.cat([q, q])), 2 * official)


def test_symmetric_kl_sends_no_gradient_to_the_q_side() -> None:
    p = (torch.rand(3, 4) * 2 - 1).requires_grad_()
    q = (torch.rand(3, 4) * 2 - 1).requires_grad_()
    symmetric_kl(p, q).backward()
    assert q.grad is None
    assert p.grad is not None and p.grad.abs().sum() > 0

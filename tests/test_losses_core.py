"""Cross-entropy with label smoothing, batch-hard triplet and center loss."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from reid_core.losses import CenterLoss, CrossEntropyLabelSmooth, TripletLoss, hard_example_mining
from reid_core.plugins import get_registry


def test_registered() -> None:
    reg = get_registry("losses")
    assert isinstance(reg.create("cross_entropy_ls"), CrossEntropyLabelSmooth)
    assert reg.create("cross_entropy_ls").epsilon == 0.1
    tri = reg.create("triplet")
    assert isinstance(tri, TripletLoss) and tri.margin == 0.3 and tri.metric == "euclidean"
    assert isinstance(reg.create("center", num_classes=3, feat_dim=4), CenterLoss)


def test_ce_eps0_equals_cross_entropy_and_uniform_gives_log_k() -> None:
    logits, targets = torch.randn(6, 5), torch.tensor([0, 1, 2, 3, 4, 0])
    assert torch.allclose(CrossEntropyLabelSmooth(0.0)(logits, targets), F.cross_entropy(logits, targets))
    assert torch.allclose(
        CrossEntropyLabelSmooth(0.1)(logits, targets), F.cross_entropy(logits, targets, label_smoothing=0.1)
    )
    for eps in (0.0, 0.1, 0.5):
        assert math.isclose(float(CrossEntropyLabelSmooth(eps)(torch.zeros(3, 7), torch.tensor([0, 3, 6]))), math.log(7), rel_tol=1e-6)
    with pytest.raises(ValueError):
        CrossEntropyLabelSmooth(1.0)


def test_triplet_hand_case_euclidean() -> None:
    # 1-d features: ids 0 at {0, 1}, id 1 at {3, 5}
    f = torch.tensor([[0.0], [1.0], [3.0], [5.0]])
    y = torch.tensor([0, 0, 1, 1])
    # hardest positive / nearest negative: a0 1/3, a1 1/2, a2 2/2, a3 2/4
    expected = (max(0, 1 - 3 + 0.3) + max(0, 1 - 2 + 0.3) + max(0, 2 - 2 + 0.3) + max(0, 2 - 4 + 0.3)) / 4
    assert math.isclose(float(TripletLoss(0.3)(f, y)), expected, rel_tol=1e-5)
    soft = sum(math.log1p(math.exp(a - n)) for a, n in ((1, 3), (1, 2), (2, 2), (2, 4))) / 4
    assert math.isclose(float(TripletLoss(soft_margin=True)(f, y)), soft, rel_tol=1e-5)
    assert math.isclose(float(TripletLoss(margin=None)(f, y)), soft, rel_tol=1e-5)


def test_triplet_margin_when_identical_and_zero_when_separated() -> None:
    y = torch.tensor([0, 0, 1, 1])
    assert math.isclose(float(TripletLoss(0.3)(torch.ones(4, 3), y)), 0.3, abs_tol=1e-5)
    far = torch.tensor([[0.0, 0.0], [0.1, 0.0], [10.0, 0.0], [10.1, 0.0]])
    assert float(TripletLoss(0.3)(far, y)) == 0.0


def test_triplet_cosine_and_gradient_into_mined_pairs_only() -> None:
    f = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1], [-1.0, 0.0]], requires_grad=True)
    y = torch.tensor([0, 0, 1, 1])
    dist = 1 - F.normalize(f, dim=1) @ F.normalize(f, dim=1).t()
    d_ap, d_an = hard_example_mining(dist, y)
    expected = F.relu(d_ap - d_an + 0.3).mean()
    loss = TripletLoss(0.3, metric="cosine")(f, y)
    assert torch.allclose(loss, expected)
    loss.backward()
    assert f.grad is not None and torch.isfinite(f.grad).all()


def test_triplet_single_identity_is_zero_and_bad_metric() -> None:
    assert float(TripletLoss()(torch.randn(4, 3), torch.zeros(4, dtype=torch.long))) == 0.0
    with pytest.raises(ValueError, match="cosine"):
        TripletLoss(metric="manhattan")


def test_center_loss() -> None:
    loss = CenterLoss(num_classes=3, feat_dim=2)
    with torch.no_grad():
        loss.centers.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]))
    f = torch.tensor([[0.0, 0.0], [1.0, 2.0], [4.0, 0.0]])
    value = loss(f, torch.tensor([0, 1, 2]))
    assert math.isclose(float(value.detach()), (0 + 1 + 4) / 3, rel_tol=1e-5)
    value.backward()
    assert loss.centers.grad is not None and float(loss.centers.grad[0].abs().sum()) == 0.0
    assert [n for n, _ in loss.named_parameters()] == ["centers"]

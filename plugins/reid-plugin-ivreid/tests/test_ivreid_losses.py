"""Losses of the seed and of AGW (spec section 7, "Losses")."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from reid_plugin_ivreid.losses import WeightedRegularizedTriplet, modality_id_loss, mutual_kl

from reid_core.losses import TripletLoss


def _masks(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    # the seed's layout: per identity 4 infrared then 4 visible
    modality = torch.tensor([1, 1, 1, 1, 0, 0, 0, 0] * (n // 8))
    return modality == 0, modality == 1


def test_kl_is_zero_for_identical_heads_and_mean_is_batchmean_over_classes() -> None:
    torch.manual_seed(0)
    z = torch.randn(16, 11)
    vis, ir = _masks(16)
    assert abs(float(mutual_kl(z, z.clone(), vis, ir))) < 1e-6
    z_v, z_t = torch.randn(16, 11), torch.randn(16, 11)
    batchmean = mutual_kl(z_v, z_t, vis, ir, "batchmean")
    mean = mutual_kl(z_v, z_t, vis, ir, "mean")
    assert float(batchmean) > 0
    torch.testing.assert_close(mean, batchmean / 11)


def test_kl_matches_the_formula() -> None:
    torch.manual_seed(1)
    z_v, z_t = torch.randn(16, 5), torch.randn(16, 5)
    vis, ir = _masks(16)

    def kl(p_teacher: torch.Tensor, student: torch.Tensor) -> torch.Tensor:
        q = F.softmax(p_teacher, 1)
        return (q * (q.log() - F.log_softmax(student, 1))).sum() / len(student)

    expected = kl(z_t[vis], z_v[vis]) + kl(z_v[ir], z_t[ir])
    torch.testing.assert_close(mutual_kl(z_v, z_t, vis, ir), expected)


def test_teacher_gets_no_gradient() -> None:
    torch.manual_seed(2)
    z_v = torch.randn(16, 5, requires_grad=True)
    z_t = torch.randn(16, 5, requires_grad=True)
    vis, _ = _masks(16)
    none = torch.zeros(16, dtype=torch.bool)
    mutual_kl(z_v, z_t, vis, none).backward()  # only the term on the visible samples
    assert z_t.grad is None or float(z_t.grad.abs().max()) == 0.0  # the infrared head is the teacher there
    assert float(z_v.grad[vis].abs().max()) > 0 and float(z_v.grad[~vis].abs().max()) == 0.0


def test_id_loss_has_three_terms_over_their_own_samples() -> None:
    torch.manual_seed(3)
    shared, z_v, z_t = torch.randn(64, 8), torch.randn(64, 8), torch.randn(64, 8)
    y = torch.arange(8).repeat_interleave(8)
    vis, ir = _masks(64)
    assert int(vis.sum()) == int(ir.sum()) == 32
    expected = F.cross_entropy(shared, y) + F.cross_entropy(z_v[vis], y[vis]) + F.cross_entropy(z_t[ir], y[ir])
    torch.testing.assert_close(modality_id_loss(shared, z_v, z_t, y, vis, ir), expected)
    zeros = torch.zeros(64, 8)
    torch.testing.assert_close(modality_id_loss(zeros, zeros, zeros, y, vis, ir), torch.tensor(3 * math.log(8)))


def test_batch_hard_triplet_margin_cases() -> None:
    y = torch.tensor([0, 0, 1, 1])
    same = torch.ones(4, 3)
    assert abs(float(TripletLoss(margin=0.2)(same, y)) - 0.2) < 1e-5  # identical features: the margin
    far = torch.tensor([[0.0, 0, 0], [0.01, 0, 0], [10.0, 0, 0], [10.01, 0, 0]])
    assert float(TripletLoss(margin=0.3)(far, y)) == 0.0


def test_wrt_matches_its_definition() -> None:
    torch.manual_seed(4)
    x = torch.randn(6, 4)
    y = torch.tensor([0, 0, 0, 1, 1, 2])
    dist = torch.cdist(x, x)
    losses = []
    for i in range(6):
        pos = (y == y[i])
        neg = ~pos
        wp = F.softmax(dist[i][pos], 0)
        wn = F.softmax(-dist[i][neg], 0)
        losses.append(F.softplus((wp * dist[i][pos]).sum() - (wn * dist[i][neg]).sum()))
    torch.testing.assert_close(WeightedRegularizedTriplet()(x, y), torch.stack(losses).mean(), atol=1e-4, rtol=1e-4)


def test_method_total_is_kl_plus_id_plus_triplet() -> None:
    """``IVReID.losses``: the three weighted terms the engine sums (all weights 1 in the seed)."""
    from reid_plugin_ivreid.config import IVReIDConfig
    from reid_plugin_ivreid.method import IVReID
    from reid_plugin_ivreid.model import IVReIDModel, ModalityHeads

    from reid_core.models import build_backbone

    torch.manual_seed(5)
    method = IVReID.__new__(IVReID)
    method.cfg = IVReIDConfig(margin=0.3)
    method.model = IVReIDModel(build_backbone("resnet18", width=8), num_classes=4)
    method.heads = ModalityHeads(64, 4, hidden=8)
    method.triplet = TripletLoss(margin=0.3)
    batch = {"img": torch.randn(16, 3, 32, 16), "pid": torch.arange(2).repeat_interleave(8),
             "modality": torch.tensor([1, 1, 1, 1, 0, 0, 0, 0] * 2)}
    torch.manual_seed(6)
    terms = method.losses(batch)
    assert set(terms) == {"id", "kl", "triplet"}
    torch.manual_seed(6)
    logits, f_bn = method.model(batch["img"])
    z_v, _, z_t, _ = method.heads(f_bn)
    vis, ir = batch["modality"] == 0, batch["modality"] == 1
    torch.testing.assert_close(terms["id"], modality_id_loss(logits, z_v, z_t, batch["pid"], vis, ir))
    torch.testing.assert_close(terms["kl"], mutual_kl(z_v, z_t, vis, ir, "batchmean"))
    torch.testing.assert_close(terms["triplet"], TripletLoss(margin=0.3)(f_bn, batch["pid"]))

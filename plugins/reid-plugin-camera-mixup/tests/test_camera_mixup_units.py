"""The invariants of spec section 8: sampler, memory, masks, neighbour sets, schedule, mixup, BN neck,
shapes, evaluation (trapezoid AP) and the optimiser."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from reid_plugin_camera_mixup.evaluation import market_trapezoid
from reid_plugin_camera_mixup.losses import (
    Schedule,
    camera_masks,
    inter_camera_loss,
    intra_camera_loss,
    mix_images,
    mixup_logits,
    mixup_loss,
    neighbour_mask,
)
from reid_plugin_camera_mixup.memory import ExemplarMemory
from reid_plugin_camera_mixup.model import CameraMixupNet
from reid_plugin_camera_mixup.sampler import CrossDomainSampler

from reid_core.evaluation import EvaluationError, SplitLabels
from reid_core.plugins import get_registry

torch.set_num_threads(1)


# -- 8.4 sampler -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("n_source", "n_target"), [(10, 23), (23, 10), (12, 12)])
def test_sampler_halves_cover_and_rank_split(n_source: int, n_target: int) -> None:
    batch, world = 4, 2
    ranks = [CrossDomainSampler(n_source, n_source + n_target, batch, seed=3, rank=r, world_size=world)
             for r in range(world)]
    per_rank = [s.indices(epoch=1) for s in ranks]
    assert len(per_rank[0]) == len(per_rank[1]) == 2 * math.ceil(max(n_source, n_target) / (2 * world)) * 2
    for indices in per_rank:
        for start in range(0, len(indices), batch):  # the last, shorter batch too (drop_last = False)
            chunk = indices[start:start + batch]
            half = len(chunk) // 2
            assert len(chunk) % 2 == 0 and half >= 2
            assert all(i < n_source for i in chunk[:half]) and all(i >= n_source for i in chunk[half:])
    seen = {i for indices in per_rank for i in indices}
    if n_target >= n_source:
        assert set(range(n_source, n_source + n_target)) <= seen
    if n_source >= n_target:
        assert set(range(n_source)) <= seen
    # both ranks deal from one global order: re-interleaving them gives back that order's blocks
    again = CrossDomainSampler(n_source, n_source + n_target, batch, seed=3, rank=0, world_size=world)
    assert again.indices(epoch=1) == per_rank[0] and again.indices(epoch=2) != per_rank[0]


def test_sampler_needs_an_even_batch_and_both_domains() -> None:
    with pytest.raises(ValueError, match="even"):
        CrossDomainSampler(4, 8, 3)
    with pytest.raises(ValueError, match="source and target"):
        CrossDomainSampler(0, 8, 4)


# -- 8.5 memory ----------------------------------------------------------------------------------------
def _memory() -> ExemplarMemory:
    memory = ExemplarMemory(6, 4, [0, 0, 1, 1, 2, 2])
    memory.memory.copy_(F.normalize(torch.randn(6, 4, generator=torch.Generator().manual_seed(1)), dim=1))
    return memory


def test_memory_forward_backward_and_update() -> None:
    memory = _memory()
    f = F.normalize(torch.randn(2, 4, generator=torch.Generator().manual_seed(2)), dim=1).requires_grad_()
    sims = memory.similarities(f)
    assert torch.allclose(sims, f.detach() @ memory.memory.t())
    grad = torch.randn(2, 6, generator=torch.Generator().manual_seed(3))
    sims.backward(grad)
    assert torch.allclose(f.grad, grad @ memory.memory, atol=1e-6)
    before = memory.memory.clone()
    memory.update(f.detach(), torch.tensor([1, 4]), momentum=0.0)
    assert torch.allclose(memory.memory[[1, 4]], f.detach(), atol=1e-6)  # m = 0: the row is f
    memory.update(f.detach()[1:], torch.tensor([2]), momentum=0.6)
    expected = F.normalize(0.6 * before[2] + 0.4 * f.detach()[1], dim=0)
    assert torch.allclose(memory.memory[2], expected, atol=1e-6)
    assert torch.allclose(memory.memory[[1, 2, 4]].norm(dim=1), torch.ones(3), atol=1e-6)
    assert torch.equal(memory.memory[[0, 3, 5]], before[[0, 3, 5]])  # no other row changed
    assert "memory" in dict(memory.named_buffers()) and not list(memory.parameters())


def test_memory_keeps_the_last_of_repeated_indices() -> None:
    memory = _memory()
    f = F.normalize(torch.randn(3, 4, generator=torch.Generator().manual_seed(4)), dim=1)
    memory.update(f, torch.tensor([5, 0, 5]), momentum=0.0)
    assert torch.allclose(memory.memory[5], f[2], atol=1e-6) and torch.allclose(memory.memory[0], f[1], atol=1e-6)


# -- 8.6 / 8.7 masks and neighbour sets ------------------------------------------------------------------
def test_masks_partition_every_row() -> None:
    memory = _memory()
    instance, intra, inter = camera_masks(memory.cameras, torch.tensor([1, 2]), torch.tensor([3, 4]))
    assert torch.equal(intra.int() + inter.int(), torch.ones(2, 6, dtype=torch.int))
    assert bool((instance <= intra).all()) and instance.sum() == 2
    assert sorted(memory.cameras.tolist()) == [0, 0, 1, 1, 2, 2]  # cam2uid: every item once


def test_neighbour_sets() -> None:
    gen = torch.Generator().manual_seed(5)
    cams = torch.arange(30) % 3
    sims = torch.rand(4, 30, generator=gen) * 2 - 1
    rows, own = torch.tensor([0, 1, 2, 3]), torch.tensor([0, 1, 2, 0])
    instance, intra, inter = camera_masks(cams, own, rows)
    intra_nb = neighbour_mask(sims, intra & ~instance, 0.8)
    inter_nb = neighbour_mask(sims, inter, 0.8)
    assert not (intra_nb & instance).any() and bool((intra_nb <= intra).all()) and bool((inter_nb <= inter).all())
    for mask, region in ((intra_nb, intra & ~instance), (inter_nb, inter)):
        best = sims.masked_fill(~region, -9).max(dim=1).values
        assert bool(mask.any(dim=1).all())
        for i in range(4):
            if best[i] > 0:
                assert bool((sims[i][mask[i]] > 0.8 * best[i]).all())
    # every similarity negative: the guard keeps the nearest candidate instead of an empty set (NaN)
    negative = -torch.rand(1, 30, generator=gen) - 0.1
    guarded = neighbour_mask(negative, inter[:1], 0.8)
    assert guarded.sum() == 1 and guarded[0, negative[0].masked_fill(~inter[0], -9).argmax()]
    loss = inter_camera_loss(negative, inter[:1], scale=10, eps=0.8)
    assert torch.isfinite(loss)


def test_intra_softmax_is_over_the_same_camera_only() -> None:
    gen = torch.Generator().manual_seed(6)
    cams = torch.arange(12) % 3
    sims = (torch.rand(2, 12, generator=gen) * 2 - 1).requires_grad_()
    instance, intra, inter = camera_masks(cams, torch.tensor([0, 1]), torch.tensor([0, 1]))
    from reid_plugin_camera_mixup.losses import _masked_log_prob

    prob = _masked_log_prob(sims.detach(), intra, 10.0).exp() * intra
    assert torch.allclose(prob.sum(dim=1), torch.ones(2), atol=1e-5)
    loss = intra_camera_loss(sims, instance, intra, scale=10.0, eps=0.8)
    # by hand: neighbours among same-camera others, plus the exemplar term
    expected = 0.0
    for i in range(2):
        region = intra[i]
        logp = torch.log_softmax(10 * sims[i][region], dim=0).clamp_min(math.log(1e-5))
        full = torch.full((12,), 0.0)
        full[region] = logp.detach()
        others = region & ~instance[i]
        best = sims[i].detach()[others].max()
        nb = others & (sims[i].detach() > 0.8 * best)
        expected += -full[nb].mean() - full[instance[i]].sum()
    assert loss.item() == pytest.approx(expected.item() / 2, rel=1e-5)
    loss.backward()
    assert torch.all(sims.grad[inter] == 0)  # other cameras take no part


# -- 8.8 schedule ------------------------------------------------------------------------------------------
def test_schedule() -> None:
    s = Schedule()
    assert [s.weights(e) for e in (1, 10, 11, 30, 31, 70)] == [(0, 0), (0, 0), (1, 0), (1, 0), (1, 0.5), (1, 0.5)]
    assert not s.mixing(1) and s.mixing(2) and not s.mixing(2, enabled=False)
    assert s.memory_momentum(1) == 0.0 and s.memory_momentum(2) == 0.6


# -- 8.9 mixup ---------------------------------------------------------------------------------------------
def test_mixup_logits_and_loss() -> None:
    gen = torch.Generator().manual_seed(7)
    xs, xt = torch.rand(2, 3, 4, 2, generator=gen), torch.rand(2, 3, 4, 2, generator=gen)
    assert torch.allclose(mix_images(xs, xt, 0.3), 0.3 * xs + 0.7 * xt)
    z = torch.randn(3, 5, generator=gen, requires_grad=True)
    weight = torch.randn(4, 5, generator=gen, requires_grad=True)
    agents = F.normalize(torch.randn(3, 5, generator=gen), dim=1).requires_grad_()
    labels = torch.tensor([0, 3, 1])
    logits = mixup_logits(z, weight, agents, labels)
    assert logits.shape == (3, 5)
    virtual = (z * agents).sum(1) * weight[labels].norm(dim=1)
    assert torch.allclose(logits[:, -1], virtual, atol=1e-6)
    assert mixup_loss(logits, labels, 1.0).item() == pytest.approx(F.cross_entropy(logits, labels).item())
    assert mixup_loss(logits, labels, 0.0).item() == pytest.approx(
        F.cross_entropy(logits, torch.full_like(labels, 4)).item())
    mixup_loss(logits, labels, 0.4).backward()
    assert agents.grad is None  # the memory rows get no gradient
    # the norm ||W_y|| is not differentiated: W's gradient is that of the C linear logits only
    expected_w = torch.autograd.grad(
        mixup_loss(torch.cat([F.linear(z, weight), logits[:, -1:].detach()], 1), labels, 0.4), weight)[0]
    assert torch.allclose(weight.grad, expected_w, atol=1e-6)


# -- 8.10 / 8.11 network ----------------------------------------------------------------------------------
class _Flat(torch.nn.Module):
    out_channels = 6

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 6, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def test_bn_neck_running_stats_follow_the_target_half_only() -> None:
    torch.manual_seed(0)
    net = CameraMixupNet(_Flat(), num_classes=3)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    target = torch.randn(4, 3, 2, 2)
    stats = []
    for seed in (1, 2):
        net.load_state_dict(state)
        first = torch.randn(4, 3, 2, 2, generator=torch.Generator().manual_seed(seed)) * seed
        z_first, z_target = net(torch.cat([first, target]), split=4)
        stats.append((net.bn_neck.running_mean.clone(), net.bn_neck.running_var.clone()))
        assert torch.allclose(z_first.mean(0), net.bn_neck.bias.detach(), atol=1e-5)  # batch statistics
        optimizer = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.1)
        (z_first.pow(2).sum() + z_target.sum()).backward()
        optimizer.step()
        assert torch.equal(net.bn_neck.bias, torch.zeros(6))
    assert torch.equal(stats[0][0], stats[1][0]) and torch.equal(stats[0][1], stats[1][1])
    assert net.classifier.bias is None
    net.eval()
    z, none = net(target)
    assert none is None and torch.allclose(z, net.bn_neck(net.pooled(target)))


def test_resnet50_last_stride_one_gives_a_16x8_map_and_2048_features() -> None:
    from reid_core.models import build_backbone

    backbone = build_backbone("resnet50", pretrained="none", last_stride=1)
    net = CameraMixupNet(backbone, num_classes=2).eval()
    with torch.no_grad():
        fmap = backbone(torch.zeros(1, 3, 256, 128))
        z, _ = net(torch.zeros(1, 3, 256, 128))
    assert fmap.shape[-2:] == (16, 8) and z.shape == (1, 2048)


# -- 8.12 evaluation ----------------------------------------------------------------------------------------
def _labels(pids: list[int], cams: list[int]) -> SplitLabels:
    return SplitLabels(pids=np.array(pids), camids=np.array(cams))


def test_trapezoid_ap_hand_computed_cases() -> None:
    evaluator = market_trapezoid()
    # good items at ranks 1 and 3 (no junk): AP = 0.5 * (1 + 1) / 2 + 0.5 * (1/2 + 2/3) / 2 = 0.7917
    q, g = np.array([[0.0]]), np.array([[0.1], [0.2], [0.3], [0.4]])
    result = evaluator.evaluate(q, g, _labels([1], [0]), _labels([1, 2, 1, 3], [1, 1, 1, 1]))
    assert result["mAP"] == pytest.approx(100 * (0.5 + 0.5 * (1 / 2 + 2 / 3) / 2), abs=1e-6)
    assert result["mAP"] == pytest.approx(79.1667, abs=1e-3)
    plain = get_registry("evaluators").create("market")
    assert plain.evaluate(q, g, _labels([1], [0]), _labels([1, 2, 1, 3], [1, 1, 1, 1]))["mAP"] == pytest.approx(
        100 * (1 + 2 / 3) / 2)
    # the only good item at rank 2 behind a same-camera junk item: AP = 1 and rank-1 = 1
    junk = evaluator.evaluate(q, g[:3], _labels([1], [0]), _labels([1, 1, 4], [0, 1, 1]))
    assert junk["mAP"] == pytest.approx(100.0) and junk["rank1"] == 100.0
    # a pid-0 distractor ranked first counts as a negative
    distractor = evaluator.evaluate(q, g[:2], _labels([1], [0]), _labels([0, 1], [1, 1]))
    assert distractor["rank1"] == 0.0 and distractor["mAP"] == pytest.approx(100 * (0.5 * (0.5 + 0.5) / 2))
    with pytest.raises(EvaluationError, match="trapezoid"):
        market_trapezoid(ap="non-interpolated")


# -- 8.13 optimiser -------------------------------------------------------------------------------------------
def test_optimizer_groups_and_schedule(tmp_path: Any) -> None:
    from reid_plugin_camera_mixup.method import CameraMixup

    from reid_core.config import resolve, run_config_class
    from reid_core.data import Sample
    from reid_core.datasets import CrossDomainDataset, ReidDataset
    from reid_core.engine.context import RunContext
    from reid_core.engine.distributed import DistInfo

    src = [Sample(f"/s/{i}.png", i % 3, i % 2) for i in range(6)]
    tgt = [Sample(f"/t/{i}.png", 50 + i, i % 3) for i in range(9)]
    data = CrossDomainDataset(ReidDataset(src, [], []), ReidDataset(tgt, tgt[:2], tgt[2:]),
                              source_name="s", target_name="t")
    cls = run_config_class("camera-mixup", CameraMixup.config_class)
    config = resolve(cls, {"camera_mixup": {"backbone": "resnet18", "pretrained": "none", "width": 8}})
    method = CameraMixup(config, RunContext(config, data, DistInfo(), tmp_path))
    method.setup_stage(method.stages()[0])
    optimizer = method.optimizers()["sgd"]
    lrs = [g["lr"] for g in optimizer.param_groups]
    assert lrs == [0.01, 0.05]
    assert all(g["momentum"] == 0.9 and g["weight_decay"] == 5e-4 for g in optimizer.param_groups)
    params = {id(p) for g in optimizer.param_groups for p in g["params"]}
    assert id(method.memory.memory) not in params and id(method.model.bn_neck.bias) not in params
    assert len(optimizer.param_groups[1]["params"]) == 2  # BN-neck weight and classifier
    scheduler = method.schedulers()["sgd"]
    for _ in range(60):
        optimizer.step()
        scheduler.step()
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.001, 0.005])  # epoch 61 on
    assert method.memory.memory.shape == (9, 512 // 8) and method.memory.cameras.tolist() == [0, 1, 2] * 3
    assert [s.key for s in data.evaluations] == ["market", "market-trapezoid"]

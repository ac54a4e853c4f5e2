"""Shapes and invariants of AIM's networks (shared/methods/aim.md section 9)."""

from __future__ import annotations

import pytest
import torch
from reid_plugin_aim.model import Fusion, IDBranch, NormalizedClassifier, PyramidHead, identity_classifier
from torch import nn

from reid_core.models import build_backbone, build_pooling


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_id_branch_resnet50_gives_a_24x12_map_and_a_4096_feature() -> None:
    backbone = build_backbone("resnet50", pretrained="none", last_stride=1)
    assert backbone.layer4[0].conv2.stride == (1, 1)
    assert backbone.layer4[0].downsample[0].stride == (1, 1)
    branch = IDBranch(backbone, build_pooling("maxavg")).eval()
    with torch.no_grad():
        fmap, f = branch(torch.randn(2, 3, 384, 192))
    assert fmap.shape == (2, 2048, 24, 12)
    assert f.shape == (2, 4096)
    assert branch.bn.bias.abs().sum() == 0 and branch.bn.bias.requires_grad
    assert branch.bn.weight.std().item() == pytest.approx(0.02, rel=0.15)


def test_id_branch_pools_max_then_avg_before_the_bn_neck() -> None:
    backbone = build_backbone("resnet18", pretrained="none", last_stride=1, width=8)
    branch = IDBranch(backbone, build_pooling("maxavg")).eval()
    with torch.no_grad():
        nn.init.ones_(branch.bn.weight)  # BN neck as identity (eval, running mean 0 / var 1)
        fmap, f = branch(torch.randn(2, 3, 64, 32))
    c = backbone.out_channels
    scale = (1 + branch.bn.eps) ** 0.5
    torch.testing.assert_close(f[:, :c] * scale, fmap.amax(dim=(2, 3)))
    torch.testing.assert_close(f[:, c:] * scale, fmap.mean(dim=(2, 3)))


def test_pyramid_head_has_15_parts_of_256_and_a_4096_output() -> None:
    head = PyramidHead(2048, part_dim=256, out_dim=4096)
    fmap = torch.randn(2, 2048, 24, 12)
    assert head.num_parts == 15
    assert head.part_features(fmap).shape == (2, 3840)
    assert head.linear.in_features == 3840
    assert head(fmap).shape == (2, 4096)


def test_pyramid_stripes_are_max_over_12_6_3_rows_in_top_to_bottom_order() -> None:
    head = PyramidHead(4, part_dim=8, out_dim=16)
    fmap = torch.randn(2, 4, 24, 12)
    parts = head.stripes(fmap)
    expected = []
    for n in (1, 2, 4, 8):
        rows = 24 // n
        assert rows in (24, 12, 6, 3)
        for i in range(n):
            expected.append(fmap[:, :, i * rows : (i + 1) * rows, :].amax(dim=(2, 3), keepdim=True))
    assert len(parts) == 15
    for got, want in zip(parts, expected):
        torch.testing.assert_close(got, want)


def test_pyramid_head_init_matches_the_official_one() -> None:
    head = PyramidHead(64, part_dim=256, out_dim=512)
    conv_std = torch.cat([b[0].weight.flatten() for b in head.parts]).std().item()
    assert conv_std == pytest.approx((2 / 256) ** 0.5, rel=0.05)
    assert head.linear.bias is None
    assert head.linear.weight.std().item() == pytest.approx(0.001, rel=0.05)
    assert head.bn.weight.mean().item() == pytest.approx(1.0, abs=0.01)
    assert head.bn.weight.std().item() == pytest.approx(0.02, rel=0.1)
    assert head.bn.bias.abs().sum().item() == 0


def test_fusion_output_shape_and_no_gradient_into_the_clothing_map() -> None:
    fuse = Fusion(512, out_dim=4096, num_maps=8)
    assert fuse.linear.in_features == 8 * 512 and fuse.linear.bias is None
    assert fuse.attention[1].eps == pytest.approx(1e-3)
    fmap = torch.rand(3, 512, 6, 4, requires_grad=True)
    clothing_map = torch.rand(3, 512, 6, 4, requires_grad=True)
    out = fuse(fmap, clothing_map)
    assert out.shape == (3, 4096)
    out.pow(2).sum().backward()
    assert clothing_map.grad is None or clothing_map.grad.abs().sum() == 0
    assert fmap.grad is not None and fmap.grad.abs().sum() > 0


def test_fusion_pool_is_mean_of_attention_times_map_signed_sqrt_l2() -> None:
    attention = torch.rand(2, 3, 4, 5)
    fmap = torch.randn(2, 6, 4, 5)
    pooled = Fusion.pool(attention, fmap)
    raw = torch.stack(
        [torch.stack([(attention[:, m] * fmap[:, n]).mean(dim=(1, 2)) for n in range(6)], 1) for m in range(3)], 1
    ).reshape(2, -1)
    ref = torch.sign(raw) * torch.sqrt(raw.abs() + 1e-12)
    ref = ref / ref.norm(dim=1, keepdim=True)
    torch.testing.assert_close(pooled, ref)
    assert pooled.norm(dim=1).sub(1).abs().max() < 1e-5


def test_fusion_with_zero_attention_is_zero_before_the_linear_and_never_nan() -> None:
    fuse = Fusion(16, out_dim=32, num_maps=8)
    nn.init.zeros_(fuse.attention[0].weight)
    fmap = torch.randn(4, 16, 6, 3, requires_grad=True)
    pooled = Fusion.pool(fuse.attention(torch.randn(4, 16, 6, 3)), fmap)
    assert torch.count_nonzero(pooled) == 0
    out = fuse(fmap, torch.randn(4, 16, 6, 3))
    out.sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(fmap.grad).all()


def test_shared_identity_classifier_bias_cancels_in_the_intervention_logits() -> None:
    classifier = identity_classifier(64, 10)
    nn.init.normal_(classifier.bias)  # a trained, non-zero bias
    f, h = torch.randn(5, 64), torch.randn(5, 64)
    torch.testing.assert_close(classifier(f) - classifier(h), (f - h) @ classifier.weight.T, rtol=1e-5, atol=1e-6)


def test_identity_classifier_init() -> None:
    classifier = identity_classifier(512, 100)
    assert classifier.bias is not None and classifier.bias.abs().sum() == 0
    assert classifier.weight.std().item() == pytest.approx(0.001, rel=0.05)


def test_normalized_classifier_has_unit_rows_and_cosine_outputs() -> None:
    classifier = NormalizedClassifier(128, 7)
    norms = classifier.weight.detach().norm(dim=1)
    assert torch.allclose(norms, torch.ones(7), atol=1e-4)
    x = torch.randn(9, 128) * 50
    out = classifier(x)
    assert out.shape == (9, 7)
    assert out.min() >= -1 - 1e-6 and out.max() <= 1 + 1e-6
    torch.testing.assert_close(out[0, 0], torch.cosine_similarity(x[0], classifier.weight[0], dim=0))

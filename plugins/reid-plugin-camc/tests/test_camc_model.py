"""The invariants of the CAMC network (``shared/methods/camc.md`` section 7, items 1-9)."""

from __future__ import annotations

import pytest
import torch
from reid_plugin_camc.heatmaps import merge_face, render_heatmaps
from reid_plugin_camc.model import (
    CAMCModel,
    CoAttentionGate,
    MutualCrossAttention,
    PatchEmbed,
    ShapeSemanticsEmbedding,
    attend,
    attention_logits,
)
from torch import nn

from reid_core.models import build_backbone

D = 2048


def _count(module: nn.Module, trainable: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable)


@pytest.fixture(scope="module")
def resnet50() -> nn.Module:
    """ResNet-50 (last stride 1) on the meta device: shapes without computing anything."""
    with torch.device("meta"):
        return build_backbone("resnet50", pretrained="none", last_stride=1)


@pytest.fixture(scope="module")
def full_model() -> CAMCModel:
    """The full-size network on the meta device: shapes and counts without the 64M-value init."""
    with torch.device("meta"):
        return CAMCModel(build_backbone("resnet50", pretrained="none", last_stride=1), num_classes=632)


def _small(num_classes: int = 5) -> CAMCModel:
    torch.manual_seed(0)
    return CAMCModel(build_backbone("resnet18", pretrained="none", last_stride=1, width=8), num_classes)


def test_1_backbone_tokens_at_256x128(resnet50: nn.Module) -> None:
    model = _small()
    model.backbone = resnet50.eval()  # appearance_tokens only uses the backbone
    images = torch.randn(1, 3, 256, 128, device="meta")
    assert resnet50(images).shape == (1, D, 16, 8) and model.appearance_tokens(images).shape == (1, 128, D)
    small = _small().eval()
    with torch.no_grad():
        real = torch.randn(1, 3, 256, 128)
        fmap, tokens = small.backbone(real), small.appearance_tokens(real)
    torch.testing.assert_close(tokens[0, 3 * 8 + 5], fmap[0, :, 3, 5])  # row-major: token t = cell (t // 8, t % 8)


def test_2_face_merge_17_to_13() -> None:
    heat = torch.randn(2, 17, 64, 32)
    out = merge_face(heat)
    assert out.shape == (2, 13, 64, 32)
    assert torch.equal(out[:, 0], heat[:, :5].max(dim=1).values)
    assert torch.equal(out[:, 1:], heat[:, 5:])


def test_3_patch_embed_grid_is_row_major_and_non_negative() -> None:
    torch.manual_seed(0)
    embed = PatchEmbed(64)
    heat = torch.zeros(1, 13, 64, 32)
    heat[0, 3, 4 * 5 + 1, 4 * 6 + 2] = 50.0  # inside the patch of row 5, column 6
    tokens = embed(heat)
    assert tokens.shape == (1, 128, 64) and (tokens >= 0).all()
    changed = (tokens[0] - embed(torch.zeros(1, 13, 64, 32))[0]).abs().sum(dim=1)
    assert changed.nonzero().flatten().tolist() == [5 * 8 + 6]
    std = embed.proj.weight.std().item()
    assert std == pytest.approx((2.0 / (16 * 64)) ** 0.5, rel=0.1)


def test_4_sse_shape_normalised_output_no_bias_no_projection() -> None:
    torch.manual_seed(0)
    sse = ShapeSemanticsEmbedding(256, heads=32)
    out = sse(torch.relu(torch.randn(2, 128, 256)))
    assert out.shape == (2, 128, 256)
    torch.testing.assert_close(out.mean(-1), torch.zeros(2, 128), atol=1e-4, rtol=0)
    torch.testing.assert_close(out.var(-1, unbiased=False), torch.ones(2, 128), atol=1e-3, rtol=0)
    assert sse.w_q.bias is None and sse.w_k.bias is None and sse.w_v.bias is None
    linears = [n for n, m in sse.named_modules() if isinstance(m, nn.Linear)]
    assert sorted(linears) == ["fc1", "fc2", "w_k", "w_q", "w_v"]  # no output projection
    assert (sse.fc1.in_features, sse.fc1.out_features) == (256, 512)
    assert sse.norm1.eps == sse.norm2.eps == 1e-6


def test_5_gate_in_unit_interval_residual_scaling_and_param_count() -> None:
    torch.manual_seed(0)
    gate = CoAttentionGate(256)
    f_a, f_s = torch.randn(2, 128, 256), torch.randn(2, 128, 256)
    g = gate.gate(f_a, f_s)
    assert ((g > 0) & (g < 1)).all()
    p, s = gate(f_a, f_s)
    ratio_p, ratio_s = p / f_a, s / f_s
    assert ((ratio_p > 1 - 1e-6) & (ratio_p < 2 + 1e-6)).all() and ((ratio_s > 1 - 1e-6) & (ratio_s < 2 + 1e-6)).all()
    assert _count(CoAttentionGate(D)) == 8_393_728
    assert gate.fc1.out_features == 128 and gate.fc1.bias.abs().sum() == 0


def test_6_mutual_cross_attention() -> None:
    torch.manual_seed(0)
    mca = MutualCrossAttention(256, heads=32)
    p, s = torch.randn(2, 128, 256), torch.randn(2, 128, 256)
    ps, sp = attention_logits(p, s, 32), attention_logits(s, p, 32)
    torch.testing.assert_close(sp, ps.transpose(-1, -2), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ps.softmax(-1).sum(-1), torch.ones(2, 32, 128), rtol=0, atol=1e-5)
    assert _count(MutualCrossAttention(D)) == 8_192
    z_p, z_s = mca(p, p.clone())
    torch.testing.assert_close(z_p, z_s)
    explicit = torch.matmul(ps.softmax(-1), s.reshape(2, 128, 32, 8).transpose(1, 2)).transpose(1, 2).flatten(2)
    torch.testing.assert_close(attend(p, s, s, 32), explicit, rtol=1e-4, atol=1e-5)  # the fused kernel


def test_7_no_positional_encoding_permutation() -> None:
    model = _small().eval()
    f_a, f_s = torch.randn(2, 128, 64), torch.randn(2, 128, 64)
    perm = torch.randperm(128)
    with torch.no_grad():
        p, s = model.co_attention(f_a, f_s)
        z_p, z_s = model.cross_attention(p, s)
        pp, ss = model.co_attention(f_a[:, perm], f_s[:, perm])
        zp2, zs2 = model.cross_attention(pp, ss)
        torch.testing.assert_close(zp2, z_p[:, perm], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(zs2, z_s[:, perm], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(model.fuse(f_a[:, perm], f_s[:, perm]), model.fuse(f_a, f_s), rtol=1e-4, atol=1e-5)
        shape = model.sse(f_s)
        torch.testing.assert_close(model.sse(f_s[:, perm]), shape[:, perm], rtol=1e-4, atol=1e-5)


def test_8_output_contract_and_frozen_bn_bias() -> None:
    model = _small(num_classes=5)
    images = torch.randn(4, 3, 256, 128)
    heat = merge_face(render_heatmaps(torch.rand(4, 17, 3) * torch.tensor([128.0, 256.0, 2.0]), 256, 128))
    model.train()
    logits = model(images, heat)
    assert logits.shape == (4, 5)
    assert model.bottleneck.bias.requires_grad is False and model.classifier.bias is None
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.1, weight_decay=5e-4)
    for _ in range(2):
        torch.nn.functional.cross_entropy(model(images, heat), torch.arange(4)).backward()
        optimizer.step()
        optimizer.zero_grad()
    assert torch.equal(model.bottleneck.bias, torch.zeros(128))
    model.eval()
    with torch.no_grad():
        assert model(images, heat).shape == (4, 128)
    with pytest.raises(ValueError, match="256x128"):
        model.fuse(torch.randn(1, 128, 64), torch.randn(1, 32, 64))


def test_9_parameter_counts_of_section_1_8(full_model: CAMCModel, resnet50: nn.Module) -> None:
    assert _count(resnet50) == 23_508_032
    assert _count(full_model.patch_embed) == 428_032
    assert _count(full_model.sse) == 29_374_464
    assert _count(full_model.co_attention) == 8_393_728
    assert _count(full_model.cross_attention) == 8_192
    assert _count(full_model.bottleneck) == 8_192
    assert _count(full_model.classifier) == 2_588_672
    assert _count(full_model) == 64_309_312
    assert _count(full_model, trainable=True) == 64_305_216
    assert not any(k.startswith(("pose", "stage", "transition", "final_layer")) for k in full_model.state_dict())


def test_9_init_of_bnneck_and_classifier() -> None:
    model = CAMCModel(build_backbone("resnet18", pretrained="none", last_stride=1, width=64), num_classes=300)
    assert model.bottleneck.weight.mean().item() == pytest.approx(1.0, abs=0.005)
    assert model.bottleneck.weight.std().item() == pytest.approx(0.02, rel=0.1)
    assert model.classifier.weight.std().item() == pytest.approx(0.001, rel=0.05)
    assert model.sse.w_q.weight.std().item() == pytest.approx(0.01, rel=0.05)

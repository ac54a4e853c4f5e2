"""The seed's network: shapes, train/eval outputs, the quirks and the ImageNet loading (spec section 7)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from reid_plugin_ivreid.model import IVReIDModel, ModalityHeads, add_conv_biases, apply_seed_quirks
from torch import nn

from reid_core.models import build_backbone


def test_last_stride_map_size_and_width() -> None:
    # 384 x 128 input: 24 x 8 with last stride 1, 12 x 4 with 2 (a thin ResNet-50 keeps it fast)
    x = torch.randn(2, 3, 384, 128)
    for stride, size in ((1, (24, 8)), (2, (12, 4))):
        net = build_backbone("resnet50", last_stride=stride, width=8).eval()
        with torch.no_grad():
            assert tuple(net(x).shape) == (2, 256, *size)
    assert build_backbone("resnet50").out_channels == 2048


def test_train_and_eval_outputs() -> None:
    torch.manual_seed(0)
    model = IVReIDModel(build_backbone("resnet18", width=8), num_classes=7)
    x = torch.randn(6, 3, 32, 16)
    logits, f_bn = model(x)
    assert logits.shape == (6, 7) and f_bn.shape == (6, 64)
    assert model.share_classifier.bias is not None and torch.all(model.share_classifier.bias == 0)
    assert model.bottleneck.bias.requires_grad  # trainable BN bias (the anchor freezes it)
    model.eval()
    with torch.no_grad():
        f_bn, f = model(x)
        pooled = model.base(x).mean(dim=(2, 3))
        expected = model.bottleneck(pooled)  # eval: running statistics
    assert f.shape == f_bn.shape == (6, 64)
    torch.testing.assert_close(f, pooled)
    torch.testing.assert_close(f_bn, expected)


def test_modality_heads_return_four_outputs() -> None:
    heads = ModalityHeads(64, 9, hidden=16)
    outs = heads(torch.randn(5, 64))
    assert [tuple(o.shape) for o in outs] == [(5, 9), (5, 16), (5, 9), (5, 16)]


def test_seed_quirks_stem_and_biases() -> None:
    net = build_backbone("resnet18", width=8)
    convs = sum(isinstance(m, nn.Conv2d) for m in net.modules())
    assert add_conv_biases(net) == convs and add_conv_biases(net) == 0
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            bound = 1 / (m.in_channels * m.kernel_size[0] * m.kernel_size[1]) ** 0.5
            assert m.bias is not None and float(m.bias.detach().abs().max()) <= bound
    plain = build_backbone("resnet18", width=8)
    apply_seed_quirks(plain, stem_relu=False, conv_bias=False)
    assert isinstance(plain.relu, nn.Identity)
    with torch.no_grad():
        assert float(plain.bn1(plain.conv1(torch.randn(2, 3, 32, 16))).min()) < 0  # nothing clips it any more


def test_pretrained_load_then_quirks(tmp_path: Path) -> None:
    """Every same-named checkpoint tensor is loaded (fc skipped) and the conv biases keep their defaults."""
    from reid_plugin_ivreid.config import IVReIDConfig
    from reid_plugin_ivreid.method import IVReID

    source = build_backbone("resnet18", width=8)
    state = {k: torch.randn_like(v) if v.is_floating_point() else v for k, v in source.state_dict().items()}
    state["fc.weight"], state["fc.bias"] = torch.randn(10, 64), torch.randn(10)
    path = tmp_path / "fake-imagenet.pth"
    torch.save(state, path)
    cfg = IVReIDConfig(backbone="resnet18", width=8, pretrained=str(path), stem_relu=False, conv_bias=True)
    method = IVReID.__new__(IVReID)
    method.cfg = cfg
    model = method.build_model(num_classes=4)
    own = model.state_dict()
    for key, value in state.items():
        if key.startswith("fc."):
            assert f"base.{key}" not in own
            continue
        torch.testing.assert_close(own[f"base.{key}"], value)
    biases = [k for k in own if k.startswith("base.") and k[len("base."):] not in state]
    assert biases and all(k.endswith(".bias") and ("conv" in k or "downsample.0" in k) for k in biases)


@pytest.mark.parametrize("stem_relu", [True, False])
def test_quirks_need_a_resnet(stem_relu: bool) -> None:
    class NoStem(nn.Module):
        out_channels = 4

    if stem_relu:
        assert isinstance(apply_seed_quirks(NoStem(), stem_relu=True, conv_bias=False), NoStem)
    else:
        with pytest.raises(ValueError, match="stem ReLU"):
            apply_seed_quirks(NoStem(), stem_relu=False, conv_bias=False)

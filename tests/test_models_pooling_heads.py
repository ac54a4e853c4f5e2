"""Pooling (avg, max, maxavg, GeM) and the BNNeck head."""

from __future__ import annotations

import pytest
import torch

from reid_core.models import BNNeck, GeM, build_pooling


def test_avg_max_maxavg() -> None:
    x = torch.rand(2, 3, 4, 2)
    assert torch.allclose(build_pooling("avg")(x), x.mean(dim=(2, 3)))
    assert torch.equal(build_pooling("max")(x), x.flatten(2).max(dim=2).values)
    both = build_pooling("maxavg")(x)
    assert both.shape == (2, 6) and build_pooling("maxavg").out_multiplier == 2
    assert torch.equal(both[:, :3], x.flatten(2).max(dim=2).values)
    assert torch.allclose(both[:, 3:], x.mean(dim=(2, 3)))


def test_gem_p1_is_avg_and_large_p_tends_to_max() -> None:
    x = torch.rand(2, 3, 4, 2) + 0.1
    gem = build_pooling("gem")
    assert isinstance(gem, GeM) and gem.p.requires_grad and float(gem.p.detach()) == 3.0 and gem.eps == 1e-6
    with torch.no_grad():
        gem.p.fill_(1.0)
    assert torch.allclose(gem(x), x.mean(dim=(2, 3)), atol=1e-6)
    big = GeM(p=60.0, learnable=False)
    assert torch.allclose(big(x), x.amax(dim=(2, 3)), rtol=0.05)
    gem.p.data.fill_(3.0)
    gem(torch.rand(2, 3, 4, 2)).sum().backward()
    assert gem.p.grad is not None


def test_gem_clamps_negative_inputs() -> None:
    out = GeM()(-torch.ones(1, 2, 2, 2))
    assert torch.isfinite(out).all() and torch.allclose(out, torch.full((1, 2), 1e-6), rtol=1e-3)


def test_unknown_pooling() -> None:
    with pytest.raises(ValueError, match="gem"):
        build_pooling("median")


def test_bnneck_outputs_and_init() -> None:
    neck = BNNeck(8, num_classes=5)
    f_bn, logits = neck(torch.randn(4, 8))
    assert f_bn.shape == (4, 8) and logits.shape == (4, 5)
    assert not neck.bn.bias.requires_grad and torch.equal(neck.bn.weight, torch.ones(8))
    assert neck.classifier.bias is None
    assert float(neck.classifier.weight.detach().std()) < 0.01
    no_cls = BNNeck(8)
    f_bn, logits = no_cls.eval()(torch.randn(4, 8))
    assert logits is None and f_bn.shape == (4, 8)
    cal = BNNeck(8, bias_frozen=False, bn_weight_std=0.02)
    assert cal.bn.bias.requires_grad and not torch.equal(cal.bn.weight, torch.ones(8))

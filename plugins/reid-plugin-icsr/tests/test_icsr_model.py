"""The ICSR network head (icsr.md §13.9 a, c, d): unit-norm features in both modes, GeM p, frozen BN bias."""

from __future__ import annotations

import torch
from reid_plugin_icsr.model import ICSRNet


def test_unit_norm_features_in_train_and_eval_mode() -> None:
    torch.manual_seed(0)
    net = ICSRNet("resnet18", pretrained="none", width=8)
    x = torch.randn(3, 3, 32, 16)
    for mode in (True, False):
        net.train(mode)
        out = net(x)
        assert out.shape == (3, net.out_dim)
        assert torch.allclose(out.norm(dim=1), torch.ones(3), atol=1e-5)


def test_gem_p_trainable_and_bn_bias_frozen() -> None:
    net = ICSRNet("resnet18", pretrained="none", width=8)
    assert net.pool.p.requires_grad and float(net.pool.p.detach()) == 3.0
    assert not net.neck.bn.bias.requires_grad
    assert net.neck.classifier is None
    trainable = {name for name, p in net.named_parameters() if p.requires_grad}
    assert "neck.bn.bias" not in trainable and "pool.p" in trainable

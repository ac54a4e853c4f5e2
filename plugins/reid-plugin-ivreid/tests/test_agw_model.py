"""AGW's network: each image through its own modality stem, non-local placement and init, the head."""

from __future__ import annotations

import torch
from reid_plugin_ivreid.agw import agw_schedule
from reid_plugin_ivreid.agw_model import AGWModel, NonLocal

from reid_core.models import build_backbone


def _model(non_local: bool = True) -> AGWModel:
    torch.manual_seed(0)
    nets = [build_backbone("resnet50", width=8) for _ in range(3)]
    return AGWModel(*nets, num_classes=5, non_local=non_local)


def test_stems_follow_the_modality_whatever_the_batch() -> None:
    model = _model().eval()
    x = torch.randn(4, 3, 32, 16)
    modality = torch.tensor([1, 0, 1, 0])
    with torch.no_grad():
        _, mixed, _ = model(x, modality)
        _, alone, _ = model(x[:1], modality[:1])
        _, swapped, _ = model(x, 1 - modality)
    torch.testing.assert_close(mixed[:1], alone)  # the same image, the same stem, alone or in a mixed batch
    assert not torch.allclose(mixed, swapped)  # the other stem gives another feature


def test_non_local_placement_identity_init_and_head() -> None:
    model = _model()
    assert [sorted(s) for s in model.non_local_after] == [[], [2, 3], [3, 4, 5], []]  # last 2 of layer2, 3 of layer3
    block = NonLocal(16)
    x = torch.randn(2, 16, 6, 4)
    torch.testing.assert_close(block(x), x)  # the output BN starts at zero: a new block is the identity
    assert not model.bottleneck.bias.requires_grad and model.classifier.bias is None
    assert float(model.classifier.weight.detach().std()) < 0.01
    plain = _model(non_local=False)
    assert len(plain.non_local) == 0
    pooled, bn, logits = plain.train()(torch.randn(4, 3, 32, 16), torch.tensor([0, 0, 1, 1]))
    assert pooled.shape == bn.shape == (4, 256) and logits.shape == (4, 5)


def test_agw_schedule() -> None:
    factor = agw_schedule(10, (20, 50))
    assert [factor(e) for e in (0, 9, 10, 19, 20, 49, 50, 80)] == [0.1, 1.0, 1.0, 1.0, 0.1, 0.1, 0.1**2, 0.1**2]

"""AGW's two-stream network (``mangye16/Cross-Modal-Re-ID-baseline``, ``model.py``), written anew.

* Two modality stems (conv1, bn1, relu, maxpool), each from its own ImageNet ResNet: visible
  (modality 0, and images without a modality) and thermal (modality 1). Each sample goes through
  the stem of its own modality, so swapping query and gallery never swaps the stems.
* layer1-4 shared, with non-local blocks after the last 2 blocks of layer2 and the last 3 of layer3
  (fewer when a stage is shorter).
* GeM pooling with a fixed p = 3 (or average pooling), then a BNNeck whose bias is frozen at 0
  (weight N(1, 0.01)) and a bias-free classifier initialised N(0, 0.001).

``forward(images, modality)`` returns ``(pooled, bn, logits)``.
"""

from __future__ import annotations

import torch
from torch import nn

#: blocks followed by a non-local block, counted from the end of layer1..layer4 (AGW: 0, 2, 3, 0)
NON_LOCAL_COUNTS = (0, 2, 3, 0)


class NonLocal(nn.Module):
    """Embedded-Gaussian-free non-local block (AGW): ``z = x + BN(W(f/N @ g))`` with ``f = theta^T phi``.

    The output BN starts at zero weight and bias, so a new block is the identity.
    """

    def __init__(self, channels: int, reduction: int = 2) -> None:
        super().__init__()
        inner = max(1, channels // reduction)
        self.inner = inner
        self.g = nn.Conv2d(channels, inner, kernel_size=1)
        self.theta = nn.Conv2d(channels, inner, kernel_size=1)
        self.phi = nn.Conv2d(channels, inner, kernel_size=1)
        self.W = nn.Sequential(nn.Conv2d(inner, channels, kernel_size=1), nn.BatchNorm2d(channels))
        nn.init.zeros_(self.W[1].weight)
        nn.init.zeros_(self.W[1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        g = self.g(x).flatten(2).transpose(1, 2)  # [b, hw, inner]
        theta = self.theta(x).flatten(2).transpose(1, 2)
        phi = self.phi(x).flatten(2)  # [b, inner, hw]
        affinity = theta @ phi
        y = (affinity / affinity.shape[-1]) @ g  # [b, hw, inner]
        y = y.transpose(1, 2).reshape(b, self.inner, h, w)
        return x + self.W(y)


class Stem(nn.Module):
    """conv1, bn1, relu, maxpool taken from a ResNet."""

    def __init__(self, resnet: nn.Module) -> None:
        super().__init__()
        self.conv1, self.bn1, self.relu, self.maxpool = resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))


class AGWModel(nn.Module):
    """The AGW network (module docstring).

    Args:
        visible, thermal, shared: three ResNets of the same architecture (AGW: three ImageNet copies);
            only the stems of the first two and the four stages of the third are kept.
        num_classes: training identities.
        non_local: insert the non-local blocks.
        gem: GeM (p = 3, fixed) instead of average pooling.
    """

    def __init__(
        self, visible: nn.Module, thermal: nn.Module, shared: nn.Module, num_classes: int, *,
        non_local: bool = True, gem: bool = True,
    ) -> None:
        super().__init__()
        self.visible_stem = Stem(visible)
        self.thermal_stem = Stem(thermal)
        self.layers = nn.ModuleList([shared.layer1, shared.layer2, shared.layer3, shared.layer4])
        self.non_local = nn.ModuleDict()
        self.non_local_after: list[set[int]] = []
        for stage, (layer, count) in enumerate(zip(self.layers, NON_LOCAL_COUNTS)):
            n = min(count, len(layer)) if non_local else 0
            after = set(range(len(layer) - n, len(layer)))
            self.non_local_after.append(after)
            for index in sorted(after):
                self.non_local[f"{stage}_{index}"] = NonLocal(_out_channels(layer[index]))
        dim = int(shared.out_channels)
        self.feature_dim = dim
        self.gem = gem
        self.bottleneck = nn.BatchNorm1d(dim)
        nn.init.normal_(self.bottleneck.weight, 1.0, 0.01)
        nn.init.zeros_(self.bottleneck.bias)
        self.bottleneck.bias.requires_grad_(False)
        self.classifier = nn.Linear(dim, num_classes, bias=False)
        nn.init.normal_(self.classifier.weight, 0.0, 0.001)

    def stems(self, images: torch.Tensor, modality: torch.Tensor) -> torch.Tensor:
        """Each image through the stem of its modality (1 = thermal; anything else visible), order kept."""
        thermal = modality == 1
        if bool(thermal.all()):
            return self.thermal_stem(images)
        if not bool(thermal.any()):
            return self.visible_stem(images)
        vis_idx = torch.nonzero(~thermal).flatten()
        ir_idx = torch.nonzero(thermal).flatten()
        x = torch.cat([self.visible_stem(images[vis_idx]), self.thermal_stem(images[ir_idx])])
        return x[torch.argsort(torch.cat([vis_idx, ir_idx]))]

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        if self.gem:
            return (x.float().flatten(2).pow(3).mean(dim=-1) + 1e-12).pow(1.0 / 3).to(x.dtype)
        return x.mean(dim=(2, 3))

    def forward(self, images: torch.Tensor, modality: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(pooled [B, D], bn [B, D], logits [B, C])``."""
        x = self.stems(images, modality)
        for stage, layer in enumerate(self.layers):
            for index, block in enumerate(layer):
                x = block(x)
                if index in self.non_local_after[stage]:
                    x = self.non_local[f"{stage}_{index}"](x)
        pooled = self.pool(x)
        bn = self.bottleneck(pooled)
        return pooled, bn, self.classifier(bn)


def _out_channels(block: nn.Module) -> int:
    """Output channels of a torchvision BasicBlock / Bottleneck."""
    last_bn = block.bn3 if hasattr(block, "bn3") else block.bn2
    return int(last_bn.num_features)

"""AIM's networks: the ID branch, the clothing (bias) branch, the fusion and the classifiers.

Shapes are given for the official ResNet-50 at 384x192 (C = 2048, a 24x12 map); every width is
derived from the backbone's ``out_channels``, so smaller backbones work the same way.
See ``shared/methods/aim.md`` section 1.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: Stripe counts of the clothing branch's pyramid: 1 + 2 + 4 + 8 = 15 parts.
PYRAMID_LEVELS: tuple[int, ...] = (1, 2, 4, 8)


def _init_bn_neck(bn: nn.BatchNorm1d) -> None:
    """The BN-neck initialisation of CAL/AIM: weight ~ N(1, 0.02), bias 0."""
    nn.init.normal_(bn.weight, 1.0, 0.02)
    nn.init.zeros_(bn.bias)


class IDBranch(nn.Module):
    """The ID encoder ``E``: backbone map -> max+avg pooling -> BN neck.

    ``forward`` returns ``(map [B,C,h,w], f [B,2C])``; ``f`` (the BN output) feeds the
    classifiers and is the test feature.
    """

    def __init__(self, backbone: nn.Module, pooling: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.pooling = pooling
        self.feature_dim = 2 * int(backbone.out_channels)
        self.bn = nn.BatchNorm1d(self.feature_dim)
        _init_bn_neck(self.bn)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The layer-4 map and the BN-neck feature of ``images``."""
        fmap = self.backbone(images)
        pooled = self.pooling(fmap).flatten(1)
        return fmap, self.bn(pooled)


class PyramidHead(nn.Module):
    """The horizontal pyramid of the clothing branch (HPM-like, all max-pooled).

    The map is cut into 1, 2, 4 and 8 horizontal stripes (15 parts); each part is max-pooled
    and goes through its own 1x1 conv (no bias) + BN2d + ReLU to ``part_dim`` channels. The parts
    are concatenated [global, 2 top->bottom, 4, 8] and projected by a Linear (no bias) + BN1d.
    """

    def __init__(
        self, in_channels: int, part_dim: int = 256, out_dim: int = 4096, levels: tuple[int, ...] = PYRAMID_LEVELS
    ) -> None:
        super().__init__()
        self.levels = tuple(levels)
        self.num_parts = sum(self.levels)
        self.parts = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(in_channels, part_dim, kernel_size=1, bias=False),
                nn.BatchNorm2d(part_dim),
                nn.ReLU(inplace=True),
            )
            for _ in range(self.num_parts)
        )
        for block in self.parts:
            conv, bn = block[0], block[1]
            nn.init.normal_(conv.weight, 0.0, math.sqrt(2.0 / (1 * 1 * part_dim)))
            nn.init.ones_(bn.weight)
            nn.init.zeros_(bn.bias)
        self.linear = nn.Linear(self.num_parts * part_dim, out_dim, bias=False)
        nn.init.normal_(self.linear.weight, 0.0, 0.001)
        self.bn = nn.BatchNorm1d(out_dim)
        _init_bn_neck(self.bn)

    def stripes(self, fmap: torch.Tensor) -> list[torch.Tensor]:
        """The 15 max-pooled parts ``[B,C,1,1]`` in concatenation order.

        Adaptive pooling to ``(n, 1)`` is exactly the max over ``H/n``-row stripes when ``n``
        divides ``H`` (24 -> 12/6/3 rows); otherwise the stripes overlap by a row.
        """
        parts = []
        for n in self.levels:
            pooled = F.adaptive_max_pool2d(fmap, (n, 1))  # [B, C, n, 1]
            parts.extend(pooled[:, :, i : i + 1, :] for i in range(n))
        return parts

    def part_features(self, fmap: torch.Tensor) -> torch.Tensor:
        """The concatenated part features ``[B, 15 * part_dim]`` (before the projection)."""
        return torch.cat([block(p).flatten(1) for block, p in zip(self.parts, self.stripes(fmap))], dim=1)

    def forward(self, fmap: torch.Tensor) -> torch.Tensor:
        """The clothing feature ``g`` of a map."""
        return self.bn(self.linear(self.part_features(fmap)))


class ClothingBranch(nn.Module):
    """The clothing (bias) encoder ``E_C`` + pyramid head; returns ``(map, g)``."""

    def __init__(self, backbone: nn.Module, head: PyramidHead) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The clothing map and clothing feature of ``images``."""
        fmap = self.backbone(images)
        return fmap, self.head(fmap)


class Fusion(nn.Module):
    """Bias-aware bilinear attention pooling of the ID map under the clothing map's attention.

    ``A = ReLU(BN(conv1x1(stopgrad(Xc))))`` gives M attention maps; ``P[b,m,n]`` is the mean over
    positions of ``A[b,m] * X[b,n]``; ``P`` is flattened, signed-square-rooted, L2-normalised and
    projected by a Linear (no bias) + BN1d. Gradients reach ``X`` but never ``Xc``.
    """

    def __init__(self, in_channels: int, out_dim: int = 4096, num_maps: int = 8) -> None:
        super().__init__()
        self.num_maps = num_maps
        self.attention = nn.Sequential(
            nn.Conv2d(in_channels, num_maps, kernel_size=1, bias=False),
            nn.BatchNorm2d(num_maps, eps=0.001),
            nn.ReLU(inplace=True),
        )
        self.linear = nn.Linear(num_maps * in_channels, out_dim, bias=False)
        nn.init.normal_(self.linear.weight, 0.0, 0.001)
        self.bn = nn.BatchNorm1d(out_dim)
        _init_bn_neck(self.bn)

    @staticmethod
    def pool(attention: torch.Tensor, fmap: torch.Tensor) -> torch.Tensor:
        """Bilinear attention pooling, signed sqrt and L2 norm: ``[B, M*C]`` (0 for a zero attention)."""
        b, _, h, w = fmap.shape
        pooled = torch.einsum("bmhw,bnhw->bmn", attention, fmap) / float(h * w)
        pooled = pooled.reshape(b, -1)
        pooled = torch.sign(pooled) * torch.sqrt(pooled.abs() + 1e-12)
        return F.normalize(pooled, dim=1)

    def forward(self, fmap: torch.Tensor, clothing_map: torch.Tensor) -> torch.Tensor:
        """The fused feature ``h`` of the ID map ``fmap`` under the (detached) clothing map."""
        attention = self.attention(clothing_map.detach())
        return self.bn(self.linear(self.pool(attention, fmap)))


class NormalizedClassifier(nn.Module):
    """Cosine classifier without bias: ``cos(x, w_j)`` in [-1, 1]; rows initialised to unit norm."""

    def __init__(self, in_dim: int, num_classes: int) -> None:
        super().__init__()
        weight = torch.empty(num_classes, in_dim).uniform_(-1.0, 1.0)
        weight = weight.renorm(2, 0, 1e-5).mul(1e5)
        self.weight = nn.Parameter(weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Cosine similarities ``[B, num_classes]``."""
        return F.linear(F.normalize(x, dim=1), F.normalize(self.weight, dim=1))


def identity_classifier(in_dim: int, num_classes: int) -> nn.Linear:
    """``delta_ID``: a plain Linear with bias, weight ~ N(0, 0.001), bias 0 (shared by f and h)."""
    layer = nn.Linear(in_dim, num_classes)
    nn.init.normal_(layer.weight, 0.0, 0.001)
    nn.init.zeros_(layer.bias)
    return layer

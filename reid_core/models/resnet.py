"""ResNet backbones (torchvision architectures, parameter names compatible with torchvision
checkpoints) returning the layer4 feature map, with a configurable last stride and IBN-Net-a.

``last_stride=1`` sets the stride of ``layer4[0]`` (its 3x3 conv in a Bottleneck, first conv in a
BasicBlock, and its downsample conv) to 1, so a 256x128 image gives a 16x8 map instead of 8x4.
``width`` (64 in the standard models) scales every stage; a small width makes tests fast, but
ImageNet weights only fit ``width=64``.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck

from reid_core.models.ibn import IBN
from reid_core.models.weights import LoadReport, load_pretrained

log = logging.getLogger(__name__)

Block = type[BasicBlock] | type[Bottleneck]

#: name -> (block, blocks per stage, standard weights file, ibn in layers 1-3)
ARCHITECTURES: dict[str, tuple[Block, tuple[int, int, int, int], str, bool]] = {
    "resnet18": (BasicBlock, (2, 2, 2, 2), "resnet18-f37072fd.pth", False),
    "resnet34": (BasicBlock, (3, 4, 6, 3), "resnet34-b627a593.pth", False),
    "resnet50": (Bottleneck, (3, 4, 6, 3), "resnet50-0676ba61.pth", False),
    "resnet101": (Bottleneck, (3, 4, 23, 3), "resnet101-63fe2227.pth", False),
    "resnet50-ibn-a": (Bottleneck, (3, 4, 6, 3), "resnet50_ibn_a-d9d0bb7b.pth", True),
}


class ResNet(nn.Module):
    """A ResNet trunk (stem + layer1..layer4) without pooling or classifier.

    Args:
        block: torchvision's ``BasicBlock`` or ``Bottleneck``.
        layers: number of blocks in each of the four stages.
        last_stride: stride of layer4 (1 for re-id, 2 as in ImageNet ResNets).
        width: channels of the stem and of layer1's blocks (64 standard).
        ibn: replace ``bn1`` of every block of layer1-3 by :class:`IBN` (IBN-Net a; Bottleneck only).

    Attributes:
        out_channels: channels of the returned map (512 * expansion * width / 64).
        pretrained_report: the :class:`LoadReport` of the weights loaded by the factory (or ``None``).
    """

    def __init__(
        self,
        block: Block,
        layers: tuple[int, int, int, int],
        *,
        last_stride: int = 1,
        width: int = 64,
        ibn: bool = False,
    ) -> None:
        super().__init__()
        if last_stride not in (1, 2):
            raise ValueError(f"last_stride must be 1 or 2, got {last_stride!r}")
        if ibn and block is not Bottleneck:
            raise ValueError("IBN-a is defined for Bottleneck ResNets (50/101) only")
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self._inplanes = width
        self.layer1 = self._make_layer(block, width, layers[0], stride=1, ibn=ibn)
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2, ibn=ibn)
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2, ibn=ibn)
        self.layer4 = self._make_layer(block, width * 8, layers[3], stride=last_stride, ibn=False)
        self.out_channels = width * 8 * block.expansion
        self.last_stride = last_stride
        self.pretrained_report: LoadReport | None = None
        self._init_weights()

    def _make_layer(self, block: Block, planes: int, blocks: int, stride: int, ibn: bool) -> nn.Sequential:
        downsample = None
        if stride != 1 or self._inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self._inplanes, planes * block.expansion, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self._inplanes, planes, stride, downsample)]
        self._inplanes = planes * block.expansion
        layers.extend(block(self._inplanes, planes) for _ in range(1, blocks))
        if ibn:
            for layer in layers:
                layer.bn1 = IBN(planes)
        return nn.Sequential(*layers)

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d | nn.InstanceNorm2d) and m.affine:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        """conv1, bn1, relu, maxpool: the part before layer1 (modality-specific in some methods)."""
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))

    def forward_layers(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The output of every stage: ``{"layer1": ..., ..., "layer4": ...}``."""
        out: dict[str, torch.Tensor] = {}
        x = self.stem(x)
        for name in ("layer1", "layer2", "layer3", "layer4"):
            x = getattr(self, name)(x)
            out[name] = x
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``[B, 3, H, W]`` -> layer4 feature map ``[B, out_channels, H/16 or H/32, ...]``."""
        x = self.stem(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        return self.layer4(x)


def build_resnet(name: str, *, pretrained: str = "none", last_stride: int = 1, width: int = 64) -> ResNet:
    """Build the ResNet called ``name`` (see :data:`ARCHITECTURES`) and load its pretrained weights.

    Args:
        name: ``resnet18``, ``resnet34``, ``resnet50``, ``resnet101`` or ``resnet50-ibn-a``.
        pretrained: ``"none"``, ``"imagenet"`` (the standard file from ``$REID_WEIGHTS_DIR``), a path or a
            file name; see :mod:`reid_core.models.weights`.
        last_stride: 1 (re-id default) or 2.
        width: stem/layer1 width (64 standard; e.g. 16 for fast tests, with ``pretrained="none"``).
    """
    block, layers, weights_file, ibn = ARCHITECTURES[name]
    model = ResNet(block, layers, last_stride=int(last_stride), width=int(width), ibn=ibn)
    model.pretrained_report = load_pretrained(model, pretrained, weights_file)
    return model


def _factory(name: str) -> Any:
    def factory(pretrained: str = "none", last_stride: int = 1, width: int = 64, **kw: Any) -> ResNet:
        if kw:
            raise TypeError(f"backbone {name!r} got unknown option(s) {sorted(kw)}; valid: pretrained, last_stride, width")
        return build_resnet(name, pretrained=pretrained, last_stride=last_stride, width=width)

    factory.__name__ = factory.__qualname__ = name.replace("-", "_")
    factory.__doc__ = f"Build {name} (see :func:`build_resnet`)."
    return factory


FACTORIES = {name: _factory(name) for name in ARCHITECTURES}

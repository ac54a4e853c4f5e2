"""The core's builtin models plugin: registers the core's models through the public hooks."""

from __future__ import annotations

from typing import Any

from reid_core.hookspecs import hookimpl

_DESCRIPTIONS = {
    "resnet18": "ResNet-18 (torchvision layout), 512-d map; last_stride 1|2",
    "resnet34": "ResNet-34 (torchvision layout), 512-d map; last_stride 1|2",
    "resnet50": "ResNet-50 (torchvision layout), 2048-d map; last_stride 1|2",
    "resnet101": "ResNet-101 (torchvision layout), 2048-d map; last_stride 1|2",
    "resnet50-ibn-a": "ResNet-50 IBN-Net-a (IN on half of bn1 in layer1-3), 2048-d map",
}


@hookimpl
def reid_register_backbones(register: Any) -> None:
    """Register the core's backbones."""
    from reid_core.models.resnet import FACTORIES

    for name, factory in FACTORIES.items():
        register(name, factory, description=_DESCRIPTIONS[name])

"""The core's builtin models plugin: registers the core's models through the public hooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from reid_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from torch import nn

_DESCRIPTIONS = {
    "resnet18": "ResNet-18 (torchvision layout), 512-d map; last_stride 1|2",
    "resnet34": "ResNet-34 (torchvision layout), 512-d map; last_stride 1|2",
    "resnet50": "ResNet-50 (torchvision layout), 2048-d map; last_stride 1|2",
    "resnet101": "ResNet-101 (torchvision layout), 2048-d map; last_stride 1|2",
    "resnet50-ibn-a": "ResNet-50 IBN-Net-a (IN on half of bn1 in layer1-3), 2048-d map",
}


def _lazy_factory(name: str) -> Callable[..., nn.Module]:
    """A factory for ``name`` that imports torch and the ResNet code only when called."""

    def factory(**kwargs: Any) -> nn.Module:
        from reid_core.models.resnet import FACTORIES

        return FACTORIES[name](**kwargs)

    factory.__name__ = factory.__qualname__ = name.replace("-", "_")
    factory.__doc__ = (
        f"Build {name}: factory(pretrained='none', last_stride=1, width=64) -> feature-map module "
        "(see reid_core.models.resnet.build_resnet)."
    )
    return factory


@hookimpl
def reid_register_backbones(register: Any) -> None:
    """Register the core's backbones."""
    for name, description in _DESCRIPTIONS.items():
        register(name, _lazy_factory(name), description=description)


@hookimpl
def reid_register_commands(cli: click.Group) -> None:
    """Add ``reid weights`` (pretrained files expected by the core backbones, found or not)."""
    from reid_core.models.commands import add_commands

    add_commands(cli)

"""The IV-ReID seed's network: one shared backbone, a BN head and two modality classifier heads.

``IVReIDModel`` keeps the official module names (``base``, ``bottleneck``, ``share_classifier``), so a
state dict of the seed's ``Baseline`` loads without renaming (see :mod:`reid_plugin_ivreid.official`).

* ``base``: a ResNet trunk (last stride 1). The seed's two quirks are applied by :func:`apply_seed_quirks`:
  no ReLU after the stem's BN, and a bias on every conv (default PyTorch initialisation, since the
  ImageNet weights have none).
* ``bottleneck``: ``BatchNorm1d(C)`` on the global-average-pooled feature ``f``, PyTorch's default
  initialisation and a *trainable* bias (reid-strong-baseline freezes it; the seed does not).
* ``share_classifier``: ``Linear(C, num_classes)`` with a bias, Kaiming-normal (fan_out) weight, zero bias.

In training ``forward`` returns ``(logits, f_bn)``; in eval ``(f_bn, f)``. ``ModalityHeads`` is the seed's
``IDENet``: per modality ``BatchNorm1d(C) -> Linear(C, 512) -> Linear(512, num_classes)`` (no nonlinearity),
both run on every sample's ``f_bn``.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def kaiming_linear(layer: nn.Linear) -> nn.Linear:
    """Kaiming-normal (fan_out) weight and zero bias: the seed's ``weights_init_kaiming`` for Linear."""
    nn.init.kaiming_normal_(layer.weight, a=0, mode="fan_out")
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def add_conv_biases(module: nn.Module) -> int:
    """Give every bias-free ``Conv2d`` of ``module`` a bias, initialised as PyTorch does for a new conv
    (uniform in ``+-1/sqrt(fan_in)``); returns how many convs got one."""
    added = 0
    for conv in module.modules():
        if isinstance(conv, nn.Conv2d) and conv.bias is None:
            fan_in = conv.in_channels // conv.groups * conv.kernel_size[0] * conv.kernel_size[1]
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            weight = conv.weight
            conv.bias = nn.Parameter(torch.empty(conv.out_channels, device=weight.device, dtype=weight.dtype))
            nn.init.uniform_(conv.bias, -bound, bound)
            added += 1
    return added


def apply_seed_quirks(backbone: nn.Module, *, stem_relu: bool, conv_bias: bool) -> nn.Module:
    """Turn a core ResNet into the seed's variant: ``stem_relu=False`` drops the stem's ReLU,
    ``conv_bias=True`` adds conv biases. Call it after the ImageNet weights are loaded, so the
    biases keep their default initialisation as in the seed."""
    if not stem_relu:
        if not hasattr(backbone, "relu"):
            raise ValueError(f"stem_relu=false needs a ResNet backbone with a stem ReLU, got {type(backbone).__name__}")
        backbone.relu = nn.Identity()  # the blocks own their ReLUs; only the stem uses this one
    if conv_bias:
        add_conv_biases(backbone)
    return backbone


class IVReIDModel(nn.Module):
    """Shared backbone, GAP, BN head (trainable bias) and shared classifier with bias.

    Args:
        backbone: a module mapping images to a feature map, with ``out_channels``.
        num_classes: training identities.
    """

    def __init__(self, backbone: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.base = backbone
        dim = int(backbone.out_channels)
        self.feature_dim = dim
        self.bottleneck = nn.BatchNorm1d(dim)
        self.share_classifier = kaiming_linear(nn.Linear(dim, num_classes))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Train: ``(logits [B, C], f_bn [B, D])``; eval: ``(f_bn, f)``."""
        f = self.base(images).mean(dim=(2, 3))
        f_bn = self.bottleneck(f)
        if self.training:
            return self.share_classifier(f_bn), f_bn
        return f_bn, f


class ModalityHeads(nn.Module):
    """The seed's IDENet: a visible (``rgb_*``) and an infrared (``ir_*``) classifier head.

    ``forward(f_bn)`` returns ``(visible logits [B, C], visible hidden [B, H], infrared logits, infrared hidden)``.
    """

    def __init__(self, in_dim: int, num_classes: int, hidden: int = 512) -> None:
        super().__init__()
        self.rgb_bn = nn.BatchNorm1d(in_dim)
        self.rgb_fc1 = kaiming_linear(nn.Linear(in_dim, hidden))
        self.rgb_fc2 = kaiming_linear(nn.Linear(hidden, num_classes))
        self.ir_bn = nn.BatchNorm1d(in_dim)
        self.ir_fc1 = kaiming_linear(nn.Linear(in_dim, hidden))
        self.ir_fc2 = kaiming_linear(nn.Linear(hidden, num_classes))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        rgb_hidden = self.rgb_fc1(self.rgb_bn(x))
        ir_hidden = self.ir_fc1(self.ir_bn(x))
        return self.rgb_fc2(rgb_hidden), rgb_hidden, self.ir_fc2(ir_hidden), ir_hidden

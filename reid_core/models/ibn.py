"""IBN: Instance-Batch Normalisation (Pan et al., ECCV 2018, IBN-Net "a").

InstanceNorm on the first ``int(channels * ratio)`` channels (affine), BatchNorm on the rest,
concatenated in that order. The submodules are named ``IN`` and ``BN`` so that the released
IBN-Net checkpoints (``layer1.0.bn1.IN.weight``, ``layer1.0.bn1.BN.running_mean``...) load as they are.
"""

from __future__ import annotations

import torch
from torch import nn


class IBN(nn.Module):
    """Half InstanceNorm, half BatchNorm over the channel axis.

    Args:
        channels: number of input channels.
        ratio: fraction of channels normalised by InstanceNorm (IBN-Net a: 0.5, i.e. ``channels // 2``).

    Example:
        >>> ibn = IBN(64)
        >>> ibn.half, ibn.IN.num_features, ibn.BN.num_features
        (32, 32, 32)
    """

    def __init__(self, channels: int, ratio: float = 0.5) -> None:
        super().__init__()
        self.half = int(channels * ratio)
        self.IN = nn.InstanceNorm2d(self.half, affine=True)
        self.BN = nn.BatchNorm2d(channels - self.half)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise the first ``half`` channels per instance, the rest per batch."""
        first, rest = torch.split(x, [self.half, x.shape[1] - self.half], dim=1)
        return torch.cat([self.IN(first.contiguous()), self.BN(rest.contiguous())], dim=1)

"""HRNet for COCO keypoints (Sun et al., CVPR 2019), laid out so that the official checkpoint
``pose_hrnet_w48_384x288.pth`` of ``leoxiaobin/deep-high-resolution-net.pytorch`` loads strictly.

Structure (``experiments/coco/hrnet/w48_384x288_adam_lr1e-3.yaml``): a stem of two 3x3 stride-2
convs (64 channels), ``layer1`` of 4 Bottlenecks (256 channels), then stages 2/3/4 with 1/4/3
modules of 2/3/4 branches of widths ``c, 2c, 4c, 8c`` (c = 48), 4 BasicBlocks per branch; the last
module keeps only the highest-resolution branch, and a 1x1 ``final_layer`` gives 17 heatmaps at
1/4 of the input size (64 x 32 for 256 x 128). Fully convolutional: any input divisible by 32.

The module and parameter names (``conv1``, ``layer1.0.downsample.0``, ``transition1.1.0.0``,
``stage3.2.branches.1.3.conv2``, ``stage4.0.fuse_layers.3.0.2.1``, ``final_layer``...) are those
of the official ``PoseHighResolutionNet``; the code is our own.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

#: (modules, branches) of stages 2, 3 and 4.
STAGES: tuple[tuple[int, int], ...] = ((1, 2), (4, 3), (3, 4))
BLOCKS_PER_BRANCH = 4
NUM_JOINTS = 17


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, momentum=0.1)


class BasicBlock(nn.Module):
    """Two 3x3 convs with a residual connection (``conv1 bn1 conv2 bn2``)."""

    expansion = 1

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn1 = _bn(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = _bn(channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + x)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 -> 1x1 (x4) with an optional projection ``downsample`` (``layer1``)."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = _bn(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = _bn(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = _bn(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


def _fuse_path(widths: Sequence[int], i: int, j: int) -> nn.Module | None:
    """How branch ``j`` reaches branch ``i``: 1x1 conv + BN + nearest upsampling (``j > i``),
    nothing (``j == i``), or ``i - j`` strided 3x3 convs (``j < i``; ReLU between, not after the last)."""
    if j == i:
        return None
    if j > i:
        return nn.Sequential(
            nn.Conv2d(widths[j], widths[i], 1, 1, 0, bias=False), _bn(widths[i]),
            nn.Upsample(scale_factor=2 ** (j - i), mode="nearest"),
        )
    steps = []
    for k in range(i - j):
        last = k == i - j - 1
        out = widths[i] if last else widths[j]
        layers: list[nn.Module] = [nn.Conv2d(widths[j], out, 3, 2, 1, bias=False), _bn(out)]
        if not last:
            layers.append(nn.ReLU(inplace=True))
        steps.append(nn.Sequential(*layers))
    return nn.Sequential(*steps)


class HighResolutionModule(nn.Module):
    """Parallel branches of BasicBlocks, then every output branch sums all inputs (``fuse_layers``)."""

    def __init__(self, widths: Sequence[int], multi_scale_output: bool = True) -> None:
        super().__init__()
        self.widths = list(widths)
        n = len(widths)
        self.branches = nn.ModuleList(
            nn.Sequential(*(BasicBlock(w) for _ in range(BLOCKS_PER_BRANCH))) for w in widths
        )
        outputs = n if multi_scale_output else 1
        self.fuse_layers = nn.ModuleList(
            nn.ModuleList(_fuse_path(widths, i, j) for j in range(n)) for i in range(outputs)
        )
        self.relu = nn.ReLU(inplace=False)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        fused = []
        for i, paths in enumerate(self.fuse_layers):
            y = xs[i]
            for j, path in enumerate(paths):
                if j != i:
                    y = y + path(xs[j])
            fused.append(self.relu(y))
        return fused


def _transition(previous: Sequence[int], current: Sequence[int]) -> nn.ModuleList:
    """Adapt the branches of one stage to the next: a 3x3 conv where the width changes, nothing
    where it does not, and a strided conv chain from the last branch for each new one."""
    layers: list[nn.Module | None] = []
    for i, width in enumerate(current):
        if i < len(previous):
            layers.append(
                None if width == previous[i] else nn.Sequential(
                    nn.Conv2d(previous[i], width, 3, 1, 1, bias=False), _bn(width), nn.ReLU(inplace=True)
                )
            )
        else:
            chain = []
            for k in range(i + 1 - len(previous)):
                inc = previous[-1]
                out = width if k == i - len(previous) else inc
                chain.append(nn.Sequential(nn.Conv2d(inc, out, 3, 2, 1, bias=False), _bn(out), nn.ReLU(inplace=True)))
            layers.append(nn.Sequential(*chain))
    return nn.ModuleList(layers)


class PoseHRNet(nn.Module):
    """HRNet-W``width`` for ``num_joints`` heatmaps at 1/4 resolution (official key layout).

    Args:
        width: ``c``, the channels of the highest-resolution branch (48 for the official checkpoint;
            small widths only for tests).
        num_joints: heatmap channels (17 COCO joints).
    """

    def __init__(self, width: int = 48, num_joints: int = NUM_JOINTS) -> None:
        super().__init__()
        self.width = width
        self.conv1 = nn.Conv2d(3, 64, 3, 2, 1, bias=False)
        self.bn1 = _bn(64)
        self.conv2 = nn.Conv2d(64, 64, 3, 2, 1, bias=False)
        self.bn2 = _bn(64)
        self.relu = nn.ReLU(inplace=True)
        downsample = nn.Sequential(nn.Conv2d(64, 256, 1, bias=False), _bn(256))
        self.layer1 = nn.Sequential(Bottleneck(64, 64, downsample), *(Bottleneck(256, 64) for _ in range(3)))
        previous = [256]
        for s, (modules, branches) in enumerate(STAGES, start=2):
            widths = [width * 2**b for b in range(branches)]
            setattr(self, f"transition{s - 1}", _transition(previous, widths))
            last_stage = s == 1 + len(STAGES)
            setattr(self, f"stage{s}", nn.Sequential(*(
                HighResolutionModule(widths, multi_scale_output=not (last_stage and m == modules - 1))
                for m in range(modules)
            )))
            previous = widths
        self.final_layer = nn.Conv2d(width, num_joints, 1, 1, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``[B, 3, H, W]`` (ImageNet-normalised) -> heatmaps ``[B, J, H/4, W/4]``."""
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        xs = [self.layer1(x)]
        for s in range(2, 2 + len(STAGES)):
            transition = getattr(self, f"transition{s - 1}")
            inputs = []
            for i, layer in enumerate(transition):
                source = xs[i] if i < len(xs) else xs[-1]
                inputs.append(source if layer is None else layer(source))
            xs = getattr(self, f"stage{s}")(inputs)
        return self.final_layer(xs[0])

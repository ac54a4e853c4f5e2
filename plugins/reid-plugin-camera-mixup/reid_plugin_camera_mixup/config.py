"""The ``[camera_mixup]`` config section and the ``paper`` / ``quick`` profiles."""

from __future__ import annotations

from typing import Any

import attrs

from reid_core.config import between, increasing_epochs, non_negative, positive


@attrs.frozen
class CameraMixupConfig:
    """The recipe of the released configs (``duke2market.yml`` / ``market2duke.yml``).

    Epochs are numbered from 1 here, as in the released code (ignite): the first epoch is epoch 1.

    Args:
        backbone: a registered backbone (ResNet-50 in the paper).
        pretrained: ``imagenet`` (the file from ``REID_WEIGHTS_DIR``), a path, or ``none``.
        last_stride: stride of layer4 (1: ``drop_last_stride: true``).
        width: ResNet base width (64 = standard; smaller only for CPU demos without pretrained weights).
        joint: train on source and target at once (the method); false = source-only training
            (``single_domain.yml``: plain CE on the source, then tested on the target = direct transfer).
        mix: cross-domain mixup from ``mix_start`` on (replaces the pure-source CE).
        mix_start: first epoch of mixup (2).
        alpha: Beta(alpha, alpha) of the mixing weight (0.6).
        scale: inverse temperature of the exemplar similarities (10).
        neighbor_eps: relative threshold of the neighbour sets (0.8).
        intra_weight, intra_after: weight of the intra-camera loss, used when epoch > ``intra_after`` (1.0, 10).
        inter_weight, inter_after: weight of the inter-camera loss, used when epoch > ``inter_after`` (0.5, 30).
        momentum: memory momentum from epoch 2 (0.6; epoch 1 overwrites the rows).
        epochs: training epochs (70).
        milestones: epochs after which the learning rates are multiplied by ``gamma`` (60).
        gamma: decay factor (0.1).
        backbone_lr: SGD learning rate of the backbone (``ft_lr`` 0.01).
        new_lr: SGD learning rate of the classifier and the BN neck (``new_params_lr`` 0.05).
        sgd_momentum, weight_decay: SGD settings (0.9, 5e-4).
        pad_fill: value of the 10 padded pixels before the random crop (127).
        erasing_scale_max: largest erased area fraction of random erasing (0.25).
        trapezoid_ap: also report Market-1501's official (trapezoid) AP as ``market-trapezoid``.
    """

    backbone: str = "resnet50"
    pretrained: str = "imagenet"
    last_stride: int = attrs.field(default=1, validator=positive)
    width: int = attrs.field(default=64, validator=positive)
    joint: bool = True
    mix: bool = True
    mix_start: int = attrs.field(default=2, validator=positive)
    alpha: float = attrs.field(default=0.6, validator=positive)
    scale: float = attrs.field(default=10.0, validator=positive)
    neighbor_eps: float = attrs.field(default=0.8, validator=between(0.0, 1.0))
    intra_weight: float = attrs.field(default=1.0, validator=non_negative)
    intra_after: int = attrs.field(default=10, validator=non_negative)
    inter_weight: float = attrs.field(default=0.5, validator=non_negative)
    inter_after: int = attrs.field(default=30, validator=non_negative)
    momentum: float = attrs.field(default=0.6, validator=between(0.0, 1.0))
    epochs: int = attrs.field(default=70, validator=positive)
    milestones: tuple[int, ...] = attrs.field(default=(60,), converter=tuple, validator=increasing_epochs)
    gamma: float = attrs.field(default=0.1, validator=positive)
    backbone_lr: float = attrs.field(default=0.01, validator=positive)
    new_lr: float = attrs.field(default=0.05, validator=positive)
    sgd_momentum: float = attrs.field(default=0.9, validator=between(0.0, 1.0))
    weight_decay: float = attrs.field(default=5e-4, validator=non_negative)
    pad_fill: int = attrs.field(default=127, validator=between(0, 255))
    erasing_scale_max: float = attrs.field(default=0.25, validator=between(0.02, 1.0))
    trapezoid_ap: bool = True


PROFILES: dict[str, dict[str, Any]] = {
    # The released configs: 256x128, global batch 256 = 128 source + 128 target (64 + 64 per GPU on 2 GPUs).
    "paper": {
        "data": {"height": 256, "width": 128, "batch_size": 256},
        "camera_mixup": {"backbone": "resnet50", "pretrained": "imagenet", "epochs": 70, "milestones": [60]},
    },
    # A CPU demo (synthetic-a -> synthetic-b): tiny ResNet-18 from scratch, small images, the schedule
    # compressed from 70 to 10 epochs (mixup from 2, intra after 2, inter after 5, decay after 8).
    "quick": {
        "data": {"height": 64, "width": 32, "batch_size": 64, "num_workers": 0, "eval_batch_size": 128},
        "train": {"log_every": 10},
        "camera_mixup": {"backbone": "resnet18", "pretrained": "none", "width": 16, "epochs": 10,
                         "intra_after": 2, "inter_after": 5, "milestones": [8], "backbone_lr": 0.05,
                         "new_lr": 0.05},
    },
}

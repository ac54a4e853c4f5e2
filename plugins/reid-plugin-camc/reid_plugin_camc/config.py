"""The ``[camc]`` section of a run config and the ``paper`` / ``quick`` profiles.

The defaults are the official recipe (QizaoWang/CAMC-CCReID, ``main.py`` defaults and the README
command; ``shared/methods/camc.md`` section 3).
"""

from __future__ import annotations

from typing import Any

import attrs

from reid_core.config import between, increasing_epochs, non_negative, one_of, positive
from reid_core.optim import WARMUP_METHODS

POSE_SOURCES = ("hrnet", "keypoints")
#: CAMC's only input size: the heatmap grid (64x32 cut into 4x4 patches) must match the 16x8 backbone map.
HEIGHT, WIDTH = 256, 128


@attrs.frozen
class CAMCConfig:
    """CAMC's recipe (the ``[camc]`` section); every default is the official code's value.

    Args:
        backbone: the appearance backbone (ResNet-50, ImageNet weights, everything trained).
        pretrained: its weights: ``imagenet`` (``resnet50-0676ba61.pth`` from ``REID_WEIGHTS_DIR``), a path, ``none``.
        width: ResNet base width (64 standard; smaller only for CPU demos, without ImageNet weights).
        last_stride: stride of ResNet's last stage (1: a 16x8 map at 256x128, the token grid).
        pose_source: ``hrnet`` (the frozen HRNet-W48 heatmaps, the paper) or ``keypoints`` (heatmaps
            rendered from the data set's keypoints: runs without pose weights, not the paper's input).
        pose_weights: the HRNet checkpoint: a path or a file name in ``REID_WEIGHTS_DIR``
            (``""`` = ``pose_hrnet_w48_384x288.pth``).
        pose_width: HRNet width ``c`` (48 for the official checkpoint; other widths only for tests).
        heatmap_sigma: Gaussian sigma (heatmap pixels) of the ``keypoints`` source (HRNet's targets: 2).
        epochs: training epochs (150).
        iters_per_epoch: fixed epoch length (0 = one pass over the P x K sampler).
        lr: Adam learning rate (3e-4).
        weight_decay: Adam weight decay on every parameter, BN and biases included (5e-4).
        warmup_epochs: warm-up length (10).
        warmup_factor: learning-rate factor at epoch 0 (0.1).
        warmup_method: ``linear`` or ``constant``.
        milestones: epochs at which the rate is multiplied by ``gamma`` ((40, 80)).
        gamma: decay factor (0.1).
        label_smoothing: epsilon of the identity loss, the only loss (0.1).
        color_jitter: brightness, contrast and saturation jitter before the resize (0.1; 0 = off).
        flip_p: horizontal flip probability (0.5).
        pad: zero padding before the random crop (10).
        erasing_p: random erasing probability (0.5; fill 0 in normalised space).
    """

    backbone: str = "resnet50"
    pretrained: str = "imagenet"
    width: int = attrs.field(default=64, validator=positive)
    last_stride: int = attrs.field(default=1, validator=positive)
    pose_source: str = attrs.field(default="hrnet", validator=one_of(*POSE_SOURCES))
    pose_weights: str = ""
    pose_width: int = attrs.field(default=48, validator=positive)
    heatmap_sigma: float = attrs.field(default=2.0, validator=positive)
    epochs: int = attrs.field(default=150, validator=positive)
    iters_per_epoch: int = attrs.field(default=0, validator=non_negative)
    lr: float = attrs.field(default=3e-4, validator=positive)
    weight_decay: float = attrs.field(default=5e-4, validator=non_negative)
    warmup_epochs: int = attrs.field(default=10, validator=non_negative)
    warmup_factor: float = attrs.field(default=0.1, validator=positive)
    warmup_method: str = attrs.field(default="linear", validator=one_of(*WARMUP_METHODS))
    milestones: tuple[int, ...] = attrs.field(default=(40, 80), converter=tuple, validator=increasing_epochs)
    gamma: float = attrs.field(default=0.1, validator=positive)
    label_smoothing: float = attrs.field(default=0.1, validator=between(0.0, 0.999))
    color_jitter: float = attrs.field(default=0.1, validator=non_negative)
    flip_p: float = attrs.field(default=0.5, validator=between(0.0, 1.0))
    pad: int = attrs.field(default=10, validator=non_negative)
    erasing_p: float = attrs.field(default=0.5, validator=between(0.0, 1.0))


#: ``paper``: the official recipe (256x128, 16 ids x 4 images, fp32, evaluation every 10 epochs).
#: ``quick``: the CPU demo on ``synthetic-cc`` with keypoint heatmaps (no weights needed): a ResNet-18
#: at a quarter width from scratch (d = 128, 32 heads of 4), still at 256x128, 6 epochs on 40 identities.
PROFILES: dict[str, dict[str, Any]] = {
    "paper": {
        "data": {"height": HEIGHT, "width": WIDTH, "batch_size": 64, "num_instances": 4, "eval_batch_size": 128},
        "train": {"amp": "off", "eval_every": 10},
        "camc": {},
    },
    "quick": {
        "data": {
            "height": HEIGHT,
            "width": WIDTH,
            "batch_size": 32,
            "num_instances": 4,
            "num_workers": 0,
            "eval_batch_size": 64,
            "options": {"ids": "40", "images": "2"},
        },
        "train": {"amp": "off", "eval_every": 0, "log_every": 10},
        "camc": {
            "backbone": "resnet18",
            "pretrained": "none",
            "width": 16,
            "pose_source": "keypoints",
            "epochs": 6,
            "lr": 1e-3,
            "warmup_epochs": 1,
            "milestones": (4,),
        },
    },
}

"""The ``[ivreid]`` and ``[agw]`` sections of a run config and their ``paper`` / ``quick`` profiles.

The ``ivreid`` defaults are what the seed's code ran (``linyq17/IV-REID``, ``configs/res50_*_all.ini``,
``train_*.py``; ``shared/methods/ivreid.md`` sections 1-2), except the two quirks of its ResNet
(no ReLU after the stem, a bias on every conv): they are options, off by default (a clean
torchvision ResNet-50) and on in the ``paper`` profile. Settings that differ between SYSU-MM01 and
RegDB in the seed (triplet margin 0.3 / 0.2, KL reduction ``batchmean`` / ``mean``) are set per
data set by the profiles' ``by_dataset`` entries.

The ``agw`` defaults follow ``mangye16/Cross-Modal-Re-ID-baseline`` (``train.py``, ``model.py``):
SGD (nesterov, momentum 0.9, wd 5e-4), base lr 0.1 with the backbone at 0.1x, 10-epoch linear
warm-up, x0.1 at epochs 20 and 50, 81 epochs (0..80), 288x144 images.
"""

from __future__ import annotations

from typing import Any

import attrs

from reid_core.config import increasing_epochs, non_negative, one_of, positive


@attrs.frozen
class IVReIDConfig:
    """The IV-ReID seed's recipe (the ``[ivreid]`` section).

    Args:
        backbone: registered backbone (the seed: ``resnet50``).
        pretrained: backbone weights (``imagenet``, a path, or ``none``).
        width: ResNet base width (64 standard; smaller only for CPU demos without ImageNet weights).
        last_stride: stride of layer4 (the seed: 1, a 24x8 map for 384x128 inputs).
        stem_relu: apply the ReLU after the stem's BN (torchvision); the seed omits it (``false`` in ``paper``).
        conv_bias: give every backbone conv a bias with PyTorch's default initialisation, as the seed
            does (``true`` in ``paper``); ImageNet weights have none, so the biases start random.
        epochs: training epochs (the seed: 100, constant learning rate).
        iters_per_epoch: fixed epoch length (0 = one pass of the balanced sampler).
        lr: Adam learning rate of the backbone, the BN head and the shared classifier (1e-4).
        head_lr: Adam learning rate of the two modality heads (10x: 1e-3).
        weight_decay: coupled L2 of both Adam optimizers, biases and BN included (5e-4).
        head_dim: width of the modality heads' hidden linear layer (512).
        margin: batch-hard triplet margin on the BN feature (SYSU 0.3, RegDB 0.2).
        kl_reduction: ``batchmean`` (SYSU) or ``mean`` (RegDB: averaged over batch x classes).
        kl_weight, id_weight, triplet_weight: loss weights (all 1 in the seed).
        test_feature: ``bn`` (the seed's f_bn) or ``pool`` (the pooled feature before the BN).
        infrared_first: the sampler puts each identity's infrared images before its visible ones (the seed's layout).
        too_few: an identity with fewer than K/2 images of a modality: ``error`` (the default, naming it),
            ``drop`` (left out, counted in the log) or ``replace`` (sampled with replacement).
    """

    backbone: str = "resnet50"
    pretrained: str = "imagenet"
    width: int = attrs.field(default=64, validator=positive)
    last_stride: int = attrs.field(default=1, validator=positive)
    stem_relu: bool = True
    conv_bias: bool = False
    epochs: int = attrs.field(default=100, validator=positive)
    iters_per_epoch: int = attrs.field(default=0, validator=non_negative)
    lr: float = attrs.field(default=1e-4, validator=positive)
    head_lr: float = attrs.field(default=1e-3, validator=positive)
    weight_decay: float = attrs.field(default=5e-4, validator=non_negative)
    head_dim: int = attrs.field(default=512, validator=positive)
    margin: float = attrs.field(default=0.3, validator=non_negative)
    kl_reduction: str = attrs.field(default="batchmean", validator=one_of("batchmean", "mean"))
    kl_weight: float = attrs.field(default=1.0, validator=non_negative)
    id_weight: float = attrs.field(default=1.0, validator=non_negative)
    triplet_weight: float = attrs.field(default=1.0, validator=non_negative)
    test_feature: str = attrs.field(default="bn", validator=one_of("bn", "pool"))
    infrared_first: bool = True
    too_few: str = attrs.field(default="error", validator=one_of("error", "drop", "replace"))


@attrs.frozen
class AGWConfig:
    """AGW's recipe (the ``[agw]`` section).

    Args:
        backbone, pretrained, width, last_stride: the backbone (AGW: ImageNet ResNet-50, last stride 1).
        non_local: insert non-local blocks after the last 2 blocks of layer2 and the last 3 of layer3.
        gem: GeM pooling with p = 3 (else average pooling).
        epochs: training epochs (AGW trains epochs 0..80: 81).
        iters_per_epoch: fixed epoch length (0 = one pass of the sampler).
        lr: base learning rate of the neck and classifier; the backbone gets ``backbone_lr_factor`` x it.
        backbone_lr_factor: 0.1 in AGW.
        momentum, weight_decay: SGD with nesterov momentum.
        warmup_epochs: linear warm-up ``lr * (e + 1) / warmup_epochs`` for ``e < warmup_epochs``.
        milestones: epochs at which the learning rate is multiplied by 0.1 (AGW: 20, 50).
        triplet: ``wrt`` (weighted regularized triplet, AGW) or ``hard`` (batch-hard, the "base" method).
        margin: margin of the ``hard`` triplet.
        test_feature: ``bn`` (after the BNNeck, AGW's "fc" line) or ``pool`` (before it).
        too_few: see :class:`IVReIDConfig` (AGW draws with replacement: ``replace``).
    """

    backbone: str = "resnet50"
    pretrained: str = "imagenet"
    width: int = attrs.field(default=64, validator=positive)
    last_stride: int = attrs.field(default=1, validator=positive)
    non_local: bool = True
    gem: bool = True
    epochs: int = attrs.field(default=81, validator=positive)
    iters_per_epoch: int = attrs.field(default=0, validator=non_negative)
    lr: float = attrs.field(default=0.1, validator=positive)
    backbone_lr_factor: float = attrs.field(default=0.1, validator=positive)
    momentum: float = attrs.field(default=0.9, validator=non_negative)
    weight_decay: float = attrs.field(default=5e-4, validator=non_negative)
    warmup_epochs: int = attrs.field(default=10, validator=non_negative)
    milestones: tuple[int, ...] = attrs.field(default=(20, 50), converter=tuple, validator=increasing_epochs)
    triplet: str = attrs.field(default="wrt", validator=one_of("wrt", "hard"))
    margin: float = attrs.field(default=0.3, validator=non_negative)
    test_feature: str = attrs.field(default="bn", validator=one_of("bn", "pool"))
    too_few: str = attrs.field(default="replace", validator=one_of("error", "drop", "replace"))


#: Seed values of the SYSU-MM01 gallery draws in the IV-ReID code: ``random.seed(2019 + 33 * i)``.
SEED_SYSU_OPTIONS = {"seed_base": "2019", "seed_step": "33"}

_QUICK_DATA = {
    "height": 64,
    "width": 32,
    "batch_size": 32,
    "num_instances": 4,
    "num_workers": 0,
    "eval_batch_size": 128,
}

IVREID_PROFILES: dict[str, dict[str, Any]] = {
    "paper": {
        "data": {"height": 384, "width": 128, "batch_size": 64, "num_instances": 8, "eval_batch_size": 64},
        "train": {"seed": 2019, "eval_every": 2, "amp": "off"},
        "ivreid": {"stem_relu": False, "conv_bias": True},
        "by_dataset": {
            "sysumm01": {"data": {"options": dict(SEED_SYSU_OPTIONS)}, "ivreid": {"margin": 0.3,
                                                                                   "kl_reduction": "batchmean"}},
            # the seed evaluates (and picks its best epoch on) thermal -> visible
            "regdb": {"data": {"options": {"direction": "t2v"}}, "ivreid": {"margin": 0.2, "kl_reduction": "mean"}},
        },
    },
    "quick": {
        "data": dict(_QUICK_DATA),
        "train": {"log_every": 10, "eval_every": 0},
        "ivreid": {
            "backbone": "resnet18",
            "pretrained": "none",
            "width": 32,
            "epochs": 8,
            "lr": 1e-3,
            "head_lr": 1e-2,
            "head_dim": 128,
        },
    },
}

AGW_PROFILES: dict[str, dict[str, Any]] = {
    "paper": {
        "data": {"height": 288, "width": 144, "batch_size": 64, "num_instances": 8, "eval_batch_size": 64},
        "train": {"eval_every": 2, "amp": "off"},
        "agw": {},
    },
    "quick": {
        "data": dict(_QUICK_DATA),
        "train": {"log_every": 10, "eval_every": 0},
        "agw": {
            "backbone": "resnet18",
            "pretrained": "none",
            "width": 32,
            "epochs": 8,
            "lr": 0.05,
            "backbone_lr_factor": 1.0,
            "warmup_epochs": 2,
            "milestones": (6,),
        },
    },
}

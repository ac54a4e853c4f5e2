"""The ``[aim]`` section of a run config and the ``paper`` / ``quick`` profiles.

The defaults are the official AIM recipe (``BoomShakaY/AIM-CCReID``, ``configs/default_img.py``
with the missing ``PAIR_*`` keys filled in as the author intended; see ``shared/methods/aim.md``
sections 2-3 and trap 1).
"""

from __future__ import annotations

from typing import Any

import attrs

from reid_core.config import between, increasing_epochs, non_negative, positive


@attrs.frozen
class AIMConfig:
    """AIM's recipe (the ``[aim]`` section); every default is the paper's/official code's value.

    Args:
        backbone: registered backbone of both encoders (ID branch ``E`` and clothing branch ``E_C``).
        pretrained: weights of both encoders (``imagenet``, a path, or ``none``).
        width: stem width of ResNet backbones (64 standard; smaller for CPU demos, no ImageNet weights).
        last_stride: stride of the last stage (1: a 24x12 map for 384x192 inputs).
        epochs: training epochs (official: 100).
        lr: Adam learning rate of the three optimizers.
        weight_decay: Adam weight decay of the three optimizers.
        milestones: epochs at which the main and bias-branch learning rates are multiplied by ``gamma``.
        gamma: the learning-rate decay factor.
        start_epoch: first (0-based) epoch of the AIM terms ``L_Cal``, ``L_adv``, ``L_KL`` and of the
            ``delta_A`` updates (official ``START_EPOCH_CC`` = ``START_EPOCH_ADV`` = 25).
        k_cal: weight of the intervention loss on ``o - o3``.
        k_kl: weight of the symmetric KL (knowledge transfer).
        k_adv: weight of CAL's clothes-based adversarial loss (hard-coded 1 in the official code).
        s: scale of the cosine clothes logits (``LOSS.CLA_S``).
        epsilon: label smoothing of the identity and adversarial losses.
        pair_loss_weight: weight of the cosine triplet loss (official: 0, i.e. not used).
        pair_margin: margin of the cosine triplet loss.
        part_dim: channels of each of the 15 pyramid parts (official 256).
        attention_maps: number of fusion attention maps M (official 8).
        iters_per_epoch: fixed epoch length (0 = one pass over the P x K sampler).
    """

    backbone: str = "resnet50"
    pretrained: str = "imagenet"
    width: int = attrs.field(default=64, validator=positive)
    last_stride: int = attrs.field(default=1, validator=positive)
    epochs: int = attrs.field(default=100, validator=positive)
    lr: float = attrs.field(default=3.5e-4, validator=positive)
    weight_decay: float = attrs.field(default=5e-4, validator=non_negative)
    milestones: tuple[int, ...] = attrs.field(default=(20, 40), converter=tuple, validator=increasing_epochs)
    gamma: float = attrs.field(default=0.1, validator=positive)
    start_epoch: int = attrs.field(default=25, validator=non_negative)
    k_cal: float = attrs.field(default=1.0, validator=non_negative)
    k_kl: float = attrs.field(default=1.0, validator=non_negative)
    k_adv: float = attrs.field(default=1.0, validator=non_negative)
    s: float = attrs.field(default=16.0, validator=positive)
    epsilon: float = attrs.field(default=0.1, validator=between(0.0, 1.0))
    pair_loss_weight: float = attrs.field(default=0.0, validator=non_negative)
    pair_margin: float = attrs.field(default=0.3, validator=non_negative)
    part_dim: int = attrs.field(default=256, validator=positive)
    attention_maps: int = attrs.field(default=8, validator=positive)
    iters_per_epoch: int = attrs.field(default=0, validator=non_negative)


#: ``paper``: the official recipe (384x192, fp32, eval every 5 epochs) with its global batch of 64
#: (2 GPUs x 4 ids x 8 images): ``data.batch_size`` is global and the engine splits it over the ranks,
#: so milestones and the epoch-25 gate land after as many updates as in the official run.
#: ``quick``: the CPU demo on ``synthetic-cc``; the AIM terms start at epoch 1 so that they run.
PROFILES: dict[str, dict[str, Any]] = {
    "paper": {
        "data": {"height": 384, "width": 192, "batch_size": 64, "num_instances": 8, "eval_batch_size": 128},
        "train": {"amp": "off", "eval_every": 5},
        "aim": {},
    },
    "quick": {
        "data": {
            "height": 64,
            "width": 32,
            "batch_size": 32,
            "num_instances": 4,
            "num_workers": 0,
            "eval_batch_size": 128,
        },
        "train": {"amp": "off", "eval_every": 0, "log_every": 10},
        "aim": {
            "backbone": "resnet18",
            "width": 32,
            "pretrained": "none",
            "epochs": 6,
            "lr": 1e-3,
            "milestones": (4,),
            "start_epoch": 2,
            "part_dim": 32,
            "iters_per_epoch": 0,
        },
    },
}

"""What both cross-modality methods share: checks on the training data, the backbone, the loader."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from reid_core.data.sample import Sample


class CrossModalityError(ValueError):
    """The data set cannot train a cross-modality method; the message says why and what to use."""


def check_cross_modal(method: str, dataset: Any) -> int:
    """The number of training identities; an error unless the train split has labelled visible and
    infrared images with contiguous pids ``0..N-1``."""
    train: Sequence[Sample] = dataset.train
    name = getattr(dataset, "name", "?")
    modalities = {s.modality for s in train}
    if not train or not {"visible", "infrared"} <= modalities:
        raise CrossModalityError(
            f"{method} needs visible and infrared training images, but data set {name!r} has modalities "
            f"{sorted(m for m in modalities if m) or 'none'}; use a cross-modality data set "
            "(sysumm01, regdb, synthetic-ir)"
        )
    pids = sorted({s.pid for s in train})
    if pids != list(range(len(pids))):
        raise CrossModalityError(f"{method}: the train pids of {name!r} are not relabelled to 0..N-1")
    return len(pids)


def build_resnet_backbone(cfg: Any) -> nn.Module:
    """The configured backbone (``backbone``, ``pretrained``, ``last_stride``, ``width``) from the registry."""
    from reid_core.models import build_backbone

    extra = {"width": cfg.width} if cfg.width != 64 else {}  # only ResNets know ``width``
    return build_backbone(cfg.backbone, pretrained=cfg.pretrained, last_stride=cfg.last_stride, **extra)


def balanced_loader(ctx: Any, config: Any, *, infrared_first: bool, too_few: str) -> Any:
    """The training loader of both methods: the core's ``modality-distinct`` sampler (P distinct
    identities x K/2 images per modality, ``infrared_first`` and ``too_few`` as sampler options) and
    the pad-crop-flip transform without random erasing (the seed's and AGW's)."""
    from reid_core.data.transforms import build_train_transform

    data = config.data
    return ctx.train_loader(
        ctx.dataset.train,
        sampler="modality-distinct",
        transform=build_train_transform(data.height, data.width, erasing_p=0.0),
        sampler_options={"infrared_first": infrared_first, "too_few": too_few},
    )

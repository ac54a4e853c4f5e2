"""Data records, image datasets, transforms, samplers and loaders.

Only :class:`Sample` is imported eagerly: the rest (which needs torch and torchvision) is loaded on
first access, so that ``import reid_core`` and light CLI commands stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reid_core._lazy import lazy_getattr
from reid_core.data.sample import MODALITIES, Sample

#: public name -> the submodule that defines it (imported lazily by ``__getattr__``)
_LAZY = {
    "DistributedWrapper": "distributed",
    "ImageDataset": "image_dataset",
    "MODALITY_CODES": "image_dataset",
    "read_image": "image_dataset",
    "SAMPLER_KINDS": "samplers",
    "CameraAwareSampler": "samplers",
    "EpochSampler": "samplers",
    "ModalityBalancedSampler": "samplers",
    "RandomIdentitySampler": "samplers",
    "RandomOrderSampler": "samplers",
    "build_sampler": "samplers",
    "COCO_FLIP_PAIRS": "keypoints",
    "KeypointCompose": "keypoints",
    "CAL_ERASING_FILL": "transforms",
    "IMAGENET_MEAN": "transforms",
    "IMAGENET_STD": "transforms",
    "RandomErasing": "transforms",
    "RandomUpscaleCrop": "transforms",
    "build_test_transform": "transforms",
    "build_train_transform": "transforms",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from reid_core.data.distributed import DistributedWrapper
    from reid_core.data.image_dataset import MODALITY_CODES, ImageDataset, read_image
    from reid_core.data.keypoints import COCO_FLIP_PAIRS, KeypointCompose
    from reid_core.data.samplers import (
        SAMPLER_KINDS,
        CameraAwareSampler,
        EpochSampler,
        ModalityBalancedSampler,
        RandomIdentitySampler,
        RandomOrderSampler,
        build_sampler,
    )
    from reid_core.data.transforms import (
        CAL_ERASING_FILL,
        IMAGENET_MEAN,
        IMAGENET_STD,
        RandomErasing,
        RandomUpscaleCrop,
        build_test_transform,
        build_train_transform,
    )


__getattr__ = lazy_getattr("reid_core.data", _LAZY, globals())


__all__ = [
    "CAL_ERASING_FILL",
    "COCO_FLIP_PAIRS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "MODALITIES",
    "MODALITY_CODES",
    "SAMPLER_KINDS",
    "CameraAwareSampler",
    "DistributedWrapper",
    "EpochSampler",
    "ImageDataset",
    "KeypointCompose",
    "ModalityBalancedSampler",
    "RandomErasing",
    "RandomIdentitySampler",
    "RandomOrderSampler",
    "RandomUpscaleCrop",
    "Sample",
    "build_sampler",
    "build_test_transform",
    "build_train_transform",
    "read_image",
]

"""Train/test transforms: sizes, normalisation, erasing fill, crops, determinism under torch seeds."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from reid_core.data import (
    CAL_ERASING_FILL,
    IMAGENET_MEAN,
    IMAGENET_STD,
    RandomErasing,
    RandomUpscaleCrop,
    build_test_transform,
    build_train_transform,
)


def _img() -> Image.Image:
    return Image.new("RGB", (20, 50), (255, 128, 0))


def test_test_transform_normalises() -> None:
    out = build_test_transform(32, 16)(_img())
    assert out.shape == (3, 32, 16)
    expected = (torch.tensor([1.0, 128 / 255, 0.0]) - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    assert torch.allclose(out[:, 10, 5], expected, atol=1e-5)


@pytest.mark.parametrize("crop", ["pad", "upscale", "none"])
def test_train_transform_shapes_and_seeded(crop: str) -> None:
    t = build_train_transform(32, 16, random_crop=crop, interpolation="bicubic")
    torch.manual_seed(1)
    a = t(_img())
    torch.manual_seed(1)
    b = t(_img())
    assert a.shape == (3, 32, 16) and torch.equal(a, b)


def test_erasing_writes_fill_into_normalised_tensor() -> None:
    torch.manual_seed(0)
    img = torch.full((3, 32, 16), 5.0)
    out = RandomErasing(p=1.0)(img.clone())
    erased = (out != 5.0).all(dim=0)
    assert erased.any()
    for c in range(3):
        assert torch.allclose(out[c][erased], torch.tensor(IMAGENET_MEAN[c]))
    cal = RandomErasing(p=1.0, fill=CAL_ERASING_FILL)(img.clone())
    assert torch.isclose(cal[0][(cal != 5.0).all(dim=0)], torch.tensor(CAL_ERASING_FILL[0])).all()
    area = erased.float().mean()
    assert 0.01 < area < 0.5
    assert torch.equal(RandomErasing(p=0.0)(img.clone()), img)


def test_pad_crop_brings_zero_padding_and_upscale_crop_size() -> None:
    t = build_train_transform(32, 16, flip_p=0.0, erasing_p=0.0, pad=10)
    minimum = (torch.zeros(3) - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    torch.manual_seed(0)
    seen_pad = any(torch.allclose(t(_img())[:, 0, 0], minimum, atol=1e-5) for _ in range(20))
    assert seen_pad
    crop = RandomUpscaleCrop(32, 16, p=1.0)
    assert crop(_img().resize((16, 32))).size == (16, 32)
    with pytest.raises(ValueError, match="upscale"):
        build_train_transform(32, 16, random_crop="jitter")

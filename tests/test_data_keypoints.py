"""Keypoints move with the pixels: a keypoint drawn on the image lands on the same pixel after
each train transform (resize, flip with the left/right swap, pad + crop, upscale crop, erasing),
and the batch of ``ImageDataset`` carries them (and ``domain``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T

from reid_core.data import IMAGENET_MEAN, IMAGENET_STD, ImageDataset, RandomErasing, RandomUpscaleCrop
from reid_core.data.keypoints import (
    COCO_FLIP_PAIRS,
    KeypointCompose,
    flip_keypoints,
    transform_with_keypoints,
)
from reid_core.data.sample import Sample
from reid_core.data.transforms import build_test_transform, build_train_transform

H, W, BLOCK = 48, 24, 4
#: one distinct colour per joint, so that a swapped or misplaced keypoint reads the wrong colour
COLOURS = [((37 * j) % 200 + 40, (91 * j) % 200 + 40, (53 * j + 17) % 200 + 40) for j in range(17)]


def _marked() -> tuple[Image.Image, torch.Tensor]:
    """A black image with a BLOCK x BLOCK square of joint j's colour at each of the 17 keypoints."""
    arr = np.zeros((H, W, 3), dtype=np.uint8)
    kp = torch.zeros(17, 3)
    for j in range(17):
        x0, y0 = 2 + (j % 4) * 5, 2 + (j // 4) * 9
        arr[y0 : y0 + BLOCK, x0 : x0 + BLOCK] = COLOURS[j]
        kp[j] = torch.tensor([x0 + BLOCK / 2, y0 + BLOCK / 2, 2.0])
    return Image.fromarray(arr), kp


def _colour(img: Image.Image | torch.Tensor, x: float, y: float) -> np.ndarray:
    if isinstance(img, torch.Tensor):  # a normalised tensor
        pix = img[:, int(y), int(x)] * torch.tensor(IMAGENET_STD) + torch.tensor(IMAGENET_MEAN)
        return (pix * 255).numpy()
    return np.asarray(img, dtype=np.float64)[int(y), int(x)]


def _swap() -> list[int]:
    partner = list(range(17))
    for a, b in COCO_FLIP_PAIRS:
        partner[a], partner[b] = b, a
    return partner


def _assert_on_marks(img: Image.Image | torch.Tensor, kp: torch.Tensor, source: list[int] | None = None) -> int:
    """Every visible keypoint j reads the colour drawn for joint ``source[j]``; returns how many were checked."""
    source = source or list(range(17))
    checked = 0
    for j in range(17):
        if kp[j, 2] == 0:
            continue
        got = _colour(img, float(kp[j, 0]), float(kp[j, 1]))
        np.testing.assert_allclose(got, COLOURS[source[j]], atol=3.0, err_msg=f"joint {j}")
        checked += 1
    return checked


def test_resize_scales_keypoints() -> None:
    img, kp = _marked()
    out, moved = KeypointCompose([T.Resize((2 * H, 2 * W), interpolation=T.InterpolationMode.NEAREST)]).apply(img, kp)
    assert out.size == (2 * W, 2 * H)
    assert _assert_on_marks(out, moved) == 17
    torch.testing.assert_close(moved[:, :2], kp[:, :2] * 2)


def test_flip_mirrors_and_swaps_left_right() -> None:
    img, kp = _marked()
    out, moved = KeypointCompose([T.RandomHorizontalFlip(p=1.0)]).apply(img, kp)
    assert _assert_on_marks(out, moved, _swap()) == 17  # left shoulder now sits on the mirrored right one
    torch.testing.assert_close(flip_keypoints(flip_keypoints(kp, W), W), kp)


@pytest.mark.parametrize("seed", range(6))
def test_pad_and_random_crop_shift_keypoints(seed: int) -> None:
    img, kp = _marked()
    torch.manual_seed(seed)
    out, moved = KeypointCompose([T.Pad(10, fill=0), T.RandomCrop((H, W))]).apply(img, kp)
    assert out.size == (W, H)
    assert _assert_on_marks(out, moved) > 0
    assert (moved[:, 2] == 0).sum() == ((moved[:, 0] < 0) | (moved[:, 0] >= W) | (moved[:, 1] < 0) | (moved[:, 1] >= H)).sum()


@pytest.mark.parametrize("seed", range(4))
def test_upscale_crop_moves_keypoints(seed: int) -> None:
    img, kp = _marked()
    torch.manual_seed(seed)
    out, moved = RandomUpscaleCrop(H, W, p=1.0, scale=1.5).with_keypoints(img, kp)
    assert _assert_on_marks(out, moved) > 0


def test_erasing_keeps_keypoints() -> None:
    tensor = torch.zeros(3, H, W)
    kp = _marked()[1]
    _out, moved = KeypointCompose([RandomErasing(p=1.0)]).apply(tensor, kp)
    torch.testing.assert_close(moved, kp)


@pytest.mark.parametrize("seed", range(8))
def test_full_train_transform_same_draws_and_pixels(seed: int) -> None:
    """The whole pipeline (resize x2, flip, pad + crop, ToTensor, Normalize): the image is the one
    ``__call__`` gives under the same seed, and the keypoints sit on their marks (swapped if flipped)."""
    img, kp = _marked()
    transform = build_train_transform(2 * H, 2 * W, erasing_p=0.0)
    transform.transforms[0] = T.Resize((2 * H, 2 * W), interpolation=T.InterpolationMode.NEAREST)
    torch.manual_seed(seed)
    plain = transform(img)
    torch.manual_seed(seed)
    out, moved = transform.apply(img, kp)
    assert torch.equal(plain, out)
    straight = sum(
        np.allclose(_colour(out, float(moved[j, 0]), float(moved[j, 1])), COLOURS[j], atol=3) for j in range(5, 17)
        if moved[j, 2] > 0
    )
    source = list(range(17)) if straight else _swap()
    assert _assert_on_marks(out, moved, source) > 0


def test_image_dataset_carries_keypoints_and_domain(tmp_path: Path) -> None:
    img, kp = _marked()
    path = tmp_path / "a.png"
    img.save(path)
    keypoints = tuple(tuple(float(v) for v in row) for row in kp.tolist())
    samples = [Sample(str(path), 0, 0, domain="a", keypoints=keypoints), Sample(str(path), 1, 0)]
    ds = ImageDataset(samples, build_test_transform(2 * H, 2 * W))
    first, second = ds[0], ds[1]
    assert first["domain"] == "a" and second["domain"] == ""
    torch.testing.assert_close(first["keypoints"][:, :2], kp[:, :2] * 2)
    assert torch.equal(second["keypoints"], torch.zeros(17, 3))
    batch = torch.utils.data.default_collate([first, second])
    assert batch["keypoints"].shape == (2, 17, 3) and batch["domain"] == ["a", ""]


def test_unknown_step_makes_keypoints_unknown() -> None:
    img, kp = _marked()
    _out, moved = transform_with_keypoints(T.Compose([T.RandomRotation(10)]), img, kp)
    assert torch.equal(moved, torch.zeros(17, 3))

"""Keypoints that move with the pixels: the transform wrapper that carries COCO keypoints through
the train and test transforms (resize, flip, pad, crop, AIM's upscale crop).

Keypoints are ``[K, 3]`` float tensors of ``(x, y, visibility)`` in *continuous* pixel coordinates
of the current image: pixel column ``i`` covers ``[i, i + 1)``, so a keypoint at the centre of a
pixel is at ``i + 0.5``. Then resize is a scale, a horizontal flip is ``x -> W - x`` (plus the
left/right joint swap), a pad or crop is a shift. A keypoint that leaves the image gets
visibility 0 (COCO: not labelled) and keeps its coordinates.

:class:`KeypointCompose` is a drop-in ``torchvision.transforms.Compose``: called on an image it
gives the same image (the same random draws, in the same order); :meth:`KeypointCompose.apply`
moves keypoints with it. Each step is handled by its type: geometric torchvision steps are
replayed with their own random draws, pixel-only steps (colour, ToTensor, Normalize, erasing)
leave keypoints alone, a step with a ``with_keypoints(img, keypoints)`` method moves them itself,
and any other step (whose geometry is unknown) marks every keypoint unknown (all zeros).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torchvision import transforms as T
from torchvision.transforms import functional as TF

log = logging.getLogger(__name__)

#: The 17 COCO keypoints: nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles.
NUM_KEYPOINTS = 17
#: Left/right pairs of COCO joints, swapped by a horizontal flip.
COCO_FLIP_PAIRS: tuple[tuple[int, int], ...] = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))

#: Steps that change pixel values but not their positions.
PIXEL_ONLY: tuple[type, ...] = (
    T.ToTensor,
    T.PILToTensor,
    T.Normalize,
    T.ColorJitter,
    T.Grayscale,
    T.RandomGrayscale,
    T.GaussianBlur,
    T.ConvertImageDtype,
)
_warned: set[str] = set()


def empty_keypoints(num: int = NUM_KEYPOINTS) -> torch.Tensor:
    """``[num, 3]`` zeros: no keypoint known (visibility 0)."""
    return torch.zeros(num, 3)


def keypoint_tensor(keypoints: Sequence[Sequence[float]] | None, num: int = NUM_KEYPOINTS) -> torch.Tensor:
    """A sample's keypoints as a float ``[num, 3]`` tensor (zeros when it has none)."""
    if keypoints is None:
        return empty_keypoints(num)
    kp = torch.tensor([list(map(float, k)) for k in keypoints], dtype=torch.float32).reshape(-1, 3)
    if kp.shape[0] != num:
        raise ValueError(f"expected {num} keypoints (x, y, visibility), got {kp.shape[0]}")
    return kp


def image_size(img: Any) -> tuple[int, int]:
    """``(height, width)`` of a PIL image or a ``[..., H, W]`` tensor."""
    _, height, width = TF.get_dimensions(img)
    return height, width


def flip_keypoints(kp: torch.Tensor, width: int) -> torch.Tensor:
    """Mirror ``x -> width - x`` and swap the left/right joints."""
    out = kp.clone()
    out[:, 0] = width - kp[:, 0]
    if kp.shape[0] == NUM_KEYPOINTS:
        for left, right in COCO_FLIP_PAIRS:
            out[[left, right]] = out[[right, left]]
    return out


def shift_keypoints(kp: torch.Tensor, dx: float, dy: float) -> torch.Tensor:
    """Translate by ``(dx, dy)``."""
    out = kp.clone()
    out[:, 0] += dx
    out[:, 1] += dy
    return out


def scale_keypoints(kp: torch.Tensor, sx: float, sy: float) -> torch.Tensor:
    """Scale by ``(sx, sy)`` (a resize from ``W x H`` to ``sx W x sy H``)."""
    out = kp.clone()
    out[:, 0] *= sx
    out[:, 1] *= sy
    return out


def clip_visibility(kp: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Visibility 0 for keypoints outside ``[0, width) x [0, height)``."""
    out = kp.clone()
    outside = (kp[:, 0] < 0) | (kp[:, 0] >= width) | (kp[:, 1] < 0) | (kp[:, 1] >= height)
    out[outside, 2] = 0.0
    return out


def _pad_offsets(padding: Any) -> tuple[int, int]:
    if isinstance(padding, int):
        return padding, padding
    padding = list(padding)
    if len(padding) == 1:
        return padding[0], padding[0]
    return padding[0], padding[1]  # (left, top[, right, bottom])


def apply_step(step: Callable[[Any], Any], img: Any, kp: torch.Tensor | None) -> tuple[Any, torch.Tensor | None]:
    """Apply one transform step to ``img`` and move ``kp`` with it (``None``: geometry unknown)."""
    if kp is None:
        return step(img), None
    if hasattr(step, "with_keypoints"):
        return step.with_keypoints(img, kp)  # type: ignore[attr-defined]
    if isinstance(step, PIXEL_ONLY) or getattr(step, "keeps_geometry", False):
        return step(img), kp
    if isinstance(step, T.Resize):
        height, width = image_size(img)
        out = step(img)
        new_h, new_w = image_size(out)
        return out, scale_keypoints(kp, new_w / width, new_h / height)
    if isinstance(step, T.RandomHorizontalFlip):
        if torch.rand(1) < step.p:  # the draw torchvision makes
            _, width = image_size(img)
            return TF.hflip(img), flip_keypoints(kp, width)
        return img, kp
    if isinstance(step, T.Pad):
        left, top = _pad_offsets(step.padding)
        out = step(img)
        return out, clip_visibility(shift_keypoints(kp, left, top), *image_size(out))
    if isinstance(step, T.RandomCrop) and step.padding is None and not step.pad_if_needed:
        top, left, h, w = T.RandomCrop.get_params(img, step.size)  # the draws RandomCrop makes
        return TF.crop(img, top, left, h, w), clip_visibility(shift_keypoints(kp, -left, -top), h, w)
    name = type(step).__name__
    if name not in _warned:
        _warned.add(name)
        log.warning("transform step %s cannot move keypoints; the batch's keypoints are unknown (zeros)", name)
    return step(img), None


class KeypointCompose:
    """``torchvision.transforms.Compose`` that can also move keypoints (see the module docstring).

    Args:
        transforms: the steps, in order (``.transforms`` as in torchvision).
    """

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        """The transformed image (keypoints not involved)."""
        for step in self.transforms:
            img = step(img)
        return img

    def apply(self, img: Any, keypoints: torch.Tensor) -> tuple[Any, torch.Tensor]:
        """The transformed image and ``keypoints [K, 3]`` in its pixels (zeros if a step is unknown)."""
        kp: torch.Tensor | None = keypoints.float()
        for step in self.transforms:
            img, kp = apply_step(step, img, kp)
        if kp is None:
            return img, torch.zeros_like(keypoints, dtype=torch.float32)
        return img, clip_visibility(kp, *image_size(img))

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


def transform_with_keypoints(
    transform: Callable[[Any], Any] | None, img: Any, keypoints: torch.Tensor
) -> tuple[Any, torch.Tensor]:
    """Apply ``transform`` to ``img`` and move ``keypoints`` with it when it knows how
    (:class:`KeypointCompose`, or a transform with ``apply``/``with_keypoints``); otherwise the
    keypoints become unknown (zeros). ``None`` keeps both unchanged."""
    if transform is None:
        return img, keypoints
    if isinstance(transform, T.Compose):
        transform = KeypointCompose(transform.transforms)
    if hasattr(transform, "apply"):
        return transform.apply(img, keypoints)  # type: ignore[attr-defined]
    img, kp = apply_step(transform, img, keypoints)
    return img, (kp if kp is not None else torch.zeros_like(keypoints))

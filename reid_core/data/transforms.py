"""Image transforms for re-id: resize, horizontal flip, pad + random crop (or AIM's upscale crop),
ImageNet normalisation and random erasing.

Random erasing (Zhong et al. 2020) runs on the *normalised* tensor and writes a per-channel fill value
into it. Both BoT/ICSR (fill = ImageNet mean ``(0.485, 0.456, 0.406)``) and CAL/AIM (fill
``(0.4914, 0.4822, 0.4465)``) write these raw values after normalisation, so the erased patch is
not the mean colour but a near-zero grey in normalised space. We keep that quirk (``erasing_fill``).

All randomness comes from ``torch``'s generator, so DataLoader worker seeding makes it reproducible.
Both builders return a :class:`~reid_core.data.keypoints.KeypointCompose`, which also moves keypoints
with the pixels (``transform.apply(img, keypoints)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from PIL import Image
from torchvision import transforms as T
from torchvision.transforms import InterpolationMode

from reid_core.data.keypoints import KeypointCompose

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: The erasing fill of CAL/AIM (CIFAR's mean, written into the normalised tensor).
CAL_ERASING_FILL = (0.4914, 0.4822, 0.4465)

_INTERPOLATIONS = {"bilinear": InterpolationMode.BILINEAR, "bicubic": InterpolationMode.BICUBIC}
_PIL_INTERPOLATIONS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}
CROPS = ("pad", "upscale", "none")


def _interpolation(name: str) -> InterpolationMode:
    try:
        return _INTERPOLATIONS[name]
    except KeyError:
        raise ValueError(f"unknown interpolation {name!r}; choose one of {', '.join(_INTERPOLATIONS)}") from None


class RandomErasing:
    """Random erasing of one rectangle of a ``[C, H, W]`` tensor, with probability ``p``.

    The area is U(``scale``) of the image, the aspect ratio U(``ratio``) (uniform, not log-uniform), and up
    to ``attempts`` rectangles are drawn until one fits; it is filled with ``fill`` (one value per channel).

    Args:
        p: probability of erasing (0.5).
        scale: range of the erased area fraction ((0.02, 0.4)).
        ratio: range of the aspect ratio h/w ((0.3, 1/0.3)).
        fill: per-channel values written into the tensor (ImageNet mean by default; see the module doc).
        attempts: number of draws before giving up (100).
    """

    def __init__(
        self,
        p: float = 0.5,
        scale: tuple[float, float] = (0.02, 0.4),
        ratio: tuple[float, float] = (0.3, 1 / 0.3),
        fill: Sequence[float] = IMAGENET_MEAN,
        attempts: int = 100,
    ) -> None:
        self.p, self.scale, self.ratio, self.fill, self.attempts = p, scale, ratio, tuple(fill), attempts

    #: Erasing changes pixel values, not positions: keypoints stay where they are.
    keeps_geometry = True

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        """Return ``img`` with one rectangle erased (in place) with probability ``p``."""
        if self.p <= 0 or torch.rand(()).item() >= self.p:
            return img
        channels, height, width = img.shape
        area = height * width
        for _ in range(self.attempts):
            target = area * _uniform(*self.scale)
            aspect = _uniform(*self.ratio)
            h = round(math.sqrt(target * aspect))
            w = round(math.sqrt(target / aspect))
            if 0 < h < height and 0 < w < width:
                top = int(torch.randint(0, height - h + 1, ()).item())
                left = int(torch.randint(0, width - w + 1, ()).item())
                fill = torch.tensor(self.fill, dtype=img.dtype)
                if fill.numel() != channels:  # e.g. one value for a grey image
                    fill = fill[:1].expand(channels)
                img[:, top : top + h, left : left + w] = fill.view(-1, 1, 1)
                return img
        return img

    def __repr__(self) -> str:
        return f"RandomErasing(p={self.p}, scale={self.scale}, ratio={self.ratio}, fill={self.fill})"


def _uniform(low: float, high: float) -> float:
    return low + (high - low) * torch.rand(()).item()


class RandomUpscaleCrop:
    """CAL/AIM's crop: with probability ``p``, enlarge a ``height x width`` image by ``scale`` (1.125) and
    take a random ``height x width`` crop; otherwise leave it (already resized) as is."""

    def __init__(self, height: int, width: int, p: float = 0.5, scale: float = 1.125, interpolation: str = "bilinear"):
        self.height, self.width, self.p, self.scale = height, width, p, scale
        self.interpolation = _PIL_INTERPOLATIONS[interpolation]

    def __call__(self, img: Image.Image) -> Image.Image:
        """Return the (possibly) upscaled and cropped PIL image."""
        return self.with_keypoints(img, None)[0]

    def with_keypoints(self, img: Image.Image, keypoints: torch.Tensor | None) -> tuple[Image.Image, Any]:
        """The (possibly) upscaled and cropped image, and ``keypoints [K, 3]`` moved with it."""
        if torch.rand(()).item() >= self.p:
            return img, keypoints
        new_w, new_h = round(self.width * self.scale), round(self.height * self.scale)
        big = img.resize((new_w, new_h), self.interpolation)
        left = round(_uniform(0, new_w - self.width))
        top = round(_uniform(0, new_h - self.height))
        out = big.crop((left, top, left + self.width, top + self.height))
        if keypoints is None:
            return out, None
        from reid_core.data.keypoints import clip_visibility, scale_keypoints, shift_keypoints

        moved = shift_keypoints(scale_keypoints(keypoints, new_w / img.width, new_h / img.height), -left, -top)
        return out, clip_visibility(moved, self.height, self.width)

    def __repr__(self) -> str:
        return f"RandomUpscaleCrop({self.height}x{self.width}, p={self.p}, scale={self.scale})"


def build_train_transform(
    height: int,
    width: int,
    *,
    flip_p: float = 0.5,
    pad: int = 10,
    pad_fill: int | Sequence[int] = 0,
    color_jitter: Sequence[float] | None = None,
    random_crop: str = "pad",
    erasing_p: float = 0.5,
    erasing_fill: Sequence[float] = IMAGENET_MEAN,
    erasing_scale: tuple[float, float] = (0.02, 0.4),
    interpolation: str = "bilinear",
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> Callable[[Image.Image], torch.Tensor]:
    """The training transform: PIL image -> normalised ``[3, height, width]`` tensor.

    Order: Resize; then ``random_crop="pad"``: flip, pad by ``pad`` with ``pad_fill``, random crop (BoT,
    ICSR); ``"upscale"``: AIM's 1.125x upscale crop with p 0.5, then flip; ``"none"``: flip only. Then the
    optional colour jitter, ToTensor, Normalize(mean, std) and RandomErasing(``erasing_p``) writing
    ``erasing_fill`` into the normalised tensor.

    Args:
        height, width: output size.
        flip_p: horizontal flip probability (0 disables).
        pad: padding before the random crop (``random_crop="pad"``).
        pad_fill: the padded pixels' value, one int or one per channel (0; camera-mixup uses 127).
        color_jitter: ``(brightness, contrast, saturation, hue)`` of torchvision's ``ColorJitter``,
            applied to every image after the crop; ``None`` (default) disables it.
        random_crop: ``"pad"``, ``"upscale"`` or ``"none"``.
        erasing_p: random erasing probability (0 disables).
        erasing_fill: per-channel fill of erased pixels (ImageNet mean; CAL/AIM: :data:`CAL_ERASING_FILL`).
        erasing_scale: range of the erased area fraction ((0.02, 0.4)).
        interpolation: ``"bilinear"`` (BoT, AIM) or ``"bicubic"`` (ICSR).
        mean, std: normalisation (ImageNet).
    """
    if random_crop not in CROPS:
        raise ValueError(f"unknown random_crop {random_crop!r}; choose one of {', '.join(CROPS)}")
    steps: list[Any] = [T.Resize((height, width), interpolation=_interpolation(interpolation))]
    flip = [T.RandomHorizontalFlip(p=flip_p)] if flip_p > 0 else []
    if random_crop == "pad":
        steps += flip
        if pad > 0:
            fill = pad_fill if isinstance(pad_fill, int) else tuple(int(v) for v in pad_fill)
            steps += [T.Pad(pad, fill=fill), T.RandomCrop((height, width))]
    elif random_crop == "upscale":
        steps += [RandomUpscaleCrop(height, width, interpolation=interpolation), *flip]
    else:
        steps += flip
    if color_jitter is not None:
        if len(color_jitter) != 4:
            raise ValueError(f"color_jitter needs (brightness, contrast, saturation, hue), got {color_jitter!r}")
        brightness, contrast, saturation, hue = (float(v) for v in color_jitter)
        steps.append(T.ColorJitter(brightness=brightness, contrast=contrast, saturation=saturation, hue=hue))
    steps += [T.ToTensor(), T.Normalize(mean=list(mean), std=list(std))]
    if erasing_p > 0:
        steps.append(RandomErasing(p=erasing_p, scale=tuple(erasing_scale), fill=erasing_fill))
    return KeypointCompose(steps)


def build_test_transform(
    height: int,
    width: int,
    *,
    interpolation: str = "bilinear",
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> Callable[[Image.Image], torch.Tensor]:
    """The test transform: Resize, ToTensor, Normalize (ImageNet mean/std)."""
    return KeypointCompose(
        [
            T.Resize((height, width), interpolation=_interpolation(interpolation)),
            T.ToTensor(),
            T.Normalize(mean=list(mean), std=list(std)),
        ]
    )

"""A torch ``Dataset`` over a list of :class:`Sample`: reads each image and returns the batch dict.

Item format (collated by the default ``DataLoader`` collate into the batch the methods receive)::

    {"img": Tensor[3, H, W], "pid": int, "camid": int, "clothes_id": int (-1 if none),
     "modality": int (0 visible, 1 infrared, -1 none), "domain": str ("" if none),
     "keypoints": Tensor[17, 3] ((x, y, visibility) in the transformed image's pixels; zeros if the
     sample has none or the transform cannot move them, see ``reid_core.data.keypoints``),
     "index": int (position in ``samples``)}
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from PIL import Image
from torch.utils.data import Dataset

from reid_core.data.keypoints import keypoint_tensor, transform_with_keypoints
from reid_core.data.sample import Sample
from reid_core.datasets.base import DatasetError

log = logging.getLogger(__name__)

MODALITY_CODES = {"visible": 0, "infrared": 1, None: -1}


def read_image(path: str) -> Image.Image:
    """Read an image as RGB (grey and infrared images get 3 equal channels).

    Raises:
        DatasetError: the file is missing, truncated or not an image; the message names the path.
    """
    try:
        with Image.open(path) as img:
            return img.convert("RGB")  # convert() forces the full decode inside the try
    except FileNotFoundError:
        raise DatasetError(f"image file {path} does not exist; is the data set complete?") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise DatasetError(
            f"image file {path} cannot be read ({type(exc).__name__}: {exc}); the file is truncated or "
            "not an image: re-extract or re-download it"
        ) from exc


class ImageDataset(Dataset):
    """Images of a split with their labels, as dicts (see the module docstring).

    Args:
        samples: the split (``dataset.train``...).
        transform: applied to the PIL image (e.g. :func:`build_train_transform`); ``None`` keeps the PIL image.
        labels: one label per sample replacing ``pid`` (pseudo labels; -1 marks an outlier, which a sampler
            skips). Must have ``len(samples)`` entries.

    Example:
        >>> ds = ImageDataset(dataset.train, build_test_transform(256, 128))
        >>> item = ds[0]
        >>> item["img"].shape
        torch.Size([3, 256, 128])
    """

    def __init__(
        self,
        samples: Sequence[Sample],
        transform: Callable[[Image.Image], Any] | None = None,
        labels: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.samples = list(samples)
        self.transform = transform
        if labels is not None and len(labels) != len(self.samples):
            raise ValueError(f"labels has {len(labels)} entries for {len(self.samples)} samples")
        self.labels = None if labels is None else [int(x) for x in labels]

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def pids(self) -> list[int]:
        """The label of every sample (``labels`` when given, else ``pid``): what samplers group by."""
        return list(self.labels) if self.labels is not None else [s.pid for s in self.samples]

    @property
    def camids(self) -> list[int]:
        """The camera id of every sample."""
        return [s.camid for s in self.samples]

    @property
    def modalities(self) -> list[int]:
        """The modality code of every sample (0 visible, 1 infrared, -1 none)."""
        return [MODALITY_CODES[s.modality] for s in self.samples]

    def __getitem__(self, index: int) -> dict[str, Any]:
        sample = self.samples[index]
        img: Any = read_image(sample.path)
        keypoints = keypoint_tensor(sample.keypoints)
        if sample.keypoints is None:
            if self.transform is not None:
                img = self.transform(img)
        else:
            img, keypoints = transform_with_keypoints(self.transform, img, keypoints)
        return {
            "img": img,
            "pid": self.labels[index] if self.labels is not None else sample.pid,
            "camid": sample.camid,
            "clothes_id": -1 if sample.clothes_id is None else sample.clothes_id,
            "modality": MODALITY_CODES[sample.modality],
            "domain": sample.domain or "",
            "keypoints": keypoints,
            "index": index,
        }

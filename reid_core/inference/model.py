"""A trained method ready for inference: feature extraction over images, and its export module."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from reid_core.data.image_dataset import MODALITY_CODES, read_image
from reid_core.data.sample import Sample
from reid_core.datasets.base import DatasetError
from reid_core.engine.context import to_device

logger = logging.getLogger(__name__)

#: ``advance(n)``: called after each batch with the number of images it held.
Advance = Callable[[int], None]


@attrs.frozen
class Extracted:
    """Features of the readable images, in input order, and the inputs that could not be read.

    ``kept[i]`` is the input position of ``features[i]``; ``skipped`` lists ``(position, message)``.
    """

    features: torch.Tensor
    kept: list[int]
    skipped: list[tuple[int, str]]


class _TolerantImages(Dataset):
    """Samples as the batch dicts of :class:`reid_core.data.ImageDataset`; an unreadable image
    becomes ``{"failed": message, "index": i}`` instead of an exception (dropped by the collate)."""

    def __init__(self, samples: Sequence[Sample], transform: Callable[[Image.Image], Any]) -> None:
        self.samples = list(samples)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        sample = self.samples[index]
        try:
            img = self.transform(read_image(sample.path))
        except DatasetError as exc:
            return {"failed": str(exc), "index": index}
        return {
            "img": img,
            "pid": sample.pid,
            "camid": sample.camid,
            "clothes_id": -1 if sample.clothes_id is None else sample.clothes_id,
            "modality": MODALITY_CODES[sample.modality],
            "index": index,
        }


def _collate(items: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, list[tuple[int, str]]]:
    from torch.utils.data import default_collate

    good = [item for item in items if "failed" not in item]
    failed = [(int(item["index"]), str(item["failed"])) for item in items if "failed" in item]
    return (default_collate(good) if good else None), failed


def samples_from_paths(paths: Iterable[str | Path]) -> list[Sample]:
    """Unlabelled samples (pid and camid -1) for image files."""
    return [Sample(str(p), -1, -1) for p in paths]


class ReidModel:
    """A method restored by :func:`reid_core.load`, in eval mode on its device.

    Attributes:
        method: the :class:`reid_core.methods.Method` (its modules hold the checkpoint's weights).
        config: the run config the method was built with.
        checkpoint: the checkpoint file it came from.
        transform: the method's test transform (PIL image -> normalised tensor).
    """

    def __init__(self, method: Any, context: Any, checkpoint: Path) -> None:
        from reid_core.data.transforms import build_test_transform

        self.method = method
        self.context = context
        self.config = context.config
        self.device = context.device
        self.checkpoint = Path(checkpoint)
        data = self.config.data
        self.transform = method.test_transform() or build_test_transform(data.height, data.width)

    @property
    def name(self) -> str:
        """The method's registered name."""
        return str(self.method.name)

    def __repr__(self) -> str:
        return f"ReidModel({self.name!r}, checkpoint={str(self.checkpoint)!r}, device={self.device})"

    @torch.no_grad()
    def features(self, batch: dict[str, Any]) -> torch.Tensor:
        """Test features (float32, CPU) of one batch dict (``img`` already transformed)."""
        self.method.train(False)
        return self.method.extract_features(to_device(batch, self.device)).float().cpu()

    def extract(
        self,
        inputs: str | Path | Image.Image | torch.Tensor | Sequence[str | Path | Image.Image | torch.Tensor],
        *,
        batch_size: int | None = None,
    ) -> torch.Tensor:
        """Features ``[N, D]`` (float32, CPU) of image paths, PIL images or tensors, in order.

        A tensor is an image already passed through :attr:`transform` (``[3, H, W]``) or a batch
        of them (``[B, 3, H, W]``). An unreadable file raises :class:`reid_core.DatasetError`
        naming it (:meth:`extract_samples` can skip such files instead).
        """
        if isinstance(inputs, torch.Tensor):
            items: list[Any] = list(inputs) if inputs.dim() == 4 else [inputs]
        elif isinstance(inputs, (str, Path, Image.Image)):
            items = [inputs]
        else:
            items = list(inputs)
        size = batch_size or int(self.config.data.eval_batch_size)
        chunks = []
        for start in range(0, len(items), size):
            images = [self._tensor(item) for item in items[start : start + size]]
            chunks.append(self.features({"img": torch.stack(images)}))
        if not chunks:
            return torch.empty(0, 0)
        return torch.cat(chunks)

    def _tensor(self, item: Any) -> torch.Tensor:
        if isinstance(item, torch.Tensor):
            if item.dim() != 3:
                raise ValueError(f"extract() expects [3, H, W] image tensors, got shape {tuple(item.shape)}")
            return item
        if isinstance(item, Image.Image):
            return self.transform(item.convert("RGB"))
        return self.transform(read_image(str(item)))

    def extract_samples(
        self,
        samples: Sequence[Sample],
        *,
        batch_size: int | None = None,
        num_workers: int = 0,
        skip_unreadable: bool = False,
        advance: Advance | None = None,
    ) -> Extracted:
        """Features of ``samples`` with their labels in the batch (``camid``, ``modality``...), as in evaluation.

        An unreadable image raises :class:`reid_core.DatasetError` naming it, or with
        ``skip_unreadable`` is logged as a warning and left out (see :class:`Extracted`).
        ``advance(n)`` is called after every batch (progress reporting).
        """
        dataset = _TolerantImages(samples, self.transform)
        loader = DataLoader(dataset, batch_size=batch_size or int(self.config.data.eval_batch_size),
                            shuffle=False, num_workers=num_workers, collate_fn=_collate)
        chunks, kept, skipped = [], [], []
        for batch, failed in loader:
            for _index, message in failed:
                if not skip_unreadable:
                    raise DatasetError(f"{message} (use --skip-unreadable to leave such images out)")
                logger.warning("skipped: %s", message)
            skipped.extend(failed)
            if batch is not None:
                chunks.append(self.features(batch))
                kept.extend(int(i) for i in batch["index"])
            if advance is not None:
                advance(len(failed) + (0 if batch is None else len(batch["index"])))
        features = torch.cat(chunks) if chunks else torch.empty(0, 0)
        return Extracted(features, kept, skipped)

    def export_module(self) -> torch.nn.Module:
        """The method's test-time module (``Method.export_module``) in eval mode: images -> features."""
        self.method.train(False)
        return self.method.export_module().eval()

"""Features of image files or data set splits, written as the ``.npz`` that ``reid evaluate-features`` reads.

For data set splits the file holds, per split ``S`` (``query``, ``gallery``, ...):
``S_features [n, D]`` (float32), ``S_paths``, ``S_pids``, ``S_camids`` and, where the data set
has them, ``S_clothes`` and ``S_modality`` (0 visible, 1 infrared). For image files it holds
``features`` and ``paths``. Every file also holds ``method`` and ``metric`` (the method's
evaluation distance). Unreadable images that were skipped are left out of every array.
"""

from __future__ import annotations

import contextlib
import glob
import io
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reid_core.data.sample import Sample
from reid_core.datasets.base import DatasetError
from reid_core.engine import distributed
from reid_core.engine.checkpoint import atomic_write_bytes
from reid_core.evaluation.base import SplitLabels
from reid_core.inference.model import Advance, ReidModel, samples_from_paths
from reid_core.progress import Progress

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


@contextlib.contextmanager
def progress(total: int, description: str) -> Iterator[Advance]:
    """The progress hook of extraction: yields ``advance(n)``, shown through :mod:`reid_core.progress`
    (a tqdm bar on a terminal, a log line every tenth of ``total`` elsewhere)."""
    with Progress(total, desc=description, unit="img", log_every=max(total // 10, 1)) as bar:
        yield bar.update


def image_files(pattern: str) -> list[str]:
    """The image files of a folder (recursively, sorted) or of a glob pattern (sorted)."""
    path = Path(pattern)
    if path.is_dir():
        files = sorted(str(p) for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        where = f"folder {pattern!r} (looked for {', '.join(IMAGE_SUFFIXES)}, recursively)"
    else:
        files = sorted(p for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
        where = f"glob {pattern!r}"
    if not files:
        raise DatasetError(f"--images: no image file matches {where}")
    return files


def _split_arrays(split: str, samples: Sequence[Sample], features: np.ndarray) -> dict[str, np.ndarray]:
    labels = SplitLabels.from_samples(samples)
    arrays = {
        f"{split}_features": features,
        f"{split}_paths": np.asarray([s.path for s in samples], dtype=str),
        f"{split}_pids": labels.pids,
        f"{split}_camids": labels.camids,
    }
    if labels.clothes is not None:
        arrays[f"{split}_clothes"] = labels.clothes
    if labels.modality is not None:
        arrays[f"{split}_modality"] = labels.modality
    return arrays


def process_group() -> distributed.DistInfo:
    """The ranks of the process group this process joined (``torchrun``), else one process."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return distributed.DistInfo(rank=dist.get_rank(), world_size=dist.get_world_size())
    return distributed.DistInfo()


def _run(model: ReidModel, samples: Sequence[Sample], description: str, **kwargs: Any) -> tuple[np.ndarray, list[int]]:
    """Features and kept indices of ``samples``; under ``torchrun`` each rank extracts its share and
    every rank receives all of them, in order (ranks may skip different unreadable images)."""
    info = process_group()
    mine, valid = distributed.shard_indices(len(samples), info)
    mine = mine[:valid]
    with progress(len(mine), description) as advance:
        out = model.extract_samples([samples[i] for i in mine], advance=advance, **kwargs)
    if out.skipped:
        logger.warning("%s: %d unreadable image(s) left out", description, len(out.skipped))
    features, kept = out.features.numpy().astype(np.float32), [mine[k] for k in out.kept]
    if info.distributed:
        parts = [p for p in distributed.gather_objects((features, kept), info) if p[1]]
        kept = [i for _, part in parts for i in part]
        features = np.concatenate([f for f, _ in parts]) if parts else features
    return features, kept


def extract_splits(model: ReidModel, dataset: Any, splits: Sequence[str], **kwargs: Any) -> dict[str, np.ndarray]:
    """The ``.npz`` arrays of ``splits`` of ``dataset`` (see the module docstring)."""
    arrays: dict[str, np.ndarray] = {}
    for split in splits:
        samples = dataset.split(split)
        if not samples:
            raise DatasetError(f"data set {dataset.name!r}: split {split!r} is empty")
        features, kept = _run(model, samples, f"extract {split}", **kwargs)
        arrays.update(_split_arrays(split, [samples[i] for i in kept], features))
    return {**arrays, **_meta(model)}


def extract_images(model: ReidModel, paths: Sequence[str], **kwargs: Any) -> dict[str, np.ndarray]:
    """The ``.npz`` arrays (``features``, ``paths``) of image files."""
    features, kept = _run(model, samples_from_paths(paths), "extract images", **kwargs)
    return {"features": features, "paths": np.asarray([paths[i] for i in kept], dtype=str), **_meta(model)}


def _meta(model: ReidModel) -> dict[str, np.ndarray]:
    return {"method": np.asarray(model.name), "metric": np.asarray(str(model.method.eval_metric))}


def write_npz(arrays: dict[str, np.ndarray], path: Path) -> None:
    """Write ``arrays`` as an uncompressed ``.npz``, atomically (no pickled objects)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(buffer.getvalue(), Path(path))

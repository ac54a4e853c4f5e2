"""The stage-1 output: local (intra-camera) partitions, ``{camera: {image key: label}}`` as JSON.

Keys are ``Sample.key`` (the dataset-relative path), so the file survives moving the data.
Writes are atomic (temporary file + ``os.replace``) so an interrupted run never leaves half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reid_core.config import ConfigError

__all__ = ["PartitionError", "local_labels_for", "read_partitions", "write_partitions"]

FILENAME = "local_labels.json"


class PartitionError(ConfigError):
    """A local-partition file is missing, malformed, or does not cover the training images.

    A :class:`~reid_core.config.ConfigError` (``icsr.local_labels`` names the file), so the CLI
    prints the message without a traceback.
    """


def write_partitions(path: str | Path, partitions: Mapping[int, Mapping[str, int]]) -> None:
    """Atomically write ``{camera: {key: label}}`` (cameras in ascending order)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {str(cam): {str(k): int(v) for k, v in partitions[cam].items()} for cam in sorted(partitions)}
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_partitions(path: str | Path) -> dict[int, dict[str, int]]:
    """Read a partition file written by :func:`write_partitions`; errors name the file and the fix."""
    path = Path(path)
    if not path.is_file():
        raise PartitionError(
            f"local partition file {str(path)!r} does not exist; run the intra-camera stage first "
            f"(icsr.stage=all or intra) or point icsr.local_labels at its {FILENAME}"
        )
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PartitionError(f"local partition file {str(path)!r} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise PartitionError(f"local partition file {str(path)!r}: expected {{camera: {{image: label}}}}")
    out: dict[int, dict[str, int]] = {}
    for cam, table in raw.items():
        try:
            cam_id = int(cam)
        except ValueError:
            raise PartitionError(f"local partition file {str(path)!r}: camera key {cam!r} is not an integer") from None
        if not isinstance(table, dict) or not all(isinstance(v, int) for v in table.values()):
            raise PartitionError(
                f"local partition file {str(path)!r}: camera {cam} must map image keys to integer labels"
            )
        out[cam_id] = {str(k): int(v) for k, v in table.items()}
    return out


def local_labels_for(
    keys: Sequence[str], cams: Sequence[int], partitions: Mapping[int, Mapping[str, int]], source: str = ""
) -> np.ndarray:
    """The local label of every image (looked up in its own camera's partition).

    Raises :class:`PartitionError` naming the first image (in order) that has no label.
    """
    out = np.empty(len(keys), dtype=np.int64)
    where = f" {source!r}" if source else ""
    for i, (key, cam) in enumerate(zip(keys, cams)):
        table = partitions.get(int(cam))
        if table is None:
            raise PartitionError(
                f"local partition file{where} has no partition for camera {cam} (first image: {key!r}); "
                f"it holds cameras {sorted(partitions)}. Rerun the intra-camera stage on this data set."
            )
        if key not in table:
            raise PartitionError(
                f"local partition file{where} does not cover training image {key!r} (camera {cam}); "
                f"it was made for another data set or split. Rerun the intra-camera stage on this data set."
            )
        out[i] = table[key]
    return out

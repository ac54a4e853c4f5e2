"""The record every data set yields: one image with its labels."""

from __future__ import annotations

import attrs

MODALITIES = ("visible", "infrared")


def _check_modality(instance: Sample, attribute: attrs.Attribute, value: str | None) -> None:
    if value is not None and value not in MODALITIES:
        raise ValueError(f"Sample.modality must be one of {MODALITIES} or None, got {value!r} ({instance.path})")


@attrs.frozen
class Sample:
    """One image of a data set.

    Args:
        path: absolute path of the image file.
        pid: person id (relabelled 0..N-1 in train splits; raw in test splits; 0 may be a distractor).
        camid: 0-based camera id.
        clothes_id: outfit id where the data set has one (relabelled 0..M-1 in train splits).
        modality: ``"visible"`` or ``"infrared"`` for cross-modality data sets.
        domain: a domain name for adaptation data sets.
        keypoints: the 17 COCO keypoints as ``((x, y, visibility), ...)`` in image pixels.
        relpath: the path relative to the data set's folder; stable keys for saved partitions.
    """

    path: str
    pid: int
    camid: int
    clothes_id: int | None = None
    modality: str | None = attrs.field(default=None, validator=_check_modality)
    domain: str | None = None
    keypoints: tuple[tuple[float, float, float], ...] | None = None
    relpath: str | None = None

    @property
    def key(self) -> str:
        """A location-independent key: the relative path where known, else the path."""
        return self.relpath if self.relpath is not None else self.path

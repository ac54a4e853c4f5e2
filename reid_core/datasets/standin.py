"""A checkpoint's copy of its training labels, and the label-only data set rebuilt from it.

A method builds its modules from the training split's labels (classifier sizes, clothes
counts, cameras), so loading a checkpoint for inference would otherwise need the training data
on disk. ``reid run`` saves :func:`train_label_arrays` in every checkpoint; :class:`LabelOnlyDataset`
gives a method the same ``train`` labels (without images) when the checkpoint is loaded for
feature extraction or export.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from reid_core.data.sample import MODALITIES, Sample
from reid_core.datasets.base import DatasetError, EvalSpec, ReidDataset

#: Columns saved per training sample (``-1`` = none).
LABEL_COLUMNS = ("pid", "camid", "clothes_id", "modality")


def train_label_arrays(samples: Sequence[Sample]) -> dict[str, list[int]]:
    """The labels of a training split as plain int lists (checkpoints hold plain values only)."""
    return {
        "pid": [int(s.pid) for s in samples],
        "camid": [int(s.camid) for s in samples],
        "clothes_id": [-1 if s.clothes_id is None else int(s.clothes_id) for s in samples],
        "modality": [-1 if s.modality is None else MODALITIES.index(s.modality) for s in samples],
    }


class LabelOnlyDataset(ReidDataset):
    """The training labels of a checkpoint as a data set: ``train`` has one image-less sample per
    training image (path ``<train image i>``); ``query`` and ``gallery`` are empty."""

    name = "checkpoint-labels"

    def __init__(self, labels: Mapping[str, Any], *, name: str = "checkpoint-labels",
                 evaluations: Sequence[EvalSpec] = ()) -> None:
        missing = [c for c in LABEL_COLUMNS if c not in labels]
        if missing:
            raise DatasetError(f"checkpoint train labels lack {missing}; expected columns {list(LABEL_COLUMNS)}")
        columns = {c: np.asarray(labels[c], dtype=np.int64) for c in LABEL_COLUMNS}
        train = [
            Sample(
                f"<train image {i}>",
                int(pid),
                int(cam),
                clothes_id=None if clothes < 0 else int(clothes),
                modality=None if modality < 0 else MODALITIES[int(modality)],
            )
            for i, (pid, cam, clothes, modality) in enumerate(zip(*(columns[c] for c in LABEL_COLUMNS)))
        ]
        super().__init__(train, [], [], evaluations=evaluations)
        self.name = name

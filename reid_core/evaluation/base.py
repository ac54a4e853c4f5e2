"""The evaluator contract: labels of a split as arrays, and the object a protocol returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import attrs
import numpy as np

from reid_core.data.sample import Sample

#: Keys every evaluator's result has (metrics in percent, ``queries`` = evaluated queries).
RESULT_KEYS = ("rank1", "rank5", "rank10", "rank20", "mAP", "mINP", "queries")


class EvaluationError(Exception):
    """Evaluation cannot proceed (no valid query, mismatched arrays); the message says why."""


def _int_array(values: Sequence[int] | np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


@attrs.frozen
class SplitLabels:
    """The labels of a query or gallery split, as aligned arrays.

    ``clothes`` is ``None`` when the data set has no clothes ids; ``modality`` holds 0 for
    visible and 1 for infrared (``None`` when single-modality).
    """

    pids: np.ndarray = attrs.field(converter=_int_array)
    camids: np.ndarray = attrs.field(converter=_int_array)
    clothes: np.ndarray | None = attrs.field(default=None, converter=attrs.converters.optional(_int_array))
    modality: np.ndarray | None = attrs.field(default=None, converter=attrs.converters.optional(_int_array))

    def __attrs_post_init__(self) -> None:
        n = len(self.pids)
        for name in ("camids", "clothes", "modality"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise EvaluationError(f"{name} has {len(value)} entries but pids has {n}")

    def __len__(self) -> int:
        return len(self.pids)

    @classmethod
    def from_samples(cls, samples: Sequence[Sample]) -> SplitLabels:
        has_clothes = any(s.clothes_id is not None for s in samples)
        has_modality = any(s.modality is not None for s in samples)
        return cls(
            pids=[s.pid for s in samples],
            camids=[s.camid for s in samples],
            clothes=[-1 if s.clothes_id is None else s.clothes_id for s in samples] if has_clothes else None,
            modality=[1 if s.modality == "infrared" else 0 for s in samples] if has_modality else None,
        )


class Evaluator(Protocol):
    """A registered evaluation protocol (``market``, ``cloth-changing``, ``sysu-all``, ...)."""

    def evaluate(
        self,
        query_features: Any,
        gallery_features: Any,
        query: SplitLabels,
        gallery: SplitLabels,
        *,
        metric: str = "euclidean",
        rerank: bool = False,
    ) -> dict[str, float]:
        """Metrics in percent with at least :data:`RESULT_KEYS` (``queries``: evaluated count)."""
        ...

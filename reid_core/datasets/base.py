"""The data set object every dataset factory returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from reid_core.data.sample import Sample


class DatasetError(Exception):
    """A data set cannot be read; the message names the path, what was expected and the fix."""


@attrs.frozen
class EvalSpec:
    """One evaluation a data set asks for: which protocol (a registered evaluator) on which splits.

    Args:
        protocol: the evaluator's registered name (``market``, ``cloth-changing``, ``sysu-all``...).
        query: the split name used as query (``query``, or an extra split such as ``query_c``).
        gallery: the split name used as gallery.
        name: the key of the result in ``metrics.json`` (defaults to ``protocol``).
        options: keyword options passed to the evaluator factory (e.g. ``{"trials": 10}``).
    """

    protocol: str
    query: str = "query"
    gallery: str = "gallery"
    name: str = ""
    options: dict[str, Any] = attrs.field(factory=dict)

    @property
    def key(self) -> str:
        return self.name or self.protocol


def split_stats(samples: Sequence[Sample]) -> dict[str, Any]:
    """Identities, images, cameras, clothes and modalities of one split."""
    clothes = {s.clothes_id for s in samples if s.clothes_id is not None}
    has_clothes = any(s.clothes_id is not None for s in samples)
    return {
        "ids": len({s.pid for s in samples}),
        "images": len(samples),
        "cameras": len({s.camid for s in samples}),
        "clothes": len(clothes) if has_clothes else None,
        "modalities": sorted({s.modality for s in samples if s.modality is not None}),
    }


class ReidDataset:
    """A parsed data set: ``train``, ``query``, ``gallery`` and any extra evaluation splits.

    Subclasses fill the splits in ``__init__`` (parsing eagerly, so that layout errors surface
    before training) and set ``evaluations``: the protocols a run evaluates, the first one
    being the main metric for model selection.
    """

    name: str = "dataset"
    #: The option that selects one of the data set's published trials (RegDB: ``trial``), or None;
    #: ``reid run --trials`` sets it for each trial.
    trial_option: str | None = None
    #: Evaluations run by ``reid run``; the first is the main one (model selection).
    evaluations: tuple[EvalSpec, ...] = (EvalSpec("market"),)

    def __init__(
        self,
        train: list[Sample],
        query: list[Sample],
        gallery: list[Sample],
        extra: dict[str, list[Sample]] | None = None,
        *,
        evaluations: Sequence[EvalSpec] | None = None,
        root: str | None = None,
    ) -> None:
        self.train = train
        self.query = query
        self.gallery = gallery
        self.extra = dict(extra or {})
        self.root = root
        if evaluations is not None:
            self.evaluations = tuple(evaluations)

    def split(self, name: str) -> list[Sample]:
        """A split by name: ``train``, ``query``, ``gallery`` or an extra split."""
        if name in ("train", "query", "gallery"):
            return getattr(self, name)
        try:
            return self.extra[name]
        except KeyError:
            raise DatasetError(
                f"data set {self.name!r} has no split {name!r}; splits: {', '.join(self.split_names())}"
            ) from None

    def split_names(self) -> list[str]:
        return ["train", "query", "gallery", *self.extra]

    @property
    def num_train_pids(self) -> int:
        return len({s.pid for s in self.train})

    @property
    def num_train_cams(self) -> int:
        return len({s.camid for s in self.train})

    @property
    def num_train_clothes(self) -> int:
        return len({s.clothes_id for s in self.train if s.clothes_id is not None})

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per split: ids, images, cameras, clothes (or None), modalities."""
        return {name: split_stats(self.split(name)) for name in self.split_names()}

"""Features of one evaluation of a data set, and the evaluator that scores it (shared by visualize and plot)."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from reid_core.datasets.base import DatasetError, EvalSpec
from reid_core.evaluation.base import SplitLabels


@attrs.frozen
class EvalFeatures:
    """Query and gallery samples of one :class:`EvalSpec`, their features and the method's distance."""

    spec: EvalSpec
    query: list[Any]
    gallery: list[Any]
    query_features: np.ndarray
    gallery_features: np.ndarray
    metric: str

    def labels(self) -> tuple[SplitLabels, SplitLabels]:
        return SplitLabels.from_samples(self.query), SplitLabels.from_samples(self.gallery)


def pick_evaluation(dataset: Any, key: str | None) -> EvalSpec:
    """The data set's evaluation called ``key`` (default: its first, the main one)."""
    specs = list(dataset.evaluations)
    if not specs:
        raise DatasetError(f"data set {dataset.name!r} declares no evaluation (query/gallery protocol)")
    if key is None:
        return specs[0]
    for spec in specs:
        if spec.key == key:
            return spec
    raise DatasetError(
        f"data set {dataset.name!r} has no evaluation {key!r}; it has: {', '.join(s.key for s in specs)}"
    )


def evaluation_features(model: Any, dataset: Any, spec: EvalSpec, *, batch_size: int | None = None) -> EvalFeatures:
    """Extract the query and gallery features of ``spec`` with ``model`` (a :class:`ReidModel`)."""
    from reid_core.inference.extract import progress

    query, gallery = dataset.split(spec.query), dataset.split(spec.gallery)
    with progress(len(query), f"extract {spec.query}") as advance:
        qf = model.extract_samples(query, batch_size=batch_size, advance=advance).features.numpy()
    with progress(len(gallery), f"extract {spec.gallery}") as advance:
        gf = model.extract_samples(gallery, batch_size=batch_size, advance=advance).features.numpy()
    return EvalFeatures(spec, list(query), list(gallery), qf, gf, str(model.method.eval_metric))


def create_evaluator(spec: EvalSpec, **extra: Any) -> Any:
    """The registered evaluator of ``spec`` with its options (plus ``extra``)."""
    from reid_core.plugins import get_registry

    return get_registry("evaluators").create(spec.protocol, **{**spec.options, **extra})


def features_from_npz(path: Any, protocol: str) -> EvalFeatures:
    """The query and gallery of a ``reid extract`` file (features, labels and ``*_paths``), to show without a model."""
    from pathlib import Path

    from reid_core.data.sample import Sample
    from reid_core.evaluation.commands import load_npz, npz_labels

    path = Path(path)
    arrays = load_npz(path)
    sides = {}
    for side in ("query", "gallery"):
        labels = npz_labels(arrays, side, path)
        for key in (f"{side}_features", f"{side}_paths"):
            if key not in arrays or len(arrays[key]) != len(labels):
                raise DatasetError(f"{path}: needs {key!r} with one entry per {side} image (reid extract --dataset "
                                   "writes it); have: " + ", ".join(sorted(arrays)))
        clothes = labels.clothes if labels.clothes is not None else [None] * len(labels)
        sides[side] = [Sample(str(p), int(pid), int(cam), clothes_id=None if c is None or c < 0 else int(c))
                       for p, pid, cam, c in zip(arrays[f"{side}_paths"], labels.pids, labels.camids, clothes)]
    metric = str(arrays["metric"]) if "metric" in arrays else "euclidean"
    return EvalFeatures(EvalSpec(protocol), sides["query"], sides["gallery"], arrays["query_features"],
                        arrays["gallery_features"], metric)

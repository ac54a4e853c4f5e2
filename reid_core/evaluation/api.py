"""One-call evaluation: a registered protocol by name, on samples or label arrays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reid_core.data.sample import Sample
from reid_core.evaluation.base import SplitLabels


def evaluate_split(
    evaluator_name: str,
    query_features: Any,
    gallery_features: Any,
    query: Sequence[Sample] | SplitLabels,
    gallery: Sequence[Sample] | SplitLabels,
    *,
    metric: str = "euclidean",
    rerank: bool = False,
    options: Mapping[str, Any] | None = None,
) -> dict[str, float]:
    """Evaluate features with the evaluator registered as ``evaluator_name`` (an EvalSpec's protocol).

    Args:
        evaluator_name: ``market``, ``standard``, ``cloth-changing``, ``same-clothes``, ``sysu-all``,
            ``sysu-indoor``, ``regdb``, ``celeb`` or a plugin's evaluator.
        query_features: [q, d] features (numpy or torch), in the order of ``query``.
        gallery_features: [g, d] features, in the order of ``gallery``.
        query: the query samples (or their :class:`SplitLabels`).
        gallery: the gallery samples (or labels).
        metric: ``euclidean`` (squared) or ``cosine``.
        rerank: apply k-reciprocal re-ranking (k1=20, k2=6, lambda=0.3).
        options: the evaluator factory's options (``EvalSpec.options``), e.g. ``{"trials": 10}``.

    Returns:
        ``rank1``, ``rank5``, ``rank10``, ``rank20``, ``mAP``, ``mINP`` (percent), ``queries``,
        ``skipped`` (and protocol extras such as ``trials``).

    Example:
        >>> evaluate_split("market", qf, gf, dataset.query, dataset.gallery)  # doctest: +SKIP
    """
    from reid_core.plugins import get_registry

    evaluator = get_registry("evaluators").create(evaluator_name, **dict(options or {}))
    query_labels = query if isinstance(query, SplitLabels) else SplitLabels.from_samples(query)
    gallery_labels = gallery if isinstance(gallery, SplitLabels) else SplitLabels.from_samples(gallery)
    return evaluator.evaluate(
        query_features, gallery_features, query_labels, gallery_labels, metric=metric, rerank=rerank
    )

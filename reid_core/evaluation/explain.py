"""Why each gallery item counts as it does for a query: the ranked list a protocol sees, item by item.

For ``reid visualize``: every query's gallery items in ranking order (stable ascending distance,
as the metrics use), each marked ``match`` (a good item), ``wrong`` (another identity) or
``ignored`` (junk: removed from the query's ranking by the protocol), with the reason; and the
query's AP. The good and junk sets are the protocol's own (:func:`build_pairs` with the
protocol's rule), so what is shown is exactly what is scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from reid_core.evaluation.base import EvaluationError, SplitLabels
from reid_core.evaluation.distance import as_features, pairwise_distance
from reid_core.evaluation.fastrank import PairTable, build_pairs
from reid_core.evaluation.ranking import average_precision, dense_positions

MATCH, WRONG, IGNORED = "match", "wrong", "ignored"


@attrs.frozen
class RankedQuery:
    """One query's top of the ranking.

    ``gallery[i]`` is the gallery index at rank ``i`` (0-based, ignored items included),
    ``distance[i]`` its distance, ``status[i]`` one of ``match``/``wrong``/``ignored`` and
    ``reason[i]`` why an item is ignored (``""`` otherwise). ``ap`` is in percent (``nan``
    for a query without a good item, which the metrics skip).
    """

    query: int
    gallery: np.ndarray
    distance: np.ndarray
    status: tuple[str, ...]
    reason: tuple[str, ...]
    ap: float


def _pairs_of(evaluator: Any, query: SplitLabels, gallery: SplitLabels) -> PairTable:
    rule = getattr(evaluator, "rule", None)
    if rule is None:
        raise EvaluationError(
            f"evaluator {getattr(evaluator, 'name', type(evaluator).__name__)!r} has no pair rule to explain; "
            "rankings can be shown for market, standard, cloth-changing, same-clothes, regdb and celeb "
            "(SYSU-MM01 draws a random gallery per trial)"
        )
    if getattr(evaluator, "needs_clothes", False):
        evaluator._check_labels(query, gallery)
    return build_pairs(query, gallery, rule)


def junk_reason(query: SplitLabels, gallery: SplitLabels, q: int, g: int, *, uses_clothes: bool) -> str:
    """The label facts that make a same-identity item junk: same camera, same or other clothes."""
    facts = []
    if query.camids[q] == gallery.camids[g]:
        facts.append("same camera")
    if uses_clothes and query.clothes is not None and gallery.clothes is not None:
        facts.append("same clothes" if query.clothes[q] == gallery.clothes[g] else "other clothes")
    return ", ".join(facts) or "junk"


def _masks(table: PairTable, q: int, n_gallery: int) -> tuple[np.ndarray, np.ndarray]:
    good = np.zeros(n_gallery, dtype=bool)
    junk = np.zeros(n_gallery, dtype=bool)
    good[table.good_g[table.good_start[q] : table.good_start[q] + table.good_count[q]]] = True
    junk[table.junk_g[table.junk_start[q] : table.junk_start[q] + table.junk_count[q]]] = True
    return good, junk


def explain_rankings(
    evaluator: Any,
    query_features: Any,
    gallery_features: Any,
    query: SplitLabels,
    gallery: SplitLabels,
    *,
    queries: Sequence[int] | None = None,
    top: int = 10,
    metric: str = "euclidean",
) -> list[RankedQuery]:
    """The top-``top`` ranked gallery items of ``queries`` (default: all) under ``evaluator``'s rules."""
    table = _pairs_of(evaluator, query, gallery)
    uses_clothes = bool(getattr(evaluator, "needs_clothes", False))
    ap_mode = getattr(evaluator, "ap", "non-interpolated")
    rows = range(len(query)) if queries is None else [int(q) for q in queries]
    qf = as_features(query_features, "query features")
    gf = as_features(gallery_features, "gallery features")
    out = []
    for q in rows:  # one distance row at a time: memory O(gallery)
        row = pairwise_distance(qf[q : q + 1], gf, metric)
        good, junk = _masks(table, q, len(gallery))
        positions, order = dense_positions(row, good[None], junk[None])
        ap = float(average_precision(positions, ap_mode)[0]) * 100 if positions.count[0] else float("nan")
        ranked = order[0, :top]
        status = tuple(IGNORED if junk[g] else MATCH if good[g] else WRONG for g in ranked)
        reason = tuple(
            junk_reason(query, gallery, q, int(g), uses_clothes=uses_clothes) if s == IGNORED else ""
            for g, s in zip(ranked, status)
        )
        out.append(RankedQuery(q, ranked, row[0, ranked], status, reason, ap))
    return out


def query_aps(evaluator: Any, query_features: Any, gallery_features: Any, query: SplitLabels,
              gallery: SplitLabels, *, metric: str = "euclidean") -> np.ndarray:
    """AP (percent) of every query under ``evaluator``'s rules; ``nan`` where the query has no good item."""
    return np.array([r.ap for r in explain_rankings(evaluator, query_features, gallery_features, query, gallery,
                                                     top=0, metric=metric)])

"""Single-modality protocols: a junk rule over same-pid (query, gallery) pairs, ranked exactly in blocks.

| protocol | good (for query q, gallery item g with the same pid) | junk (removed from q's ranking) |
| --- | --- | --- |
| ``market``, ``standard`` | different camera | same camera |
| ``cloth-changing`` | different camera and different clothes | same camera, or same clothes |
| ``same-clothes`` | different camera and same clothes | same camera, or different clothes |
| ``regdb`` | every same-pid item | nothing |
| ``celeb`` | every same-pid item (``same_camera_junk=true``: different camera) | nothing (same camera) |

A gallery item with another pid is never junk (Market's distractors, pid 0, stay as negatives).
Queries without a good item are skipped and counted (``skipped``); if none is left, an
:class:`EvaluationError` is raised. Options (every protocol here): ``ap`` =
``non-interpolated`` (default: torchreid, CAL) or ``trapezoid`` (Market-1501's official code),
``block_size`` = queries per distance block (default 512), ``cmc_curve`` = add the full CMC
curve to the result as ``cmc`` (percent; default false, since it has one value per gallery item).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from reid_core.evaluation.base import EvaluationError, SplitLabels
from reid_core.evaluation.distance import (
    DEFAULT_BLOCK,
    DistanceBlocks,
    MatrixBlocks,
    as_features,
    check_metric,
    l2_normalise,
)
from reid_core.evaluation.fastrank import PairRule, build_pairs, rank_with_pairs
from reid_core.evaluation.options import bool_option, check_inputs, check_options, choice_option, int_option
from reid_core.evaluation.ranking import AP_MODES, RankAccumulator

logger = logging.getLogger(__name__)

COMMON_OPTIONS = {
    "ap": "non-interpolated (default; torchreid, CAL) or trapezoid (Market-1501 official)",
    "block_size": f"queries per distance block (default {DEFAULT_BLOCK})",
    "cmc_curve": "true: add the full CMC curve (percent, one value per rank) as 'cmc' (default false)",
}


def rerank_distances(query_features: Any, gallery_features: Any, metric: str) -> np.ndarray:
    """k-reciprocal re-ranked [q, g] distances (k1=20, k2=6, lambda=0.3); cosine uses L2-normalised features."""
    try:
        from reid_core.neighbors.rerank import k_reciprocal_rerank
    except ImportError as exc:  # pragma: no cover - depends on the installed tree
        raise EvaluationError(
            f"re-ranking is unavailable: reid_core.neighbors.rerank failed to import ({exc})"
        ) from exc
    query = as_features(query_features, "query features")
    gallery = as_features(gallery_features, "gallery features")
    if metric == "cosine":
        query, gallery = l2_normalise(query), l2_normalise(gallery)
    return np.asarray(k_reciprocal_rerank(query, gallery), dtype=np.float32)


def _same_camera(query: SplitLabels, gallery: SplitLabels, qi: np.ndarray, gj: np.ndarray) -> np.ndarray:
    return query.camids[qi] == gallery.camids[gj]


def _same_clothes(query: SplitLabels, gallery: SplitLabels, qi: np.ndarray, gj: np.ndarray) -> np.ndarray:
    return query.clothes[qi] == gallery.clothes[gj]  # type: ignore[index]


def market_rule(
    query: SplitLabels, gallery: SplitLabels, qi: np.ndarray, gj: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Junk = same pid and same camera; good = same pid, other camera."""
    junk = _same_camera(query, gallery, qi, gj)
    return ~junk, junk


def cloth_changing_rule(
    query: SplitLabels, gallery: SplitLabels, qi: np.ndarray, gj: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """CAL's CC mode: junk = same camera or same clothes; good = other camera and other clothes."""
    junk = _same_camera(query, gallery, qi, gj) | _same_clothes(query, gallery, qi, gj)
    return ~junk, junk


def same_clothes_rule(
    query: SplitLabels, gallery: SplitLabels, qi: np.ndarray, gj: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """CAL's SC mode: junk = same camera or other clothes; good = other camera and same clothes."""
    junk = _same_camera(query, gallery, qi, gj) | ~_same_clothes(query, gallery, qi, gj)
    return ~junk, junk


def all_good_rule(
    query: SplitLabels, gallery: SplitLabels, qi: np.ndarray, gj: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every same-pid gallery item is a true match; nothing is junk (RegDB, Celeb-reID)."""
    return np.ones(len(qi), dtype=bool), np.zeros(len(qi), dtype=bool)


class PairProtocol:
    """An evaluator whose good and junk items are same-pid gallery items, chosen by ``rule``.

    Args:
        name: the registered name (used in messages).
        rule: ``rule(query, gallery, q_index, g_index) -> (good, junk)`` over same-pid pairs.
        needs_clothes: the rule reads clothes ids (an error names the missing arrays).
        ap: ``non-interpolated`` or ``trapezoid``.
        block_size: queries per distance block.
    """

    def __init__(
        self,
        name: str,
        rule: PairRule,
        *,
        needs_clothes: bool = False,
        ap: str = "non-interpolated",
        block_size: int = DEFAULT_BLOCK,
        cmc_curve: bool = False,
    ) -> None:
        self.name = name
        self.cmc_curve = cmc_curve
        self.rule = rule
        self.needs_clothes = needs_clothes
        self.ap = ap
        self.block_size = block_size

    def __repr__(self) -> str:
        return f"PairProtocol({self.name!r}, ap={self.ap!r})"

    def _check_labels(self, query: SplitLabels, gallery: SplitLabels) -> None:
        if self.needs_clothes:
            missing = [n for n, s in (("query", query), ("gallery", gallery)) if s.clothes is None]
            if missing:
                raise EvaluationError(
                    f"evaluator {self.name!r} needs clothes ids, but the {' and '.join(missing)} labels have none "
                    "(query_clothes / gallery_clothes, or Sample.clothes_id). Use 'standard' for data without clothes ids."
                )

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
        """Rank-1/5/10/20, mAP, mINP (percent), ``queries`` and ``skipped``, from features."""
        check_metric(metric)
        self._check_labels(query, gallery)
        blocks = DistanceBlocks(query_features, gallery_features, metric)
        check_inputs(self.name, blocks.shape[0], blocks.shape[1], query, gallery)
        if rerank:
            return self.evaluate_distance(
                rerank_distances(blocks.query, blocks.gallery, metric), query, gallery
            )
        return self._rank(blocks, query, gallery)

    def evaluate_distance(self, distmat: Any, query: SplitLabels, gallery: SplitLabels) -> dict[str, float]:
        """The same metrics from a precomputed [q, g] distance matrix (smaller = more similar)."""
        self._check_labels(query, gallery)
        blocks = MatrixBlocks(distmat)
        check_inputs(self.name, blocks.shape[0], blocks.shape[1], query, gallery)
        return self._rank(blocks, query, gallery)

    def _rank(self, blocks: Any, query: SplitLabels, gallery: SplitLabels) -> dict[str, float]:
        pairs = build_pairs(query, gallery, self.rule)
        accumulator = RankAccumulator(len(gallery), self.ap)
        rank_with_pairs(blocks, pairs, accumulator, block_size=self.block_size)
        result: dict[str, Any] = dict(accumulator.summary())
        if self.cmc_curve:
            result["cmc"] = (100.0 * accumulator.cmc()).tolist()
        logger.debug("%s: %d queries evaluated, %d skipped", self.name, result["queries"], result["skipped"])
        return result


def pair_factory(
    name: str, rule: PairRule, *, needs_clothes: bool = False, extra: bool = False
) -> Callable[..., Any]:
    """The registry factory of a :class:`PairProtocol` (``factory(**options)``)."""

    def factory(**options: Any) -> PairProtocol:
        valid = dict(COMMON_OPTIONS)
        if extra:
            valid["same_camera_junk"] = (
                "true: same-pid same-camera items are junk (CAMC's code); default false"
            )
        check_options(name, options, valid)
        ap = choice_option(name, options, "ap", AP_MODES, "non-interpolated")
        block_size = int_option(name, options, "block_size", DEFAULT_BLOCK, 1)
        chosen = rule
        if extra and bool_option(name, options, "same_camera_junk", False):
            chosen = market_rule
        curve = bool_option(name, options, "cmc_curve", False)
        return PairProtocol(
            name, chosen, needs_clothes=needs_clothes, ap=ap, block_size=block_size, cmc_curve=curve
        )

    factory.__doc__ = f"Create the {name!r} evaluator."
    return factory


#: (name, rule, needs_clothes, celeb-style extra option, description)
PAIR_PROTOCOLS = (
    (
        "market",
        market_rule,
        False,
        False,
        "junk = same pid and same camera; distractors stay (Market, Duke, MSMT17...)",
    ),
    ("standard", market_rule, False, False, "LTCC/PRCC general setting: junk = same pid and same camera"),
    (
        "cloth-changing",
        cloth_changing_rule,
        True,
        False,
        "CAL's CC: good = other camera and other clothes; junk = same camera or same clothes",
    ),
    (
        "same-clothes",
        same_clothes_rule,
        True,
        False,
        "CAL's SC: good = other camera and same clothes; junk = same camera or other clothes",
    ),
    ("regdb", all_good_rule, False, False, "RegDB: whole gallery, nothing removed, image-level CMC"),
    (
        "celeb",
        all_good_rule,
        False,
        True,
        "Celeb-reID: every same-pid gallery image is a match, nothing removed",
    ),
)

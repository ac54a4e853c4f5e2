"""Evaluation: query x gallery distances in blocks, exact ranking metrics, and the protocols.

Public API: :func:`evaluate_split` (a registered protocol by name), the protocol classes, the
distance helpers and the metric accumulator. See ``docs/evaluation.md`` for every rule.
"""

from __future__ import annotations

from reid_core.evaluation.api import evaluate_split
from reid_core.evaluation.base import RESULT_KEYS, EvaluationError, Evaluator, SplitLabels
from reid_core.evaluation.distance import METRICS, DistanceBlocks, MatrixBlocks, pairwise_distance
from reid_core.evaluation.explain import RankedQuery, explain_rankings, query_aps
from reid_core.evaluation.protocols import PAIR_PROTOCOLS, PairProtocol
from reid_core.evaluation.ranking import AP_MODES, RankAccumulator
from reid_core.evaluation.sysu import SYSUProtocol

__all__ = [
    "AP_MODES",
    "METRICS",
    "PAIR_PROTOCOLS",
    "RESULT_KEYS",
    "DistanceBlocks",
    "EvaluationError",
    "Evaluator",
    "MatrixBlocks",
    "PairProtocol",
    "RankAccumulator",
    "RankedQuery",
    "SYSUProtocol",
    "SplitLabels",
    "evaluate_split",
    "explain_rankings",
    "pairwise_distance",
    "query_aps",
]

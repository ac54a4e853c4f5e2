"""``explain_rankings``: the ranked list a protocol scores, item by item, with the reasons for ignored items."""

from __future__ import annotations

import numpy as np
import pytest

from reid_core.evaluation import SplitLabels, explain_rankings, query_aps
from reid_core.evaluation.base import EvaluationError
from reid_core.plugins import get_registry


def _one_dim(values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)[:, None]


def test_market_marks_same_camera_items_ignored_and_ranks_by_distance() -> None:
    query = SplitLabels(pids=[1], camids=[0])
    gallery = SplitLabels(pids=[1, 2, 1, 1, 3], camids=[0, 1, 1, 2, 0])
    # distances from the query (at 0): gallery items at 1, 2, 3, 4, 5 -> ranking order 0..4
    ranked = explain_rankings(get_registry("evaluators").create("market"), _one_dim([0.0]),
                              _one_dim([1, 2, 3, 4, 5]), query, gallery, top=4)[0]
    assert ranked.gallery.tolist() == [0, 1, 2, 3]
    assert ranked.status == ("ignored", "wrong", "match", "match")
    assert ranked.reason == ("same camera", "", "", "")
    # after removing the ignored item the good items sit at positions 1 and 2: AP = (1/2 + 2/3) / 2
    assert ranked.ap == pytest.approx(100 * (1 / 2 + 2 / 3) / 2)
    assert ranked.distance.tolist() == pytest.approx([1, 4, 9, 16])  # squared euclidean


def test_cloth_changing_and_same_clothes_give_the_clothes_reason() -> None:
    query = SplitLabels(pids=[1], camids=[0], clothes=[5])
    gallery = SplitLabels(pids=[1, 1, 1], camids=[1, 1, 0], clothes=[5, 6, 6])
    features = _one_dim([1, 2, 3])
    cc = explain_rankings(get_registry("evaluators").create("cloth-changing"), _one_dim([0.0]), features,
                          query, gallery)[0]
    assert cc.status == ("ignored", "match", "ignored")
    assert cc.reason == ("same clothes", "", "same camera, other clothes")
    sc = explain_rankings(get_registry("evaluators").create("same-clothes"), _one_dim([0.0]), features,
                          query, gallery)[0]
    assert sc.status == ("match", "ignored", "ignored") and sc.reason[1] == "other clothes"


def test_query_aps_average_to_the_protocols_map() -> None:
    rng = np.random.default_rng(0)
    query = SplitLabels(pids=rng.integers(0, 5, 12), camids=rng.integers(0, 3, 12))
    gallery = SplitLabels(pids=rng.integers(0, 5, 40), camids=rng.integers(0, 3, 40))
    qf, gf = rng.normal(size=(12, 8)), rng.normal(size=(40, 8))
    for ap in ("non-interpolated", "trapezoid"):
        evaluator = get_registry("evaluators").create("market", ap=ap)
        aps = query_aps(evaluator, qf, gf, query, gallery)
        result = evaluator.evaluate(qf, gf, query, gallery)
        assert np.isnan(aps).sum() == result["skipped"]
        assert np.nanmean(aps) == pytest.approx(result["mAP"], abs=1e-9)


def test_sysu_cannot_be_explained_and_says_so() -> None:
    labels = SplitLabels(pids=[1], camids=[2])
    with pytest.raises(EvaluationError, match="market, standard, cloth-changing"):
        explain_rankings(get_registry("evaluators").create("sysu-all"), _one_dim([0]), _one_dim([0]), labels, labels)

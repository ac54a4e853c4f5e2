"""Each registered protocol on a hand-computed toy case, and the evaluator registry."""

from __future__ import annotations

import numpy as np
import pytest

from reid_core.data.sample import Sample
from reid_core.evaluation import EvaluationError, SplitLabels, evaluate_split
from reid_core.plugins import ReidPluginManager


@pytest.fixture(scope="module")
def evaluators():
    return ReidPluginManager(entry_points=False).registry("evaluators")


def run(evaluators, name, distances, query, gallery, **options):
    evaluator = evaluators.create(name, **options)
    return evaluator.evaluate_distance(np.asarray([distances], dtype=np.float32), query, gallery)


def test_all_protocols_are_registered(evaluators):
    expected = {
        "market",
        "standard",
        "cloth-changing",
        "same-clothes",
        "sysu-all",
        "sysu-indoor",
        "regdb",
        "celeb",
    }
    assert expected <= set(evaluators.names())
    assert all(evaluators.get(n).plugin == "core.evaluation" for n in expected)


@pytest.mark.parametrize("name", ["market", "standard"])
def test_market_rule_same_camera_junk_and_distractors_stay(evaluators, name):
    # query pid 1, camera 0. Ranked gallery (ascending distance):
    #   0: pid 1 cam 0 -> junk      1: pid 0 (distractor) -> negative
    #   2: pid 1 cam 1 -> good      3: pid 2 -> negative        4: pid 1 cam 2 -> good
    # after junk removal the goods sit at positions 1 and 3: AP = (1/2 + 2/4) / 2, INP = 2/4
    gallery = SplitLabels([1, 0, 1, 2, 1], [0, 0, 1, 1, 2])
    result = run(evaluators, name, [0.1, 0.2, 0.3, 0.4, 0.5], SplitLabels([1], [0]), gallery)
    assert result["rank1"] == 0.0 and result["rank5"] == 100.0
    assert result["mAP"] == pytest.approx(50.0)
    assert result["mINP"] == pytest.approx(50.0)
    assert result["queries"] == 1


def test_market_from_features_matches_distances(evaluators):
    # 1-d features: squared distances keep the order of |q - g|
    query, gallery = SplitLabels([1], [0]), SplitLabels([1, 0, 1, 2, 1], [0, 0, 1, 1, 2])
    qf = np.zeros((1, 1), np.float32)
    gf = np.array([[0.1], [0.2], [0.3], [0.4], [0.5]], np.float32)
    result = evaluators.create("market").evaluate(qf, gf, query, gallery)
    assert result["mAP"] == pytest.approx(50.0)
    assert evaluators.create("market", ap="trapezoid").evaluate(qf, gf, query, gallery)[
        "mAP"
    ] == pytest.approx(100 * ((0 + 1 / 2) / 2 + (1 / 3 + 2 / 4) / 2) / 2)


# LTCC-style toy: query pid 1, camera 0, clothes 5. Ranked gallery:
#   0: pid 1 cam 1 clothes 5 (same clothes, other camera)
#   1: pid 2 (negative)
#   2: pid 1 cam 0 clothes 6 (same camera)
#   3: pid 1 cam 2 clothes 6 (other clothes, other camera)
CLOTHES_QUERY = SplitLabels([1], [0], clothes=[5])
CLOTHES_GALLERY = SplitLabels([1, 2, 1, 1], [1, 1, 0, 2], clothes=[5, 9, 6, 6])
CLOTHES_DIST = [0.1, 0.2, 0.3, 0.4]


def test_cloth_changing_keeps_only_other_clothes_other_camera(evaluators):
    # junk: items 0 (same clothes) and 2 (same camera); ranked list: [1 neg, 3 good] -> good at 1
    result = run(evaluators, "cloth-changing", CLOTHES_DIST, CLOTHES_QUERY, CLOTHES_GALLERY)
    assert result["rank1"] == 0.0 and result["rank5"] == 100.0
    assert result["mAP"] == pytest.approx(50.0)


def test_same_clothes_keeps_only_same_clothes_other_camera(evaluators):
    # junk: items 2 (same camera) and 3 (other clothes); ranked list: [0 good, 1 neg] -> good at 0
    result = run(evaluators, "same-clothes", CLOTHES_DIST, CLOTHES_QUERY, CLOTHES_GALLERY)
    assert result["rank1"] == 100.0 and result["mAP"] == pytest.approx(100.0)


def test_standard_on_clothes_data_ignores_clothes(evaluators):
    # junk: item 2 only; ranked: [0 good, 1 neg, 3 good] -> goods at 0 and 2
    result = run(evaluators, "standard", CLOTHES_DIST, CLOTHES_QUERY, CLOTHES_GALLERY)
    assert result["mAP"] == pytest.approx(100 * (1 + 2 / 3) / 2)


@pytest.mark.parametrize("name", ["cloth-changing", "same-clothes"])
def test_clothes_protocols_need_clothes(evaluators, name):
    with pytest.raises(EvaluationError, match="needs clothes ids"):
        run(evaluators, name, CLOTHES_DIST, SplitLabels([1], [0]), SplitLabels([1, 2, 1, 1], [1, 1, 0, 2]))


def test_regdb_removes_nothing(evaluators):
    # same camera id everywhere: market would skip the query, regdb counts both matches (positions 0 and 2)
    query, gallery = SplitLabels([4], [0]), SplitLabels([4, 5, 4], [0, 0, 0])
    result = run(evaluators, "regdb", [0.1, 0.2, 0.3], query, gallery)
    assert result["rank1"] == 100.0 and result["mAP"] == pytest.approx(100 * (1 + 2 / 3) / 2)
    with pytest.raises(EvaluationError):
        run(evaluators, "market", [0.1, 0.2, 0.3], query, gallery)


def test_celeb_every_same_pid_image_is_a_match(evaluators):
    # Celeb-reID has no cameras: query camid 3 equals gallery item 0's camid by accident (CAMC's running index)
    query, gallery = SplitLabels([7], [3]), SplitLabels([7, 8, 7], [3, 4, 5])
    assert run(evaluators, "celeb", [0.1, 0.2, 0.3], query, gallery)["mAP"] == pytest.approx(
        100 * (1 + 2 / 3) / 2
    )
    # CAMC's code drops same pid and same camid: only item 2 counts, at position 1 after removal
    quirk = run(evaluators, "celeb", [0.1, 0.2, 0.3], query, gallery, same_camera_junk="true")
    assert quirk["mAP"] == pytest.approx(50.0)


def test_unknown_and_invalid_options(evaluators):
    with pytest.raises(EvaluationError, match="no option 'trials'"):
        evaluators.create("market", trials=3)
    with pytest.raises(EvaluationError, match="ap='bogus'"):
        evaluators.create("market", ap="bogus")
    with pytest.raises(EvaluationError, match="not an integer"):
        evaluators.create("sysu-all", trials="ten")
    assert evaluators.create("market", block_size="64").block_size == 64


def test_evaluate_split_with_samples(tmp_path):
    query = [Sample("q.jpg", 1, 0)]
    gallery = [Sample("a.jpg", 1, 1), Sample("b.jpg", 2, 1)]
    qf = np.array([[0.0, 1.0]], np.float32)
    gf = np.array([[0.0, 1.0], [1.0, 0.0]], np.float32)
    result = evaluate_split("market", qf, gf, query, gallery, metric="cosine")
    assert result["rank1"] == 100.0 and result["queries"] == 1


def test_rerank_uses_the_k_reciprocal_distances(evaluators):
    rerank = pytest.importorskip("reid_core.neighbors.rerank", reason="re-ranking is another module's work")
    rng = np.random.default_rng(0)
    qf = rng.standard_normal((12, 8)).astype(np.float32)
    gf = rng.standard_normal((40, 8)).astype(np.float32)
    query = SplitLabels(rng.integers(0, 5, 12), np.zeros(12, int))
    gallery = SplitLabels(rng.integers(0, 5, 40), np.ones(40, int))
    evaluator = evaluators.create("market")
    expected = evaluator.evaluate_distance(rerank.k_reciprocal_rerank(qf, gf), query, gallery)
    assert evaluator.evaluate(qf, gf, query, gallery, rerank=True) == expected

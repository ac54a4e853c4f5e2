"""Ranking metrics and the exact block engine: hand-computed cases and agreement with the reference."""

from __future__ import annotations

import numpy as np
import pytest

from reid_core.evaluation import EvaluationError, SplitLabels, pairwise_distance
from reid_core.evaluation.distance import DistanceBlocks
from reid_core.evaluation.fastrank import block_positions, build_pairs
from reid_core.evaluation.protocols import PairProtocol, all_good_rule, market_rule
from reid_core.evaluation.ranking import RankAccumulator, dense_positions
from reid_core.evaluation.reference import reference_evaluate


def one_query(distances, gallery_pids, gallery_camids=None, ap="non-interpolated", query_camid=0):
    """Evaluate one query (pid 1) against a gallery given as a distance row, with the market rule."""
    g = len(distances)
    cams = np.full(g, 1) if gallery_camids is None else np.asarray(gallery_camids)
    protocol = PairProtocol("market", market_rule, ap=ap)
    return protocol.evaluate_distance(
        np.asarray([distances], dtype=np.float32),
        SplitLabels([1], [query_camid]),
        SplitLabels(gallery_pids, cams),
    )


def test_ap_for_good_items_at_positions_0_and_2():
    # ranked: good, negative, good, negative
    result = one_query([0.1, 0.2, 0.3, 0.4], [1, 2, 1, 3])
    assert result["mAP"] == pytest.approx(100 * (1 + 2 / 3) / 2)
    assert result["rank1"] == 100.0
    assert result["mINP"] == pytest.approx(100 * 2 / 3)
    assert result["queries"] == 1 and result["skipped"] == 0


def test_trapezoid_ap_matches_market_official_formula():
    # goods at positions 0 and 2: (1+1)/2 for the first, (1/2 + 2/3)/2 for the second
    result = one_query([0.1, 0.2, 0.3, 0.4], [1, 2, 1, 3], ap="trapezoid")
    assert result["mAP"] == pytest.approx(100 * (1.0 + (0.5 + 2 / 3) / 2) / 2)


def test_cmc_first_hit_and_rank_clipping_on_a_short_gallery():
    # first good at position 3 -> rank1 = rank2.. = 0, rank5 = 1; gallery of 6 < 20: rank20 = last value
    result = one_query([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [2, 3, 4, 1, 5, 6])
    assert (result["rank1"], result["rank5"], result["rank10"], result["rank20"]) == (
        0.0,
        100.0,
        100.0,
        100.0,
    )
    assert result["mAP"] == pytest.approx(100 / 4)


def test_junk_is_removed_before_ranking():
    # a same-camera copy (junk) at the top does not push the good match down
    result = one_query([0.1, 0.2, 0.3], [1, 1, 2], gallery_camids=[0, 1, 1], query_camid=0)
    assert result["rank1"] == 100.0 and result["mAP"] == 100.0


def test_query_without_good_match_is_skipped_and_all_skipped_is_an_error():
    protocol = PairProtocol("market", market_rule)
    dist = np.array([[0.1, 0.2], [0.3, 0.1]], dtype=np.float32)
    result = protocol.evaluate_distance(dist, SplitLabels([1, 7], [0, 0]), SplitLabels([1, 2], [1, 1]))
    assert result["queries"] == 1 and result["skipped"] == 1
    with pytest.raises(EvaluationError, match="no query has a valid match"):
        protocol.evaluate_distance(dist, SplitLabels([8, 7], [0, 0]), SplitLabels([1, 2], [1, 1]))


def test_accumulator_cmc_curve_is_the_full_length():
    acc = RankAccumulator(5)
    positions, _ = dense_positions(
        np.array([[0.3, 0.1, 0.2, 0.5, 0.4]]), np.array([[1, 0, 0, 0, 1]], bool), np.zeros((1, 5), bool)
    )
    acc.add(positions)
    # ranked: 1, 2, 0(good), 4(good), 3 -> first good at 2
    np.testing.assert_allclose(acc.cmc(), [0, 0, 1, 1, 1])


def random_problem(seed, n_query=120, n_gallery=700, dim=12, ids=40, cams=4, exact=False):
    """Random features and labels.

    ``exact=True`` gives features whose every distance is exact in float32, whatever the BLAS kernel,
    block shape or summation order: entries in {-1, 0, 1} with four non-zeros, so every row has norm 2
    (normalising divides by 2) and every product is a multiple of 1/4. Distances then tie exactly and
    often, and every code path computes the very same values.
    """
    rng = np.random.default_rng(seed)
    if exact:
        qf, gf = ternary_norm_two(rng, n_query, dim), ternary_norm_two(rng, n_gallery, dim)
    else:
        qf = rng.standard_normal((n_query, dim)).astype(np.float32)
        gf = rng.standard_normal((n_gallery, dim)).astype(np.float32)
    query = SplitLabels(rng.integers(0, ids, n_query), rng.integers(0, cams, n_query))
    gallery = SplitLabels(rng.integers(0, ids, n_gallery), rng.integers(0, cams, n_gallery))
    return qf, gf, query, gallery


def ternary_norm_two(rng, n, dim):
    features = np.zeros((n, dim), np.float32)
    for row in features:
        row[rng.choice(dim, 4, replace=False)] = rng.choice([-1.0, 1.0], 4)
    return features


def on_dyadic_grid(features, step=1 / 64):
    """Real-valued features rounded to multiples of ``step``: every Euclidean distance is exact in float32."""
    return (np.round(features / step) * step).astype(np.float32)


def market_masks(query, gallery):
    def masks(i):
        same = gallery.pids == query.pids[i]
        junk = same & (gallery.camids == query.camids[i])
        return same & ~junk, junk

    return masks


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("ap", ["non-interpolated", "trapezoid"])
@pytest.mark.parametrize("exact", [False, True])
def test_block_engine_equals_per_query_reference(metric, ap, exact):
    # Every distance here is exact in float32, so the engine's blocks of 37 rows and the reference's
    # single product compute the same values on any CPU: real-valued features on a dyadic grid
    # (Euclidean), or norm-2 ternary features with many exact ties (the stable tie order is compared).
    # The cosine of arbitrary real features cannot be exact; its accuracy is tested separately below.
    qf, gf, query, gallery = random_problem(3, exact=exact or metric == "cosine")
    if not exact and metric == "euclidean":
        qf, gf = on_dyadic_grid(qf), on_dyadic_grid(gf)
    ours = PairProtocol("market", market_rule, ap=ap, block_size=37).evaluate(
        qf, gf, query, gallery, metric=metric
    )
    dist = pairwise_distance(qf, gf, metric)
    ref = reference_evaluate(lambda i: dist[i], len(query), market_masks(query, gallery), ap_mode=ap)
    for key in ("rank1", "rank5", "rank10", "rank20", "mAP", "mINP", "queries", "skipped"):
        assert ours[key] == pytest.approx(ref[key], abs=1e-9), key


def test_exact_ties_with_negatives_follow_the_stable_order():
    # Distances on a coarse grid: goods tie with negatives all the time.
    rng = np.random.default_rng(5)
    query = SplitLabels(rng.integers(0, 6, 50), rng.integers(0, 3, 50))
    gallery = SplitLabels(rng.integers(0, 6, 300), rng.integers(0, 3, 300))
    dist = rng.integers(0, 4, (50, 300)).astype(np.float32)
    pairs = build_pairs(query, gallery, market_rule)
    rows = np.argsort(-pairs.good_count, kind="stable")
    rows = rows[pairs.good_count[rows] > 0]
    fast = block_positions(dist[rows].copy(), rows, pairs)
    good = np.zeros((len(rows), 300), bool)
    junk = np.zeros((len(rows), 300), bool)
    for i, q in enumerate(rows):
        good[i], junk[i] = market_masks(query, gallery)(q)
    exact, _ = dense_positions(dist[rows], good, junk)
    np.testing.assert_array_equal(fast.pos, exact.pos)
    np.testing.assert_array_equal(fast.row, exact.row)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("features", ["real", "exact-ties"])
def test_block_size_does_not_change_the_result(metric, features):
    # The result may depend on block_size only through the rounding of the distances (docs/evaluation.md).
    # Features whose distances are exact in float32 take that rounding away: real-valued Gaussian
    # features on a 1/64 grid (Euclidean), or the norm-2 ternary features (cosine, and exact ties).
    exact = features == "exact-ties" or metric == "cosine"
    qf, gf, query, gallery = random_problem(8, exact=exact)
    if not exact:
        qf, gf = on_dyadic_grid(qf), on_dyadic_grid(gf)
        assert len(np.unique(qf)) > 200  # real-valued, not a handful of levels
    results = [
        PairProtocol("x", market_rule, block_size=b).evaluate(qf, gf, query, gallery, metric=metric)
        for b in (1, 37, len(query))
    ]
    for other in results[1:]:
        assert other == pytest.approx(results[0], abs=1e-6)


def test_distance_blocks_rank_like_the_true_distances():
    qf, gf, _, _ = random_problem(2, n_query=10, n_gallery=50)
    for metric in ("euclidean", "cosine"):
        true = pairwise_distance(qf, gf, metric)
        blocks = DistanceBlocks(qf, gf, metric)
        shifted = blocks.block(np.arange(10)).copy()
        np.testing.assert_allclose(shifted - shifted[:, :1], true - true[:, :1], atol=1e-4)
        exact = DistanceBlocks(qf, gf, metric, exact=True).block(slice(0, 10))
        np.testing.assert_allclose(exact, true, atol=1e-4)
    brute = ((qf[:, None, :] - gf[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(pairwise_distance(qf, gf), brute, rtol=1e-4, atol=1e-3)
    cos = (qf / np.linalg.norm(qf, axis=1, keepdims=True)) @ (
        gf / np.linalg.norm(gf, axis=1, keepdims=True)
    ).T
    np.testing.assert_allclose(pairwise_distance(qf, gf, "cosine"), 1 - cos, atol=1e-5)


def test_torch_features_are_accepted():
    torch = pytest.importorskip("torch", reason="torch is optional for evaluation")
    qf, gf, query, gallery = random_problem(4, n_query=20, n_gallery=80)
    protocol = PairProtocol("regdb", all_good_rule)
    assert protocol.evaluate(
        torch.from_numpy(qf).double(), torch.from_numpy(gf), query, gallery
    ) == protocol.evaluate(qf, gf, query, gallery)


def test_mismatched_inputs_are_clear_errors():
    qf, gf, query, gallery = random_problem(1, n_query=5, n_gallery=9)
    protocol = PairProtocol("market", market_rule)
    with pytest.raises(EvaluationError, match="5 query features/rows but 4 query labels"):
        protocol.evaluate(qf, gf, SplitLabels(query.pids[:4], query.camids[:4]), gallery)
    with pytest.raises(EvaluationError, match="dimension 12 but gallery features have 3"):
        protocol.evaluate(qf, gf[:, :3], query, gallery)
    with pytest.raises(EvaluationError, match="unknown metric"):
        protocol.evaluate(qf, gf, query, gallery, metric="manhattan")
    qf[0, 0] = np.nan
    with pytest.raises(EvaluationError, match="not finite"):
        protocol.evaluate(qf, gf, query, gallery)


def test_full_cmc_curve_on_request():
    protocol = PairProtocol("market", market_rule, cmc_curve=True)
    dist = np.array([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]], np.float32)
    result = protocol.evaluate_distance(
        dist, SplitLabels([1, 1], [0, 0]), SplitLabels([2, 1, 3, 4], [1, 1, 1, 1])
    )
    # query 0: first good at position 1; query 1: at position 2
    assert result["cmc"] == pytest.approx([0.0, 50.0, 100.0, 100.0])
    assert "cmc" not in PairProtocol("market", market_rule).evaluate_distance(
        dist, SplitLabels([1, 1], [0, 0]), SplitLabels([2, 1, 3, 4], [1, 1, 1, 1])
    )

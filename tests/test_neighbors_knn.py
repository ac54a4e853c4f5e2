"""Exact kNN, the tie rule, k-reciprocal sets and the sparse row container."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reid_core.neighbors.nearest as nearest_module
from reid_core.neighbors import (
    SparseRows,
    expand_k_reciprocal,
    k_reciprocal_mask,
    k_reciprocal_neighbors,
    knn,
    normalized_rank,
    stable_smallest_k,
)
from reid_core.neighbors.nearest import lookup_pairs, pair_distances


def _lattice(n: int, dim: int, seed: int, levels: int = 3) -> np.ndarray:
    """Small-integer features: every distance is exact in float32 and ties are frequent."""
    rng = np.random.default_rng(seed)
    return rng.integers(-levels, levels + 1, size=(n, dim)).astype(np.float32) / 4


def _dense_sq(x: np.ndarray) -> np.ndarray:
    t = torch.from_numpy(x)
    sq = (t * t).sum(1)
    return torch.addmm(sq[:, None] + sq[None, :], t, t.t(), beta=1, alpha=-2).numpy()


@pytest.mark.parametrize("k", [1, 5, 17, 40])
def test_stable_smallest_k_equals_stable_sort_with_ties(k: int) -> None:
    rng = np.random.default_rng(k)
    block = torch.from_numpy(rng.integers(0, 6, size=(50, 40)).astype(np.float32))  # many ties
    values, index = stable_smallest_k(block, k)
    expect_values, expect_index = torch.sort(block, dim=1, stable=True)
    assert torch.equal(index, expect_index[:, :k])
    assert torch.equal(values, expect_values[:, :k])


@pytest.mark.parametrize(("dim", "levels"), [(5, 3), (2, 1)])  # (2, 1): ~8 copies of each point, ties past the margin
def test_knn_matches_stable_argsort_across_blocks(dim: int, levels: int, monkeypatch: pytest.MonkeyPatch) -> None:
    x = _lattice(70, dim, seed=1, levels=levels)
    x[10] = x[3]  # exact duplicates
    x[11] = x[3]
    monkeypatch.setattr(nearest_module, "BLOCK_BYTES", 70 * 4 * 9)  # 9 rows per block
    distances, index = knn(x, 12)
    dense = _dense_sq(x)
    expect = np.argsort(dense, axis=1, kind="stable")[:, :12]
    np.testing.assert_array_equal(index, expect)
    np.testing.assert_array_equal(distances, np.take_along_axis(dense, expect, axis=1))


def test_knn_caps_k_at_n_and_rejects_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    _, index = knn(np.eye(4, dtype=np.float32), 10)
    assert index.shape == (4, 4)
    monkeypatch.setattr(nearest_module, "BLOCK_BYTES", 50 * 4 * 6)  # tie fallback in chunks of 6 rows
    _, index = knn(np.ones((50, 3), dtype=np.float32), 5)  # every row ties everywhere
    np.testing.assert_array_equal(index, np.tile(np.arange(5), (50, 1)))
    with pytest.raises(ValueError, match="2-D"):
        knn(np.zeros(5, dtype=np.float32), 2)
    with pytest.raises(ValueError, match="NaN"):
        knn(np.array([[np.nan, 0.0]], dtype=np.float32), 1)
    with pytest.raises(TypeError, match="features"):
        knn([[0.0, 1.0]], 1)  # type: ignore[arg-type]


@pytest.mark.parametrize(("n", "dim", "levels"), [(60, 4, 2), (90, 2, 1)])  # (90, 2, 1): ties past the margin
def test_normalized_rank_matches_dense_reference(
    n: int, dim: int, levels: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    x = _lattice(n, dim, seed=2, levels=levels)
    monkeypatch.setattr(nearest_module, "BLOCK_BYTES", 60 * 4 * 7)
    rank, colmax, candidates, distances = normalized_rank(torch.from_numpy(x), 21)
    dense = _dense_sq(x)
    normalised = np.transpose(dense / dense.max(axis=0))
    np.testing.assert_array_equal(rank, np.argsort(normalised, axis=1, kind="stable")[:, :21])
    np.testing.assert_array_equal(colmax.numpy(), dense.max(axis=0))
    np.testing.assert_array_equal(distances, np.take_along_axis(dense, candidates, axis=1))


def test_pair_distances_reuse_knn_lists_and_compute_the_rest() -> None:
    x = _lattice(30, 5, seed=7)
    distances, rank = knn(x, 4)
    rows = np.array([0, 0, 5, 29, 12])
    cols = np.array([int(rank[0, 1]), 17, 5, 3, int(rank[12, 3])])
    found, _ = lookup_pairs(rank, distances, rows, cols)
    assert found[0] and found[2] and found[4]
    got = pair_distances(torch.from_numpy(x), rank, distances, rows, cols)
    np.testing.assert_array_equal(got, _dense_sq(x)[rows, cols])


def test_k_reciprocal_relation_is_symmetric() -> None:
    x = _lattice(80, 6, seed=3)
    _, rank = knn(x, 12)
    for width in (12, 7, 1):
        mask = k_reciprocal_mask(rank, width)
        pairs = {(i, int(rank[i, a])) for i, a in zip(*np.nonzero(mask))}
        assert pairs == {(j, i) for i, j in pairs}
        # definition: j in top-w(i) and i in top-w(j)
        for i in range(0, 80, 9):
            expect = [j for j in rank[i, :width] if i in rank[j, :width]]
            assert list(k_reciprocal_neighbors(rank, width).row(i)[0]) == expect


def test_expansion_adds_half_sets_by_the_two_thirds_rule() -> None:
    x = _lattice(90, 5, seed=4)
    _, rank = knn(x, 10)
    expanded = expand_k_reciprocal(rank, 10, 6)

    def recip(i: int, width: int) -> np.ndarray:
        forward = rank[i, :width]
        return forward[np.nonzero((rank[forward, :width] == i).any(axis=1))[0]]

    for i in range(90):
        members = recip(i, 10)
        union = list(members)
        for c in members:
            half = recip(c, 6)
            if len(np.intersect1d(half, members)) > 2 / 3 * len(half):
                union.extend(half)
        np.testing.assert_array_equal(expanded.row(i)[0], np.unique(union))


def test_sparse_rows_roundtrips() -> None:
    dense = np.array([[0, 2, 0], [0, 0, 0], [1, 0, 3]], dtype=np.float32)
    rows, cols = np.nonzero(dense)
    m = SparseRows.from_coo(rows, cols, dense[rows, cols], (3, 3))
    np.testing.assert_array_equal(m.to_dense(), dense)
    np.testing.assert_array_equal(m.transpose().to_dense(), dense.T)
    np.testing.assert_array_equal(m.slice_rows(1, 3).to_dense(), dense[1:])
    np.testing.assert_array_equal(m.row_sums(), [2, 0, 4])
    dup = SparseRows.from_coo(np.array([0, 0, 1]), np.array([1, 1, 0]), np.array([1.0, 2.0, 5.0]), (2, 2))
    np.testing.assert_array_equal(dup.to_dense(), [[0, 3], [5, 0]])
    with pytest.raises(ValueError, match="indptr"):
        SparseRows(np.array([0, 2]), np.array([0]), np.array([1.0]), 2)

"""k-reciprocal Jaccard distance: invariants of icsr.md §13 item 2 and equality with a dense reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reid_core.neighbors.jaccard as jaccard_module
import reid_core.neighbors.nearest as nearest_module
from reid_core.neighbors import jaccard_distance, jaccard_distance_sparse, jaccard_weights


def _normalised(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _clusters(n_ids: int, per_id: int, dim: int, seed: int, spread: float = 0.35) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_ids, dim))
    x = np.repeat(centres, per_id, axis=0) + spread * rng.normal(size=(n_ids * per_id, dim))
    return _normalised(x)


def _quantised(x: np.ndarray, step: float = 2.0**-6) -> np.ndarray:
    """Features on a 2^-6 grid: dot products are exact in float32 whatever the summation order."""
    return (np.round(x / step) * step).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# A straightforward dense implementation, written from the algorithm description (icsr.md §4).


def _reciprocal(rank: np.ndarray, i: int, width: int) -> np.ndarray:
    forward = rank[i, :width]
    backward = rank[forward, :width]
    return forward[np.where(backward == i)[0]]


def dense_jaccard(x: np.ndarray, k1: int, k2: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (distance, V, V after query expansion), all dense."""
    n = len(x)
    t = torch.from_numpy(x)
    sq = (t * t).sum(1)
    dist = torch.addmm(sq[:, None] + sq[None, :], t, t.t(), beta=1, alpha=-2).numpy()
    rank = np.argsort(dist, axis=1, kind="stable")[:, :k1]
    width = rank.shape[1]
    half = min(int(np.around(k1 / 2)) + 1, width)
    v = np.zeros((n, n), dtype=np.float32)
    for i in range(n):
        members = _reciprocal(rank, i, width)
        expanded = members
        for candidate in members:
            candidate_set = _reciprocal(rank, candidate, half)
            if len(np.intersect1d(candidate_set, members)) > 2 / 3 * len(candidate_set):
                expanded = np.append(expanded, candidate_set)
        expanded = np.unique(expanded)
        d = 2 - 2 * torch.mm(t[i : i + 1], t[expanded].t())
        v[i, expanded] = torch.softmax(-d, dim=1).numpy()[0]
    v_qe = v
    if k2 != 1:
        v_qe = np.stack([v[rank[i, :k2]].mean(axis=0) for i in range(n)]).astype(np.float32)
    mass = np.stack([np.minimum(v_qe[i], v_qe).sum(axis=1) for i in range(n)]).astype(np.float32)
    out = 1 - mass / (2 - mass)
    out[out < 0] = 0
    return out, v, v_qe


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_ids", "per_id", "k1", "k2"),
    [(12, 8, 30, 6), (10, 6, 10, 4), (7, 5, 5, 1), (6, 4, 7, 3), (3, 4, 30, 6)],
)
def test_equals_dense_reference(n_ids: int, per_id: int, k1: int, k2: int, monkeypatch: pytest.MonkeyPatch) -> None:
    x = _quantised(_clusters(n_ids, per_id, 16, seed=k1 + n_ids))
    monkeypatch.setattr(nearest_module, "BLOCK_BYTES", 1024)  # many small blocks
    monkeypatch.setattr(jaccard_module, "_MAX_PAIRS", 300)
    expect, v, v_qe = dense_jaccard(x, k1, k2)
    np.testing.assert_allclose(jaccard_distance(x, k1, k2), expect, rtol=0, atol=1e-5)
    weights, expanded, _ = jaccard_weights(x, k1, k2)
    np.testing.assert_allclose(weights.to_dense(), v, rtol=0, atol=1e-6)
    np.testing.assert_allclose(expanded.to_dense(), v_qe, rtol=0, atol=1e-6)


def test_equals_dense_reference_with_ties_and_duplicates() -> None:
    rng = np.random.default_rng(5)
    x = (rng.integers(-1, 2, size=(70, 4)) / 2).astype(np.float32)  # a coarse lattice: ties everywhere
    x[x.sum(1) == 0] = 0.5
    x[40:45] = x[3]
    expect, _, _ = dense_jaccard(x, 9, 4)
    np.testing.assert_allclose(jaccard_distance(torch.from_numpy(x), 9, 4), expect, rtol=0, atol=1e-5)


def test_basic_properties() -> None:
    x = _clusters(15, 8, 32, seed=0)
    d = jaccard_distance(x, k1=12, k2=4)
    assert d.shape == (120, 120) and d.dtype == np.float32
    assert d.min() >= 0 and d.max() <= 1
    assert np.abs(np.diag(d)).max() < 1e-6
    assert np.abs(d - d.T).max() < 1e-6
    assert (d == 1).any()  # pairs without shared support


def test_permutation_equivariant() -> None:
    x = _clusters(10, 7, 24, seed=1)
    perm = np.random.default_rng(1).permutation(len(x))
    d = jaccard_distance(x, 10, 5)
    d_perm = jaccard_distance(x[perm], 10, 5)
    np.testing.assert_allclose(d_perm, d[np.ix_(perm, perm)], rtol=0, atol=1e-6)


def test_identical_duplicates_are_at_zero() -> None:
    x = _clusters(8, 6, 16, seed=2)
    x = np.concatenate([x, x[[5, 17, 30]]])
    d = jaccard_distance(x, 10, 6)
    for original, copy in zip([5, 17, 30], [48, 49, 50]):
        assert d[original, copy] < 1e-6


def test_far_point_and_separate_groups_at_distance_one() -> None:
    rng = np.random.default_rng(3)
    group = _normalised(np.array([1.0, 0, 0, 0]) + 0.01 * rng.normal(size=(20, 4)))
    far = _normalised(np.array([[0.0, 0, 0, 1]]))
    d = jaccard_distance(np.concatenate([group, far]), k1=10, k2=1)
    np.testing.assert_array_equal(d[-1, :-1], 1)
    np.testing.assert_array_equal(d[:-1, -1], 1)
    other = _normalised(np.array([0.0, 1, 0, 0]) + 0.01 * rng.normal(size=(15, 4)))
    d = jaccard_distance(np.concatenate([group, other]), k1=10, k2=6)  # both groups larger than k1
    np.testing.assert_array_equal(d[:20, 20:], 1)
    assert d[:20, :20].max() < 1 and d[20:, 20:].max() < 1


def test_rows_of_v_sum_to_one_before_and_after_expansion() -> None:
    x = _clusters(12, 7, 16, seed=4)
    weights, expanded, rank = jaccard_weights(x, k1=15, k2=6)
    np.testing.assert_allclose(weights.row_sums(), 1, atol=1e-5)
    np.testing.assert_allclose(expanded.row_sums(), 1, atol=1e-5)
    assert rank.shape == (84, 15)
    assert (weights.data > 0).all()
    # each row of V covers at least its own k-reciprocal set, which contains itself here
    assert all(i in weights.row(i)[0] for i in range(84))


def test_sparse_form_matches_dense() -> None:
    x = _clusters(9, 6, 16, seed=6)
    dense = jaccard_distance(x, 10, 4)
    sparse = jaccard_distance_sparse(x, 10, 4)
    rebuilt = np.ones_like(dense)
    rebuilt[sparse.row_ids(), sparse.indices] = sparse.data
    np.testing.assert_allclose(rebuilt, dense, rtol=0, atol=1e-7)
    assert sparse.nnz < dense.size and (sparse.data < 1).all()


def test_small_inputs_and_errors() -> None:
    d = jaccard_distance(_clusters(1, 3, 8, seed=7), k1=30, k2=6)  # fewer rows than k1
    assert d.shape == (3, 3) and np.abs(np.diag(d)).max() < 1e-6
    with pytest.raises(ValueError, match="k1"):
        jaccard_distance(np.eye(3, dtype=np.float32), k1=0)
    with pytest.raises(ValueError, match="2-D"):
        jaccard_distance(np.zeros(3, dtype=np.float32))

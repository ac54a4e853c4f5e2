"""k-reciprocal re-ranking (Zhong et al. 2017) against a dense reference written from the algorithm."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reid_core.neighbors.jaccard as jaccard_module
import reid_core.neighbors.nearest as nearest_module
from reid_core.neighbors import k_reciprocal_rerank


def _reciprocal(rank: np.ndarray, i: int, width: int) -> np.ndarray:
    forward = rank[i, :width]
    backward = rank[forward, :width]
    return forward[np.where(backward == i)[0]]


def dense_rerank(query: np.ndarray, gallery: np.ndarray, k1: int, k2: int, lambda_value: float) -> np.ndarray:
    """The reference algorithm with dense (q+g)^2 arrays, float32 weights, stable ranking."""
    feat = torch.from_numpy(np.concatenate([query, gallery]))
    n, n_query = len(feat), len(query)
    sq = (feat * feat).sum(1)
    dist = torch.addmm(sq[:, None] + sq[None, :], feat, feat.t(), beta=1, alpha=-2).numpy()
    original = np.transpose(dist / np.max(dist, axis=0))
    rank = np.argsort(original, axis=1, kind="stable")
    half = int(np.around(k1 / 2)) + 1
    v = np.zeros((n, n), dtype=np.float32)
    for i in range(n):
        members = _reciprocal(rank, i, k1 + 1)
        expanded = members
        for candidate in members:
            candidate_set = _reciprocal(rank, candidate, half)
            if len(np.intersect1d(candidate_set, members)) > 2 / 3 * len(candidate_set):
                expanded = np.append(expanded, candidate_set)
        expanded = np.unique(expanded)
        weight = np.exp(-original[i, expanded])
        v[i, expanded] = weight / np.sum(weight)
    original = original[:n_query]
    if k2 != 1:
        v = np.stack([v[rank[i, :k2]].mean(axis=0) for i in range(n)]).astype(np.float32)
    jaccard = np.zeros_like(original)
    for i in range(n_query):
        mass = np.minimum(v[i], v).sum(axis=1).astype(np.float32)
        jaccard[i] = 1 - mass / (2 - mass)
    final = jaccard * (1 - lambda_value) + original * lambda_value
    return final[:, n_query:]


def _features(n: int, dim: int, seed: int, n_ids: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_ids, dim))
    x = centres[rng.integers(0, n_ids, size=n)] + 0.5 * rng.normal(size=(n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return (np.round(x * 64) / 64).astype(np.float32)  # exact float32 distances


@pytest.mark.parametrize(
    ("n_query", "n_gallery", "k1", "k2", "lam"),
    [(10, 60, 20, 6, 0.3), (40, 35, 20, 6, 0.3), (7, 50, 9, 3, 0.5), (15, 40, 5, 1, 0.0), (3, 10, 20, 6, 0.3)],
)
def test_equals_dense_reference(
    n_query: int, n_gallery: int, k1: int, k2: int, lam: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    features = _features(n_query + n_gallery, 24, seed=n_query + k1, n_ids=8)
    query, gallery = features[:n_query], features[n_query:]
    monkeypatch.setattr(nearest_module, "BLOCK_BYTES", 2048)  # force many blocks
    monkeypatch.setattr(jaccard_module, "_MAX_PAIRS", 500)
    got = k_reciprocal_rerank(query, gallery, k1=k1, k2=k2, lambda_value=lam)
    assert got.shape == (n_query, n_gallery) and got.dtype == np.float32
    np.testing.assert_allclose(got, dense_rerank(query, gallery, k1, k2, lam), rtol=0, atol=1e-5)


def test_equals_dense_reference_with_ties() -> None:
    rng = np.random.default_rng(11)
    features = (rng.integers(-2, 3, size=(60, 3)) / 2).astype(np.float32)  # coarse lattice: many ties
    features[25:28] = features[2]  # query duplicated in the gallery
    query, gallery = torch.from_numpy(features[:20]), torch.from_numpy(features[20:])
    got = k_reciprocal_rerank(query, gallery, k1=8, k2=4)
    np.testing.assert_allclose(got, dense_rerank(features[:20], features[20:], 8, 4, 0.3), rtol=0, atol=1e-5)


def test_output_range_and_input_validation() -> None:
    features = _features(80, 32, seed=3, n_ids=6)
    got = k_reciprocal_rerank(features[:20], features[20:])
    assert np.isfinite(got).all() and got.min() >= 0
    with pytest.raises(ValueError, match="24-d"):
        k_reciprocal_rerank(features[:5], features[20:, :24])
    with pytest.raises(ValueError, match="lambda_value"):
        k_reciprocal_rerank(features[:5], features[20:], lambda_value=1.5)
    with pytest.raises(ValueError, match="query_features"):
        k_reciprocal_rerank(features[0], features[20:])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_features_give_the_cpu_result() -> None:
    features = _features(70, 16, seed=5, n_ids=5)
    query, gallery = torch.from_numpy(features[:20]), torch.from_numpy(features[20:])
    on_cpu = k_reciprocal_rerank(query, gallery)
    on_gpu = k_reciprocal_rerank(query.cuda(), gallery.cuda())
    np.testing.assert_allclose(on_gpu, on_cpu, rtol=0, atol=1e-5)

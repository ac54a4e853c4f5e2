"""Agglomerative wrapper, n_clusters resolution and silhouette (icsr.md §13.3)."""

from __future__ import annotations

import numpy as np
import pytest
from reid_plugin_icsr.clustering import agglomerative, resolve_n_clusters, silhouette


def _blobs(seed: int = 0, groups: int = 4, per: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(groups, 8)) * 5
    x = np.concatenate([c + 0.1 * rng.normal(size=(per, 8)) for c in centres])
    dist = np.linalg.norm(x[:, None] - x[None], axis=2)
    return (dist / dist.max()).astype(np.float32), np.repeat(np.arange(groups), per)


def test_exact_number_of_clusters_no_outliers_and_deterministic() -> None:
    dist, truth = _blobs()
    for k in (1, 2, 4, 7, 20):
        labels = agglomerative(dist, k)
        assert labels.min() >= 0
        assert np.unique(labels).size == k
        assert np.array_equal(labels, agglomerative(dist.copy(), k))
    labels = agglomerative(dist, 4)
    assert all(np.unique(labels[truth == g]).size == 1 for g in range(4))


def test_n_clusters_is_clamped_and_resolved() -> None:
    dist, _ = _blobs()
    assert np.unique(agglomerative(dist, 500)).size == 20
    assert resolve_n_clusters(23, ratio=5) == 4
    assert resolve_n_clusters(3, ratio=5) == 1
    assert resolve_n_clusters(1000, ratio=0.06) == 60
    assert resolve_n_clusters(1000, n_clusters=1200) == 1000
    with pytest.raises(ValueError):
        resolve_n_clusters(10)


def test_silhouette_prefers_the_true_partition_and_handles_degenerate_ones() -> None:
    dist, truth = _blobs()
    dist = dist + 0.05 * np.eye(20, dtype=np.float32)  # a non-zero diagonal must not matter
    rng = np.random.default_rng(0)
    assert silhouette(dist, truth) > silhouette(dist, rng.permutation(truth))
    assert silhouette(dist, np.zeros(20)) == -1.0
    assert silhouette(dist, np.arange(20)) == -1.0


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(a[:, None] == a[None], b[:, None] == b[None])


def test_matches_scikit_learn_average_linkage() -> None:
    from sklearn.cluster import AgglomerativeClustering

    rng = np.random.default_rng(3)
    for trial in range(8):
        n = int(rng.integers(5, 60))
        x = rng.normal(size=(n, 4))
        dist = np.linalg.norm(x[:, None] - x[None], axis=2).astype(np.float32)
        dist += 1e-4 * rng.random((n, n)).astype(np.float32)  # slightly asymmetric, as float Jaccard can be
        np.fill_diagonal(dist, 0)
        k = int(rng.integers(1, n + 1))
        ours = agglomerative(dist, k)
        sym = 0.5 * (dist.astype(np.float64) + dist.T)
        ref = AgglomerativeClustering(n_clusters=k, metric="precomputed", linkage="average").fit_predict(sym)
        assert _same_partition(ours, ref), (trial, n, k)
        assert sorted(set(ours.tolist())) == list(range(k))

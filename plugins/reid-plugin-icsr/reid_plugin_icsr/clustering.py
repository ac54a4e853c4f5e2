"""Agglomerative clustering and silhouette on a precomputed distance (scikit-learn, a plugin dependency)."""

from __future__ import annotations

import logging

import numpy as np

__all__ = ["agglomerative", "resolve_n_clusters", "silhouette"]

log = logging.getLogger(__name__)


def resolve_n_clusters(num_samples: int, n_clusters: int = 0, ratio: float = 0.0) -> int:
    """The number of clusters for ``num_samples`` images, clamped to ``1..num_samples``.

    ``n_clusters > 0`` is used as is; otherwise ``ratio`` gives ``num_samples // ratio`` when it
    is >= 1 (images per cluster, stage 1's ``N_c // 5``) or ``round(num_samples * ratio)`` when
    it is a fraction (clusters per image).
    """
    if num_samples <= 0:
        raise ValueError("resolve_n_clusters: there are no samples to cluster")
    if n_clusters > 0:
        k = int(n_clusters)
    elif ratio >= 1:
        k = int(num_samples // ratio)
    elif ratio > 0:
        k = round(num_samples * ratio)
    else:
        raise ValueError("resolve_n_clusters: give n_clusters > 0 or ratio > 0")
    return max(1, min(k, num_samples))


def agglomerative(dist: np.ndarray, n_clusters: int) -> np.ndarray:
    """Average-linkage agglomerative labels ``0..n_clusters-1`` of a precomputed ``N x N`` distance.

    Every sample gets a label (no -1); deterministic for the same input. ``n_clusters`` is
    clamped to ``1..N`` (``N`` clusters are the singletons; one cluster is everything).
    """
    from sklearn.cluster import AgglomerativeClustering

    dist = np.asarray(dist)
    n = dist.shape[0]
    if dist.ndim != 2 or dist.shape[1] != n:
        raise ValueError(f"agglomerative: expected a square distance matrix, got shape {dist.shape}")
    k = max(1, min(int(n_clusters), n))
    if k == n:
        return np.arange(n, dtype=np.int64)
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    dist = np.ascontiguousarray(dist, dtype=np.float64)
    dist = 0.5 * (dist + dist.T)  # average linkage needs a symmetric input; Jaccard is, up to rounding
    np.fill_diagonal(dist, 0.0)
    model = AgglomerativeClustering(n_clusters=k, metric="precomputed", linkage="average")
    return model.fit_predict(dist).astype(np.int64)


def silhouette(dist: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette of ``labels`` on a precomputed distance, with the diagonal set to 0.

    Returns -1.0 (the worst value) when the silhouette is undefined (fewer than 2 clusters,
    or every sample its own cluster), so that a camera always gets a partition.
    """
    from sklearn.metrics import silhouette_score

    labels = np.asarray(labels)
    k = np.unique(labels).size
    if k < 2 or k >= labels.size:
        return -1.0
    dist = np.array(dist, dtype=np.float64, copy=True)
    np.fill_diagonal(dist, 0.0)
    return float(silhouette_score(dist, labels, metric="precomputed"))

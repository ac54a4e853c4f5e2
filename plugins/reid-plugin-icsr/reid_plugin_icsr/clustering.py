"""Agglomerative clustering and silhouette on a precomputed distance (scikit-learn, a plugin dependency)."""

from __future__ import annotations

import logging

import numpy as np

from reid_core.progress import track

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


def condensed_average(dist: np.ndarray) -> np.ndarray:
    """The condensed (upper-triangle) float64 vector of ``(D + D.T) / 2``, built row by row.

    Only the ``N (N - 1) / 2`` result is allocated (no full float64 or symmetrised copy of ``D``),
    which is what keeps MSMT17-sized inputs (N = 32,621) within memory.
    """
    n = dist.shape[0]
    out = np.empty(n * (n - 1) // 2, dtype=np.float64)
    pos = 0
    for i in track(range(n - 1), desc="clustering: condensed distances", unit="row"):
        row = dist[i, i + 1:].astype(np.float64)
        row += dist[i + 1:, i]
        row *= 0.5
        out[pos:pos + row.size] = row
        pos += row.size
    return out


def cut_tree(merges: np.ndarray, num_samples: int, n_clusters: int) -> np.ndarray:
    """Labels after the first ``num_samples - n_clusters`` merges of a scipy linkage matrix.

    Exactly ``n_clusters`` clusters (the tree cut scikit-learn makes); labels are numbered in
    order of each cluster's first member.
    """
    parent = np.arange(2 * num_samples - 1)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for step in range(num_samples - n_clusters):
        a, b = int(merges[step, 0]), int(merges[step, 1])
        node = num_samples + step
        parent[find(a)] = node
        parent[find(b)] = node
    roots = np.array([find(i) for i in range(num_samples)])
    _, first, inverse = np.unique(roots, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse].astype(np.int64)


def agglomerative(dist: np.ndarray, n_clusters: int) -> np.ndarray:
    """Average-linkage agglomerative labels ``0..n_clusters-1`` of a precomputed ``N x N`` distance.

    Every sample gets a label (no -1); deterministic for the same input. ``n_clusters`` is
    clamped to ``1..N`` (``N`` clusters are the singletons; one cluster is everything). Same
    partition as scikit-learn's ``AgglomerativeClustering(metric="precomputed", linkage="average")``
    on ``(D + D.T) / 2`` (scipy's average linkage on the condensed distance, then the tree cut at
    ``n_clusters``), without scikit-learn's dense float64 copies of ``D``.
    """
    from scipy.cluster.hierarchy import linkage

    dist = np.asarray(dist)
    n = dist.shape[0]
    if dist.ndim != 2 or dist.shape[1] != n:
        raise ValueError(f"agglomerative: expected a square distance matrix, got shape {dist.shape}")
    k = max(1, min(int(n_clusters), n))
    if k == n:
        return np.arange(n, dtype=np.int64)
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    merges = linkage(condensed_average(dist), method="average")
    return cut_tree(merges, n, k)


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

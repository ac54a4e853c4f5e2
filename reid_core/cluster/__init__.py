"""Building blocks for clustering-based unsupervised re-ID: the cluster memory and pseudo-label helpers."""

from __future__ import annotations

from reid_core.cluster.labels import cluster_centroids, num_clusters, pairwise_precision_recall, relabel
from reid_core.cluster.memory import ClusterMemory, cluster_memory_logits, momentum_update

__all__ = [
    "ClusterMemory",
    "cluster_centroids",
    "cluster_memory_logits",
    "momentum_update",
    "num_clusters",
    "pairwise_precision_recall",
    "relabel",
]

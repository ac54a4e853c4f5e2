"""k-reciprocal neighbours: exact kNN, k-reciprocal sets, Jaccard distance and re-ranking.

Shared by test-time re-ranking (evaluation) and pseudo-labelling in unsupervised re-ID
(clustering on the Jaccard distance). All structures are sparse or block-wise: no function here
holds more than its N x N (or q x g) float32 result densely.
"""

from __future__ import annotations

from reid_core.neighbors.jaccard import (
    jaccard_distance,
    jaccard_distance_sparse,
    jaccard_weights,
    shared_mass_blocks,
)
from reid_core.neighbors.kreciprocal import (
    expand_k_reciprocal,
    k_reciprocal_mask,
    k_reciprocal_neighbors,
    local_query_expansion,
    row_softmax,
)
from reid_core.neighbors.nearest import knn, squared_euclidean, stable_smallest_k
from reid_core.neighbors.rerank import k_reciprocal_rerank, normalized_rank
from reid_core.neighbors.sparse import SparseRows

__all__ = [
    "SparseRows",
    "expand_k_reciprocal",
    "jaccard_distance",
    "jaccard_distance_sparse",
    "jaccard_weights",
    "k_reciprocal_mask",
    "k_reciprocal_neighbors",
    "k_reciprocal_rerank",
    "knn",
    "local_query_expansion",
    "normalized_rank",
    "row_softmax",
    "shared_mass_blocks",
    "squared_euclidean",
    "stable_smallest_k",
]

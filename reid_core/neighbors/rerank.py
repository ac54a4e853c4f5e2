"""Test-time k-reciprocal re-ranking (Zhong et al., CVPR 2017), with bounded memory.

Algorithm (the reference ``re_ranking`` used by torchreid-style evaluators, from features):

1. original distance on all q + g features: squared euclidean ``D``; row i is divided by the
   maximum of column i (``transpose(D / D.max(axis=0))``; D is symmetric, so row i's maximum);
2. rank: each row's neighbours by that normalised distance, itself included;
3. R(i) over ``k1 + 1`` columns, half sets over ``round(k1 / 2) + 1`` columns, the 2/3 expansion
   rule (as in :mod:`reid_core.neighbors.kreciprocal`);
4. V_ij = exp(-d_ij) / sum over R*(i) (d the normalised distance);
5. local query expansion over the first k2 neighbours (if k2 != 1);
6. Jaccard ``1 - S / (2 - S)`` for query rows against gallery columns only, and
   ``final = (1 - lambda) * jaccard + lambda * original`` on the q x g block.

The reference holds several (q + g)^2 arrays (distances, argsort, V, V_qe); here the ranking is
an exact block-wise top-k, V is sparse and only the q x g float32 result is dense.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch

from reid_core.neighbors.jaccard import half_width, jaccard_from_mass, shared_mass_blocks
from reid_core.neighbors.kreciprocal import expand_k_reciprocal, local_query_expansion, row_normalize
from reid_core.neighbors.nearest import (
    as_feature_tensor,
    exact_smallest,
    full_rows,
    knn_candidates,
    pair_distances,
    squared_euclidean,
)
from reid_core.neighbors.sparse import SparseRows

logger = logging.getLogger(__name__)

#: Extra candidates kept per row so that ties created by the per-row normalisation can be resolved.
_NORMALISED_MARGIN = 16


def normalized_rank(
    x: torch.Tensor, width: int, *, budget: int | None = None
) -> tuple[np.ndarray, torch.Tensor, np.ndarray, np.ndarray]:
    """Rank every row of ``x`` by the column-max-normalised squared distance, in one pass.

    Returns ``(rank [N, width] int64, colmax [N] float32 tensor, candidates, candidate_distances)``;
    the last two (``[N, width + margin]``) list, for each row, raw squared distances to its
    nearest columns, for reuse by :func:`reid_core.neighbors.nearest.lookup_pairs`. The ranking
    equals a stable argsort of the normalised rows: candidates are taken by the raw distance (the
    scaling is monotonic, so every column left out stays >= the candidates after it), then
    ordered by their normalised values (:func:`~reid_core.neighbors.nearest.exact_smallest`).
    """
    n = x.shape[0]
    values, index, colmax = knn_candidates(x, width + _NORMALISED_MARGIN, with_max=True, budget=budget)
    assert colmax is not None
    colmax = torch.where(colmax > 0, colmax, torch.ones_like(colmax))  # all-identical features: avoid 0/0
    lookup_index, lookup_dist = index.cpu().numpy(), values.cpu().numpy()
    sq = (x * x).sum(dim=1)
    _, rank = exact_smallest(
        values / colmax[:, None], index, width, n, lambda rows: full_rows(x, sq, rows) / colmax[rows.to(x.device), None]
    )
    return rank.cpu().numpy(), colmax.cpu(), lookup_index, lookup_dist


def k_reciprocal_rerank(
    query_features: torch.Tensor | np.ndarray,
    gallery_features: torch.Tensor | np.ndarray,
    k1: int = 20,
    k2: int = 6,
    lambda_value: float = 0.3,
) -> np.ndarray:
    """Re-ranked query x gallery distances (float32 ``[q, g]``), Zhong et al. CVPR 2017.

    Same values (to float rounding) as the reference ``re_ranking(probFea, galFea, k1, k2,
    lambda_value)`` with float32 weights; ties in the ranking go to the lower index (query rows
    come first). Memory: O((q + g) x k1) for the neighbour structures, one block of distances at
    a time, and the q x g result.
    """
    if int(k1) != k1 or k1 < 1 or int(k2) != k2 or k2 < 1:
        raise ValueError(f"k_reciprocal_rerank: k1 and k2 must be positive integers, got k1={k1!r}, k2={k2!r}")
    if not 0.0 <= lambda_value <= 1.0:
        raise ValueError(f"k_reciprocal_rerank: lambda_value must be in [0, 1], got {lambda_value!r}")
    query = as_feature_tensor(query_features, "query_features")
    gallery = as_feature_tensor(gallery_features, "gallery_features").to(query.device)
    if query.shape[1] != gallery.shape[1]:
        raise ValueError(
            f"k_reciprocal_rerank: query features are {query.shape[1]}-d but gallery features are {gallery.shape[1]}-d"
        )
    started = time.perf_counter()
    x = torch.cat([query, gallery])
    n_query, n = query.shape[0], x.shape[0]
    full = min(k1 + 1, n)
    half = min(half_width(k1), n)
    qe = min(k2, n)
    rank, colmax, candidates, candidate_distances = normalized_rank(x, max(full, half, qe))

    sets = expand_k_reciprocal(rank, full, half)
    rows = sets.row_ids()
    pair_sq = pair_distances(x, candidates, candidate_distances, rows, sets.indices)
    distance = pair_sq / colmax.numpy()[rows]
    weights = row_normalize(SparseRows(sets.indptr, sets.indices, np.exp(-distance), n))
    if k2 != 1:
        weights = local_query_expansion(weights, rank, qe)
    logger.debug("rerank: %d x %d, %.1f weights per row, %.2fs to V", n_query, n - n_query,
                 weights.nnz / n, time.perf_counter() - started)

    out = np.empty((n_query, n - n_query), dtype=np.float32)
    gallery_weights = weights.slice_rows(n_query, n)
    query_sq = (query * query).sum(dim=1)
    gallery_sq = (gallery * gallery).sum(dim=1)
    query_scale = colmax[:n_query].to(query.device)
    lam = np.float32(lambda_value)
    for start, stop, mass in shared_mass_blocks(weights.slice_rows(0, n_query), gallery_weights):
        original = squared_euclidean(query[start:stop], gallery, query_sq[start:stop], gallery_sq)
        original = (original / query_scale[start:stop, None]).cpu().numpy()
        out[start:stop] = jaccard_from_mass(mass) * (np.float32(1) - lam) + original * lam
    logger.debug("rerank: done in %.2fs", time.perf_counter() - started)
    return out

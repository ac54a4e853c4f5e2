"""The k-reciprocal Jaccard distance used for pseudo-labelling (SpCL / cluster-contrast algorithm).

Algorithm (``compute_jaccard_distance`` of cluster-contrast, see ``shared/methods/icsr.md`` §4):

1. rank: the k1 nearest neighbours of every feature by squared L2, itself included (k1 columns);
2. R(i): k-reciprocal neighbours over those k1 columns; the "half" sets use ``round(k1/2) + 1``
   columns (the reference's slicing, 16 for k1 = 30);
3. R*(i): R(i) plus the half set of every member whose half set lies for more than 2/3 in R(i);
4. V_ij = softmax over j in R*(i) of ``-(2 - 2 x_i.x_j)`` (0 outside R*(i)); rows sum to 1;
5. local query expansion (k2 != 1): V_i becomes the mean of the V rows of i's first k2 neighbours;
6. ``d(i, j) = 1 - S_ij / (2 - S_ij)`` with ``S_ij = sum_k min(V_ik, V_jk)``, clipped at 0.

Here V is kept sparse (about k1 entries per row) and S is computed only where two rows share
support, block by block; the returned N x N float32 matrix is the only dense N x N allocation
(:func:`jaccard_distance_sparse` avoids even that).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import numpy as np
import torch

from reid_core.neighbors import nearest
from reid_core.neighbors.kreciprocal import expand_k_reciprocal, local_query_expansion, row_softmax
from reid_core.neighbors.nearest import as_feature_tensor, block_rows, knn, pair_distances
from reid_core.neighbors.sparse import SparseRows, gather_rows
from reid_core.progress import Progress

logger = logging.getLogger(__name__)

#: Maximum (row, column, min) triples expanded at once in the min-sum.
_MAX_PAIRS = 2**19


def _check_k(k1: int, k2: int) -> None:
    if int(k1) != k1 or k1 < 1:
        raise ValueError(f"k1 must be a positive integer, got {k1!r}")
    if int(k2) != k2 or k2 < 1:
        raise ValueError(f"k2 must be a positive integer, got {k2!r}")


def half_width(k1: int) -> int:
    """Columns read for the "half" k-reciprocal sets: ``round(k1 / 2) + 1`` (half to even, as numpy)."""
    return round(k1 / 2) + 1


def jaccard_weights(
    features: torch.Tensor | np.ndarray, k1: int = 30, k2: int = 6
) -> tuple[SparseRows, SparseRows, np.ndarray]:
    """The sparse k-reciprocal encodings of the Jaccard distance: ``(V, V_expanded, rank)``.

    ``V`` holds the softmax weights over R*(i) (step 4 of the module docstring), ``V_expanded``
    the result of local query expansion over k2 neighbours (``V`` itself when ``k2 == 1``) and
    ``rank`` the ``[N, min(k1, N)]`` neighbour indices. With fewer than k1 features the widths
    are capped at N.
    """
    _check_k(k1, k2)
    x = as_feature_tensor(features)
    n = x.shape[0]
    started = time.perf_counter()
    distances, rank = knn(x, k1)
    width = rank.shape[1]
    sets = expand_k_reciprocal(rank, width, min(half_width(k1), width))
    rows = sets.row_ids()
    # 2 - 2 x_i.x_j, written through the squared distance |x_i|^2 + |x_j|^2 - 2 x_i.x_j that the
    # kNN pass already has for most pairs (an identity for any features, not only unit-norm ones)
    sq = (x * x).sum(dim=1).cpu().numpy()
    pair_sq = pair_distances(x, rank, distances, rows, sets.indices)
    weights = row_softmax(sets, -(np.float32(2) - ((sq[rows] + sq[sets.indices]) - pair_sq)))
    expanded = weights if k2 == 1 else local_query_expansion(weights, rank, min(k2, width))
    logger.debug(
        "jaccard weights: N=%d, %.1f entries per row of V, %.1f after expansion, %.2fs",
        n, weights.nnz / n, expanded.nnz / n, time.perf_counter() - started,
    )
    return weights, expanded, rank


def shared_mass_blocks(
    left: SparseRows, right: SparseRows, *, budget: int | None = None
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield ``(start, stop, S)`` with ``S[a, b] = sum_k min(left[start + a, k], right[b, k])``.

    ``S`` is a dense float64 ``[stop - start, right.n_rows]`` block of at most ``budget`` bytes
    (default a quarter of ``BLOCK_BYTES``: it lives next to the caller's output); the blocks cover
    every row of ``left``. Only pairs sharing a column are visited (through the transposed ``right``), so the
    cost is the number of (row, shared column, row) triples, not N^2 x N.
    """
    if left.n_cols != right.n_cols:
        raise ValueError(f"shared_mass_blocks: {left.n_cols} columns on the left, {right.n_cols} on the right")
    n_right = right.n_rows
    by_column = right.transpose()
    pairs_per_entry = by_column.row_lengths()[left.indices]
    pairs_per_row = np.bincount(left.row_ids(), weights=pairs_per_entry, minlength=left.n_rows)
    cumulative = np.concatenate([[0], np.cumsum(pairs_per_row)])
    budget = nearest.BLOCK_BYTES // 4 if budget is None else budget
    max_rows = block_rows(n_right, bytes_per_value=8, budget=budget)
    start = 0
    while start < left.n_rows:
        fits = int(np.searchsorted(cumulative, cumulative[start] + _MAX_PAIRS, side="right")) - 1
        stop = max(start + 1, min(left.n_rows, start + max_rows, fits))
        lo, hi = left.indptr[start], left.indptr[stop]
        entry_row = np.repeat(np.arange(stop - start, dtype=np.int64), np.diff(left.indptr[start : stop + 1]))
        owner, other_row, other_value = gather_rows(by_column, left.indices[lo:hi])
        mins = np.minimum(left.data[lo:hi][owner], other_value)
        keys = entry_row[owner] * n_right + other_row
        mass = np.bincount(keys, weights=mins, minlength=(stop - start) * n_right)
        yield start, stop, mass.reshape(stop - start, n_right)
        start = stop


def jaccard_from_mass(mass: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``1 - S / (2 - S)`` as float32: the Jaccard distance of rows whose weights sum to 1.

    Written into ``out`` (a float32 array of the same shape) when given, without temporaries.
    """
    out = np.empty(np.shape(mass), dtype=np.float32) if out is None else out
    np.subtract(2, mass, out=out, casting="same_kind")
    np.divide(mass, out, out=out, casting="same_kind")
    np.subtract(1, out, out=out, casting="same_kind")
    return out


def jaccard_distance(features: torch.Tensor | np.ndarray, k1: int = 30, k2: int = 6) -> np.ndarray:
    """The k-reciprocal Jaccard distance between all rows of ``features`` (N x N float32).

    ``features`` should be L2-normalised (the V weights use ``2 - 2 x_i.x_j``). The result is in
    [0, 1], symmetric up to float rounding, ~0 on the diagonal and exactly 1 for pairs whose
    expanded k-reciprocal encodings share no support. Same algorithm and values (to float
    rounding) as cluster-contrast's ``compute_jaccard_distance``, with sparse internals; ties in
    the ranking go to the lower index.
    """
    _, expanded, _ = jaccard_weights(features, k1, k2)
    n = expanded.n_rows
    out = np.empty((n, n), dtype=np.float32)
    with Progress(n, desc="jaccard distance", unit="row") as progress:
        for start, stop, mass in shared_mass_blocks(expanded, expanded):
            block = jaccard_from_mass(mass, out=out[start:stop])
            np.maximum(block, 0, out=block)
            progress.update(stop - start)
    return out


def jaccard_distance_sparse(features: torch.Tensor | np.ndarray, k1: int = 30, k2: int = 6) -> SparseRows:
    """The Jaccard distance of :func:`jaccard_distance` as sparse rows: only pairs with distance < 1.

    Missing entries mean distance 1 (no shared support); stored entries may be exactly 0 (the
    diagonal, duplicates). ``result.to_scipy()`` suits estimators that take a sparse precomputed
    distance (e.g. scikit-learn's DBSCAN with ``eps < 1``). Memory is O(N x neighbours).
    """
    _, expanded, _ = jaccard_weights(features, k1, k2)
    n = expanded.n_rows
    counts, columns, values = [], [], []
    with Progress(n, desc="jaccard distance", unit="row") as progress:
        for start, stop, mass in shared_mass_blocks(expanded, expanded):
            rows, cols = np.nonzero(mass > 0)  # row-major: already sorted by row, then column
            block = jaccard_from_mass(mass[rows, cols])
            counts.append(np.bincount(rows, minlength=stop - start))
            columns.append(cols)
            values.append(np.maximum(block, 0, out=block))
            progress.update(stop - start)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.concatenate(counts), out=indptr[1:])
    return SparseRows(indptr, np.concatenate(columns), np.concatenate(values), n)

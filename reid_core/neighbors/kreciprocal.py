"""k-reciprocal neighbour sets, their expansion, the sparse encodings V and local query expansion.

These are the building blocks shared by test-time re-ranking (Zhong et al., CVPR 2017) and the
Jaccard distance used for pseudo-labelling in unsupervised re-ID (SpCL / cluster-contrast). Both
start from a ranking ``rank`` (``[N, width]``, row i = the nearest rows of i in order) and differ
only in how many columns they read and how they weight the set members, which the callers pass in.

Everything is vectorised over row blocks; no N x N array is built.
"""

from __future__ import annotations

import numpy as np

from reid_core.neighbors.sparse import SparseRows, concat_rows, gather_rows

#: Elements (booleans or int64) a temporary block may hold.
_BLOCK_ELEMENTS = 16 * 2**20

#: A candidate's half set is merged when more than this share of it is already in R(i, k1).
EXPANSION_RATIO = 2.0 / 3.0


def _check_width(rank: np.ndarray, width: int, what: str) -> None:
    if rank.ndim != 2:
        raise ValueError(f"{what}: rank must be a 2-D [N, width] index array, got shape {rank.shape}")
    if not 1 <= width <= rank.shape[1]:
        raise ValueError(f"{what}: width {width} must be between 1 and the rank's {rank.shape[1]} columns")


def k_reciprocal_mask(rank: np.ndarray, width: int) -> np.ndarray:
    """``mask[i, a]`` is True when ``j = rank[i, a]`` (a < width) is a k-reciprocal neighbour of i.

    j is k-reciprocal to i when j is in the first ``width`` columns of i's ranking and i is in
    the first ``width`` columns of j's. The relation is symmetric by construction. Note that the
    reference codes pass ``width = k1 + 1`` (re-ranking) or ``width = k1`` (Jaccard, whose ranking
    has only k1 columns) for the full set and ``round(k1 / 2) + 1`` for the half set.
    """
    _check_width(rank, width, "k_reciprocal_mask")
    forward = np.ascontiguousarray(rank[:, :width])
    n = len(forward)
    mask = np.empty(forward.shape, dtype=bool)
    step = max(1, _BLOCK_ELEMENTS // (width * width))
    for start in range(0, n, step):
        stop = min(n, start + step)
        backward = forward[forward[start:stop]]  # [rows, width, width]
        own = np.arange(start, stop, dtype=forward.dtype)[:, None, None]
        mask[start:stop] = (backward == own).any(axis=2)
    return mask


def k_reciprocal_neighbors(rank: np.ndarray, width: int) -> SparseRows:
    """The k-reciprocal sets R(i) as sparse rows (columns in ranking order, values 1)."""
    mask = k_reciprocal_mask(rank, width)
    return SparseRows.from_mask(np.ascontiguousarray(rank[:, :width]), mask, len(rank))


def expand_k_reciprocal(
    rank: np.ndarray, full_width: int, half_width: int, ratio: float = EXPANSION_RATIO
) -> SparseRows:
    """The expanded sets R*(i), sorted and unique per row (values 1).

    R*(i) = R(i) united with H(c) for every candidate c in R(i) whose half set H(c) (the
    k-reciprocal set over ``half_width`` columns) has more than ``ratio * |H(c)|`` members in R(i).
    """
    _check_width(rank, full_width, "expand_k_reciprocal")
    _check_width(rank, half_width, "expand_k_reciprocal")
    n = len(rank)
    full_idx = np.ascontiguousarray(rank[:, :full_width])
    full_mask = k_reciprocal_mask(rank, full_width)
    half_idx = np.ascontiguousarray(rank[:, :half_width])
    half_mask = k_reciprocal_mask(rank, half_width)
    half_size = half_mask.sum(axis=1)
    members = np.where(full_mask, full_idx, -1)  # R(i), -1 = not a member

    parts: list[SparseRows] = []
    step = max(1, _BLOCK_ELEMENTS // (full_width * full_width * half_width))
    for start in range(0, n, step):
        stop = min(n, start + step)
        cand = full_idx[start:stop]  # [B, F]
        cand_ok = full_mask[start:stop]
        half_of_cand = half_idx[cand]  # [B, F, H]
        half_ok = half_mask[cand]  # [B, F, H]
        inside = (half_of_cand[..., None] == members[start:stop, None, None, :]).any(axis=3) & half_ok
        accepted = cand_ok & (inside.sum(axis=2) > ratio * half_size[cand])
        added = np.where(accepted[..., None] & half_ok, half_of_cand, -1).reshape(stop - start, -1)
        union = np.sort(np.concatenate([members[start:stop], added], axis=1), axis=1)
        keep = union >= 0
        keep[:, 1:] &= union[:, 1:] != union[:, :-1]
        parts.append(SparseRows.from_mask(union, keep, n))
    return concat_rows(parts, n)


def row_softmax(sets: SparseRows, logits: np.ndarray) -> SparseRows:
    """Softmax of ``logits`` (one per stored entry) within each row: the weights of V.

    Computed as ``exp(x - rowmax) / sum`` in float32, like ``torch.softmax``; rows sum to 1
    (an empty row stays empty).
    """
    rows = sets.row_ids()
    logits = np.asarray(logits, dtype=np.float32)
    row_max = np.full(sets.n_rows, -np.inf, dtype=np.float32)
    np.maximum.at(row_max, rows, logits)
    weights = np.exp(logits - row_max[rows])
    return row_normalize(SparseRows(sets.indptr, sets.indices, weights, sets.n_cols))


def row_normalize(matrix: SparseRows) -> SparseRows:
    """Divide every row by its sum (rows with a zero sum are left as they are)."""
    sums = matrix.row_sums().astype(np.float32)
    sums[sums == 0] = 1
    return SparseRows(matrix.indptr, matrix.indices, matrix.data / sums[matrix.row_ids()], matrix.n_cols)


def local_query_expansion(weights: SparseRows, rank: np.ndarray, k2: int) -> SparseRows:
    """Replace each row of V by the mean of the V rows of its first ``k2`` ranked neighbours.

    The ranking's first column is normally the row itself, so the mean includes it (as in both
    reference codes). Rows that summed to 1 still sum to 1.
    """
    _check_width(rank, k2, "local_query_expansion")
    n = weights.n_rows
    neighbours = np.ascontiguousarray(rank[:, :k2])
    mean_len = max(1.0, float(weights.row_lengths().mean())) if n else 1.0
    step = max(1, int(_BLOCK_ELEMENTS // (k2 * mean_len)))
    parts: list[SparseRows] = []
    for start in range(0, n, step):
        stop = min(n, start + step)
        owner, cols, vals = gather_rows(weights, neighbours[start:stop].reshape(-1))
        expanded = SparseRows.from_coo(owner // k2, cols, vals, (stop - start, weights.n_cols))
        parts.append(SparseRows(expanded.indptr, expanded.indices, expanded.data / np.float32(k2), expanded.n_cols))
    return concat_rows(parts, weights.n_cols)

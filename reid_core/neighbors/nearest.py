"""Exact k-nearest neighbours in row blocks (torch matmul plus top-k), with a deterministic tie rule.

The k-reciprocal algorithms only need the first few columns of each row's ranking, so the
N x N distance matrix is never held: it is computed in square blocks (upper triangle only, each
block serving its rows and its columns) whose size is set by a memory budget. Ties are broken by the lower column index (the order of a stable sort), so results are
reproducible and can be compared exactly with a dense ``argsort(kind="stable")`` reference.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

#: Bytes a temporary block of distances may take.
BLOCK_BYTES = 64 * 2**20

#: Extra candidates taken by ``topk`` so that ties at the k-th place can be resolved by index.
_TIE_MARGIN = 8


def as_feature_tensor(features: torch.Tensor | np.ndarray, name: str = "features") -> torch.Tensor:
    """Return ``features`` as a contiguous float32 ``[N, dim]`` tensor (on its own device).

    Raises ``ValueError`` naming ``name`` for a wrong rank or non-finite values, ``TypeError``
    for anything that is neither a tensor nor an array.
    """
    if isinstance(features, np.ndarray):
        tensor = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
    elif isinstance(features, torch.Tensor):
        tensor = features.detach().to(torch.float32)
    else:
        raise TypeError(f"{name} must be a torch.Tensor or numpy.ndarray, got {type(features).__name__}")
    if tensor.ndim != 2:
        raise ValueError(f"{name} must be a 2-D [N, dim] array, got shape {tuple(tensor.shape)}")
    if tensor.shape[0] == 0:
        raise ValueError(f"{name} is empty: need at least one feature row")
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return tensor.contiguous()


def block_rows(n_cols: int, bytes_per_value: int = 4, budget: int | None = None) -> int:
    """How many rows of an ``n_cols``-wide block fit in ``budget`` bytes (default ``BLOCK_BYTES``), at least 1."""
    budget = BLOCK_BYTES if budget is None else budget
    return max(1, budget // max(1, n_cols * bytes_per_value))


def squared_euclidean(
    a: torch.Tensor, b: torch.Tensor, a_sq: torch.Tensor | None = None, b_sq: torch.Tensor | None = None
) -> torch.Tensor:
    """Squared euclidean distances ``|a_i|^2 + |b_j|^2 - 2 a_i.b_j`` as a float32 ``[len(a), len(b)]`` block.

    This is the expansion the reference code uses (torch ``addmm`` with ``beta=1, alpha=-2``), so
    the values match it; squared norms may be passed in to avoid recomputing them per block.
    """
    a_sq = (a * a).sum(dim=1) if a_sq is None else a_sq
    b_sq = (b * b).sum(dim=1) if b_sq is None else b_sq
    return torch.addmm(a_sq[:, None] + b_sq[None, :], a, b.t(), beta=1, alpha=-2)


def exact_smallest(
    values: torch.Tensor,
    index: torch.Tensor,
    k: int,
    n_cols: int,
    recompute: Callable[[torch.Tensor], torch.Tensor],
) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``k`` of each row in (value, index) order, from candidates; ties to the lower index.

    ``values``/``index`` (``[rows, take]``, any order) must hold, for each row, candidates such
    that every column left out has a value >= the largest candidate (what ``topk`` and merges of
    ``topk`` results give). Candidates are sorted by (value, index); a row whose k-th value is not
    strictly below its last candidate could tie with a column left out, so ``recompute(rows)``
    gives its full rows and they are stably sorted instead.
    """
    take = values.shape[1]
    k = min(k, take)
    index, order = torch.sort(index, dim=1)
    values = torch.gather(values, 1, order)
    values, order = torch.sort(values, dim=1, stable=True)
    index = torch.gather(index, 1, order)
    if take < n_cols:
        unsure = torch.nonzero(values[:, k - 1] >= values[:, take - 1]).squeeze(1)
        step = block_rows(n_cols)
        for start in range(0, unsure.numel(), step):
            rows = unsure[start : start + step]
            full_values, full_index = torch.sort(recompute(rows), dim=1, stable=True)
            values[rows, :k] = full_values[:, :k]
            index[rows, :k] = full_index[:, :k]
    return values[:, :k].contiguous(), index[:, :k].contiguous()


def stable_smallest_k(block: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` smallest values of each row and their column indices, ties to the lower index.

    Equal to ``torch.sort(block, stable=True)[:, :k]`` but costs a ``topk`` (see :func:`exact_smallest`).
    """
    n_cols = block.shape[1]
    k = min(k, n_cols)
    values, index = torch.topk(block, min(n_cols, k + _TIE_MARGIN), dim=1, largest=False, sorted=False)
    return exact_smallest(values, index, k, n_cols, lambda rows: block[rows])


def knn_candidates(
    x: torch.Tensor, take: int, *, with_max: bool = False, budget: int | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The ``take`` smallest squared distances of every row (unordered) and, optionally, each row's maximum.

    Only the blocks on and above the diagonal are computed (the distance matrix is symmetric),
    and each is used for its rows and, transposed, for its columns: half the matrix products of
    a row-by-row scan. Candidates of the column blocks are merged with ``topk``, so every
    column left out of a row's candidates is >= their maximum (what :func:`exact_smallest` needs).
    Returns ``(values [N, take], index [N, take], row_max [N] or None)`` on ``x``'s device.
    """
    n = x.shape[0]
    take = min(take, n)
    sq = (x * x).sum(dim=1)
    step = block_side(budget)
    bounds = [(a, min(n, a + step)) for a in range(0, n, step)]
    values: list[torch.Tensor | None] = [None] * len(bounds)
    index: list[torch.Tensor | None] = [None] * len(bounds)
    row_max = torch.full((n,), -torch.inf, dtype=torch.float32, device=x.device) if with_max else None

    def merge(b: int, block: torch.Tensor, offset: int) -> None:
        v, i = torch.topk(block, min(take, block.shape[1]), dim=1, largest=False, sorted=False)
        i = i + offset
        if values[b] is not None:
            v, i = torch.cat([values[b], v], dim=1), torch.cat([index[b], i], dim=1)
            if v.shape[1] > take:
                v, pos = torch.topk(v, take, dim=1, largest=False, sorted=False)
                i = torch.gather(i, 1, pos)
        values[b], index[b] = v, i

    for bi, (a0, a1) in enumerate(bounds):
        for bj in range(bi, len(bounds)):
            c0, c1 = bounds[bj]
            block = squared_euclidean(x[a0:a1], x[c0:c1], sq[a0:a1], sq[c0:c1])
            if row_max is not None:
                row_max[a0:a1] = torch.maximum(row_max[a0:a1], block.max(dim=1).values)
                row_max[c0:c1] = torch.maximum(row_max[c0:c1], block.max(dim=0).values)
            merge(bi, block, c0)
            if bj != bi:
                merge(bj, block.t(), a0)
    return torch.cat(values), torch.cat(index), row_max  # type: ignore[arg-type]


def block_side(budget: int | None = None) -> int:
    """Side of a square float32 block that fits in ``budget`` bytes (default ``BLOCK_BYTES``)."""
    budget = BLOCK_BYTES if budget is None else budget
    return max(1, int((budget // 4) ** 0.5))


def full_rows(x: torch.Tensor, sq: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Squared distances of rows ``rows`` of ``x`` to every row (for the tie fallback)."""
    rows = rows.to(x.device)
    return squared_euclidean(x[rows], x, sq[rows], sq)


def knn(
    features: torch.Tensor | np.ndarray, k: int, *, budget: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours of every row among all rows (itself included), by squared L2.

    Returns ``(distances, indices)``, float32 and int64 arrays of shape ``[N, min(k, N)]`` sorted
    by distance, ties to the lower index. Memory: one square block of at most ``budget`` bytes
    and O(N k) candidates.
    """
    x = as_feature_tensor(features)
    n = x.shape[0]
    if k < 1:
        raise ValueError(f"knn: k must be >= 1, got {k}")
    k = min(k, n)
    values, index, _ = knn_candidates(x, k + _TIE_MARGIN, budget=budget)
    sq = (x * x).sum(dim=1)
    values, index = exact_smallest(values, index, k, n, lambda rows: full_rows(x, sq, rows))
    return values.cpu().numpy(), index.cpu().numpy()


def pair_dots(
    features: torch.Tensor, rows: np.ndarray, cols: np.ndarray, *, budget: int | None = None
) -> np.ndarray:
    """Dot products ``features[rows[t]] . features[cols[t]]`` for every pair t, as float32.

    Pairs are processed in chunks so the gathered ``[pairs, dim]`` operands stay within ``budget`` bytes.
    """
    out = np.empty(len(rows), dtype=np.float32)
    step = max(1, block_rows(features.shape[1], budget=budget) // 2)
    rows_t = torch.from_numpy(np.asarray(rows, dtype=np.int64)).to(features.device)
    cols_t = torch.from_numpy(np.asarray(cols, dtype=np.int64)).to(features.device)
    for start in range(0, len(rows), step):
        stop = min(len(rows), start + step)
        a = features.index_select(0, rows_t[start:stop])
        b = features.index_select(0, cols_t[start:stop])
        out[start:stop] = (a * b).sum(dim=1).cpu().numpy()
    return out


def lookup_pairs(
    rank: np.ndarray, values: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Find pairs ``(rows[t], cols[t])`` in neighbour lists: ``(found, value)`` per pair.

    ``rank[i]`` lists the neighbours of row i and ``values[i]`` their distances (the output of
    :func:`knn`). ``value[t]`` is ``values[rows[t], a]`` where ``rank[rows[t], a] == cols[t]``
    (undefined where ``found`` is False). Lets callers reuse distances the kNN pass already
    computed instead of gathering feature vectors again.
    """
    n_cols = int(rank.max()) + 1 if rank.size else 1
    n_cols = max(n_cols, int(np.max(cols)) + 1 if len(cols) else 1)
    keys = (np.arange(len(rank), dtype=np.int64)[:, None] * n_cols + rank).ravel()
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    wanted = np.asarray(rows, dtype=np.int64) * n_cols + np.asarray(cols, dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_keys, wanted), max(0, len(sorted_keys) - 1))
    found = sorted_keys[pos] == wanted if len(sorted_keys) else np.zeros(len(wanted), dtype=bool)
    return found, np.ascontiguousarray(values).ravel()[order[pos]]


def pair_distances(
    features: torch.Tensor, rank: np.ndarray, distances: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """Squared distances of pairs ``(rows[t], cols[t])``: from the kNN lists where present, else computed.

    Computed ones use ``|a|^2 + |b|^2 - 2 a.b`` like :func:`squared_euclidean`.
    """
    found, out = lookup_pairs(rank, distances, rows, cols)
    out = out.astype(np.float32, copy=True)
    missing = np.nonzero(~found)[0]
    if len(missing):
        sq = (features * features).sum(dim=1).cpu().numpy()
        r, c = rows[missing], cols[missing]
        out[missing] = (sq[r] + sq[c]) - np.float32(2) * pair_dots(features, r, c)
    return out

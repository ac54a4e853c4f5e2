"""A minimal row-compressed sparse matrix for the k-reciprocal code (numpy only, no scipy needed).

The k-reciprocal encodings have about k1 non-zeros per row, so a compressed-row layout
(``indptr``/``indices``/``data``, the CSR convention) keeps them in O(N * k1) memory where the
reference implementations use dense N x N arrays. Only the few operations the neighbours package
needs are implemented; :meth:`SparseRows.to_scipy` converts for anything else.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np


def _int64(values: Any) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.int64)


def _float32(values: Any) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float32)


@attrs.frozen
class SparseRows:
    """A sparse ``[n_rows, n_cols]`` float32 matrix stored row by row (CSR layout).

    Row ``i`` holds columns ``indices[indptr[i]:indptr[i + 1]]`` with values ``data[same]``.
    Column indices are sorted and unique within a row when built by this package.
    """

    indptr: np.ndarray = attrs.field(converter=_int64)
    indices: np.ndarray = attrs.field(converter=_int64)
    data: np.ndarray = attrs.field(converter=_float32)
    n_cols: int = attrs.field(converter=int)

    def __attrs_post_init__(self) -> None:
        if self.indptr.ndim != 1 or len(self.indptr) == 0 or self.indptr[0] != 0:
            raise ValueError("SparseRows: indptr must be a 1-D array starting at 0")
        if self.indptr[-1] != len(self.indices) or len(self.indices) != len(self.data):
            raise ValueError(
                f"SparseRows: indptr ends at {self.indptr[-1]} but there are {len(self.indices)} indices "
                f"and {len(self.data)} values"
            )

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self.indptr) - 1

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_rows, n_cols)``."""
        return (self.n_rows, self.n_cols)

    @property
    def nnz(self) -> int:
        """Number of stored entries."""
        return len(self.indices)

    def row_lengths(self) -> np.ndarray:
        """Number of stored entries of each row."""
        return np.diff(self.indptr)

    def row_ids(self) -> np.ndarray:
        """The row of every stored entry (the COO row array)."""
        return np.repeat(np.arange(self.n_rows, dtype=np.int64), self.row_lengths())

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """``(columns, values)`` of row ``i``."""
        lo, hi = self.indptr[i], self.indptr[i + 1]
        return self.indices[lo:hi], self.data[lo:hi]

    def row_sums(self) -> np.ndarray:
        """Sum of each row (float64), 0 for an empty row."""
        return np.bincount(self.row_ids(), weights=self.data, minlength=self.n_rows)

    def slice_rows(self, start: int, stop: int) -> SparseRows:
        """Rows ``start:stop`` as a new matrix (same columns)."""
        lo, hi = self.indptr[start], self.indptr[stop]
        return SparseRows(self.indptr[start : stop + 1] - lo, self.indices[lo:hi], self.data[lo:hi], self.n_cols)

    def transpose(self) -> SparseRows:
        """The transposed matrix (columns become rows; rows sorted within each new row)."""
        order = np.argsort(self.indices, kind="stable")
        counts = np.bincount(self.indices, minlength=self.n_cols)
        indptr = np.zeros(self.n_cols + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return SparseRows(indptr, self.row_ids()[order], self.data[order], self.n_rows)

    def to_dense(self) -> np.ndarray:
        """A dense float32 copy (tests and small inputs only)."""
        out = np.zeros(self.shape, dtype=np.float32)
        out[self.row_ids(), self.indices] = self.data
        return out

    def to_scipy(self) -> Any:
        """A ``scipy.sparse.csr_matrix`` view of the same data (scipy is imported lazily)."""
        from scipy import sparse

        return sparse.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)

    @classmethod
    def from_mask(cls, columns: np.ndarray, mask: np.ndarray, n_cols: int, data: np.ndarray | None = None) -> SparseRows:
        """Rows made of ``columns[i][mask[i]]`` (in the given order), values ``data`` or 1."""
        counts = mask.sum(axis=1)
        indptr = np.zeros(len(columns) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        values = np.ones(int(indptr[-1]), dtype=np.float32) if data is None else data[mask]
        return cls(indptr, columns[mask], values, n_cols)

    @classmethod
    def from_coo(cls, rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> SparseRows:
        """Build from (row, col, value) triples, summing duplicates (in float64) and sorting columns."""
        n_rows, n_cols = shape
        rows = np.asarray(rows, dtype=np.int64)
        keys = rows * n_cols + np.asarray(cols, dtype=np.int64)
        unique, inverse = np.unique(keys, return_inverse=True)
        sums = np.bincount(inverse, weights=values, minlength=len(unique))
        out_rows = unique // n_cols
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(out_rows, minlength=n_rows), out=indptr[1:])
        return cls(indptr, unique % n_cols, sums, n_cols)


def concat_rows(parts: list[SparseRows], n_cols: int) -> SparseRows:
    """Stack row blocks vertically (all with ``n_cols`` columns)."""
    if not parts:
        return SparseRows(np.zeros(1, dtype=np.int64), np.zeros(0), np.zeros(0), n_cols)
    offsets = np.cumsum([0] + [p.nnz for p in parts[:-1]])
    indptr = np.concatenate([parts[0].indptr[:1]] + [p.indptr[1:] + off for p, off in zip(parts, offsets)])
    return SparseRows(
        indptr, np.concatenate([p.indices for p in parts]), np.concatenate([p.data for p in parts]), n_cols
    )


def gather_rows(matrix: SparseRows, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries of ``matrix`` rows ``rows[t]`` for every t: ``(t, column, value)`` flat arrays.

    Vectorised "concatenate the rows ``rows``" (repeat plus arange over the row slices), used
    by the query expansion and the Jaccard min-sum.
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts = matrix.indptr[rows]
    lengths = matrix.indptr[rows + 1] - starts
    total = int(lengths.sum())
    owner = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    first = np.cumsum(lengths) - lengths
    positions = np.arange(total, dtype=np.int64) + np.repeat(starts - first, lengths)
    return owner, matrix.indices[positions], matrix.data[positions]

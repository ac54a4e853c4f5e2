"""Query x gallery distances, as float32 matrix products, computed in blocks of queries.

Two metrics:

- ``euclidean``: squared Euclidean distance ``|q|^2 + |g|^2 - 2 q.g`` (torchreid, BoT).
- ``cosine``: ``1 - cos(q, g)`` on L2-normalised features. CAL/AIM rank by ``-q.g`` on normalised
  features, which differs by the constant 1 and gives the same ranking.

Ranking only compares distances within one query row, so :class:`DistanceBlocks` may leave out a
term that is constant along a row (``|q|^2`` and the ``1`` of ``1 - cos``): the blocks are exact up
to a per-row constant, which saves a pass over each block. :func:`pairwise_distance` returns the
true values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from reid_core.evaluation.base import EvaluationError

METRICS = ("euclidean", "cosine")
#: Queries per block: 512 x 82,161 float32 = 168 MB at MSMT17 scale.
DEFAULT_BLOCK = 512


def as_features(values: Any, name: str = "features") -> np.ndarray:
    """``values`` (numpy array or torch tensor, any float dtype) as a C-contiguous float32 [n, d] array.

    No copy when the input already is a contiguous float32 CPU array or tensor.
    """
    if hasattr(values, "detach"):  # torch.Tensor, without importing torch here
        values = values.detach().cpu()
        if str(values.dtype) != "torch.float32":
            values = values.float()
        values = values.numpy()
    array = np.ascontiguousarray(values, dtype=np.float32)
    if array.ndim != 2:
        raise EvaluationError(f"{name} must be a 2-D [n, dim] array, got shape {tuple(array.shape)}")
    return array


def check_finite(array: np.ndarray, name: str) -> None:
    """NaN or inf anywhere in ``array`` is an :class:`EvaluationError` (comparisons with NaN rank nothing)."""
    rows = array.sum(axis=1)
    if not np.isfinite(rows).all():
        bad = np.flatnonzero(~np.isfinite(rows))
        raise EvaluationError(f"{name}: {len(bad)} rows are not finite (NaN or inf), e.g. row {int(bad[0])}")


#: Squared norms above this could overflow float32 in ``|q|^2 + |g|^2 - 2 q.g`` (max float32 / 4).
MAX_SQUARED_NORM = float(np.finfo(np.float32).max) / 4.0


def check_magnitude(squared_norms: np.ndarray, name: str) -> None:
    """Features so large that their distances overflow float32 are an :class:`EvaluationError`.

    With every squared norm below max/4, ``|q|^2 + |g|^2 - 2 q.g`` stays finite (Cauchy-Schwarz),
    so ranking never compares inf with inf (which gave a mAP of 183 on features of 1e19).
    """
    if len(squared_norms) == 0:
        return
    worst = float(np.max(squared_norms))
    if not np.isfinite(squared_norms).all() or worst > MAX_SQUARED_NORM:
        row = int(np.argmax(np.where(np.isfinite(squared_norms), squared_norms, np.inf)))
        raise EvaluationError(
            f"{name} are too large for float32 distances (row {row} has a squared norm of {worst:.3g}, the limit is "
            f"{MAX_SQUARED_NORM:.3g}): their distances are not finite; scale or L2-normalise the features "
            "before saving them"
        )


def check_metric(metric: str) -> str:
    """``metric`` if it is a known metric, else an :class:`EvaluationError` listing the valid ones."""
    if metric not in METRICS:
        raise EvaluationError(f"unknown metric {metric!r}; valid metrics: {', '.join(METRICS)}")
    return metric


def l2_normalise(features: np.ndarray) -> np.ndarray:
    """Rows divided by their L2 norm (a zero row stays zero), as a new float32 array."""
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return (features / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def _check_dims(query: np.ndarray, gallery: np.ndarray) -> None:
    if query.shape[1] != gallery.shape[1]:
        raise EvaluationError(
            f"query features have dimension {query.shape[1]} but gallery features have {gallery.shape[1]} "
            f"(shapes {tuple(query.shape)} and {tuple(gallery.shape)})"
        )


def float32_product(left: np.ndarray, right: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``left @ right`` in float32: the one matrix product every distance here goes through.

    Its last bits depend on the BLAS kernel, which the CPU and the block's shape choose; nothing in
    the evaluation may depend on them beyond the order of distances closer than that rounding. The
    test suite replaces this function to round like another CPU (``REID_TEST_OTHER_ROUNDING=1``).
    """
    return np.matmul(left, right, out=out)


def pairwise_distance(query_features: Any, gallery_features: Any, metric: str = "euclidean") -> np.ndarray:
    """The full [q, g] float32 distance matrix (true values; for small sets, re-ranking and export)."""
    check_metric(metric)
    query = as_features(query_features, "query features")
    gallery = as_features(gallery_features, "gallery features")
    _check_dims(query, gallery)
    if metric == "cosine":
        out = float32_product(l2_normalise(query), l2_normalise(gallery).T)
        np.subtract(1.0, out, out=out)
        return out
    out = float32_product(query, gallery.T)
    out *= -2.0
    out += np.einsum("ij,ij->i", query, query)[:, None]
    out += np.einsum("ij,ij->i", gallery, gallery)[None, :]
    return out


class DistanceBlocks:
    """Distances of chosen query rows against the whole gallery, one block at a time.

    Args:
        query_features: [q, d] features (numpy or torch).
        gallery_features: [g, d] features.
        metric: ``euclidean`` or ``cosine``.
        exact: add the per-row constant too (true distances); ranking does not need it.

    ``block(rows)`` returns a [len(rows), g] float32 array that is reused by the next call of the
    same size (copy it to keep it).
    """

    def __init__(
        self, query_features: Any, gallery_features: Any, metric: str = "euclidean", *, exact: bool = False
    ):
        self.metric = check_metric(metric)
        self.query = as_features(query_features, "query features")
        self.gallery = as_features(gallery_features, "gallery features")
        _check_dims(self.query, self.gallery)
        check_finite(self.query, "query features")
        check_finite(self.gallery, "gallery features")
        self.exact = exact
        squared_norms = np.einsum("ij,ij->i", self.gallery, self.gallery)
        check_magnitude(squared_norms, "gallery features")
        check_magnitude(np.einsum("ij,ij->i", self.query, self.query), "query features")
        if metric == "cosine":
            # No normalised copy of the gallery (673 MB at MSMT17 scale): scale the columns instead.
            self.query = l2_normalise(self.query)
            self._column_scale = (-1.0 / np.maximum(np.sqrt(squared_norms), 1e-12)).astype(np.float32)[
                None, :
            ]
        else:
            self._column_term = squared_norms[None, :]
        self._buffer: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.query), len(self.gallery))

    def block(self, rows: np.ndarray | slice) -> np.ndarray:
        """Distances of query ``rows`` (an index array or a slice) to every gallery item."""
        q = self.query[rows]
        if self.metric == "euclidean":
            q = q * np.float32(-2.0)
        n = len(q)
        if self._buffer is None or self._buffer.shape[0] < n:
            self._buffer = np.empty((n, len(self.gallery)), dtype=np.float32)
        out = self._buffer[:n]
        float32_product(q, self.gallery.T, out=out)
        if self.metric == "cosine":
            out *= self._column_scale  # -cos
        else:
            out += self._column_term  # |g|^2 - 2 q.g
        if self.exact:
            if self.metric == "cosine":
                out += np.float32(1.0)
            else:
                out += np.einsum("ij,ij->i", self.query[rows], self.query[rows])[:, None]
        return out

    def blocks(
        self, order: np.ndarray, block_size: int = DEFAULT_BLOCK
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(rows, distances)`` for consecutive chunks of the query indices ``order``."""
        for start in range(0, len(order), block_size):
            rows = order[start : start + block_size]
            yield rows, self.block(rows)


class MatrixBlocks:
    """The same interface as :class:`DistanceBlocks` over a precomputed [q, g] distance matrix."""

    def __init__(self, distmat: Any):
        matrix = as_features(distmat, "distmat")
        check_finite(matrix, "distmat")
        self.distmat = matrix

    @property
    def shape(self) -> tuple[int, int]:
        return self.distmat.shape  # type: ignore[return-value]

    def block(self, rows: np.ndarray | slice) -> np.ndarray:
        """Rows of the matrix (a copy: callers may modify it)."""
        return np.array(self.distmat[rows], dtype=np.float32)

    def blocks(
        self, order: np.ndarray, block_size: int = DEFAULT_BLOCK
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(rows, distances)`` for consecutive chunks of the query indices ``order``."""
        for start in range(0, len(order), block_size):
            rows = order[start : start + block_size]
            yield rows, self.block(rows)

"""Ranking metrics (CMC, mAP, mINP) from where each query's good matches land in its ranked list.

Every metric is a function of the 0-based positions ``p_1 < ... < p_m`` of a query's ``m`` good
gallery items in its ranked list **after the junk items are removed**:

- CMC: the query counts as a hit at rank ``k`` (1-based) when ``p_1 < k``; the curve is averaged
  over the valid queries (those with ``m >= 1``); rank-k beyond the gallery length is the last value.
- AP, non-interpolated (torchreid, CAL/AIM, ICSR): ``AP = (1/m) sum_j j / (p_j + 1)``.
- AP, trapezoid (Market-1501's official code, used by camera-mixup):
  ``AP = (1/m) sum_j (prec_before_j + j / (p_j + 1)) / 2`` with ``prec_before_j = (j - 1) / p_j``
  (the precision one position earlier) and ``1`` when ``p_j = 0``.
- INP (AGW): ``m / (p_m + 1)``; mINP is its mean.

Ties: the ranked list is the **stable** ascending order of the distances (equal distances keep
the gallery order), in this module and in :mod:`reid_core.evaluation.fastrank`. The references
use ``np.argsort`` (quicksort), whose order of equal distances is unspecified, so they agree with
this up to exactly tied distances.

:func:`dense_positions` computes the positions from a block of distances and dense good/junk masks
with a stable argsort; :class:`RankAccumulator` sums the metrics over blocks without keeping the
distance matrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from reid_core.evaluation.base import EvaluationError

AP_MODES = ("non-interpolated", "trapezoid")
RANKS = (1, 5, 10, 20)


def check_ap_mode(mode: str) -> str:
    """``mode`` if it is a known AP definition, else an :class:`EvaluationError` listing them."""
    if mode not in AP_MODES:
        raise EvaluationError(f"unknown ap mode {mode!r}; valid: {', '.join(AP_MODES)}")
    return mode


@attrs.frozen
class Positions:
    """Good-match positions of some queries, flattened: entry ``i`` is the ``k[i]``-th (0-based) good
    match of block row ``row[i]``, at position ``pos[i]`` after junk removal. ``count[r]`` = m of row r.
    Entries are grouped by row and ordered by ``k`` within a row."""

    row: np.ndarray
    k: np.ndarray
    pos: np.ndarray
    count: np.ndarray


def positions_from_sorted_hits(rows: np.ndarray, pos: np.ndarray, n_rows: int) -> Positions:
    """:class:`Positions` from hits listed row by row with ascending ``pos`` within each row."""
    count = np.bincount(rows, minlength=n_rows)
    starts = np.cumsum(count) - count
    k = np.arange(len(rows)) - starts[rows]
    return Positions(rows, k, pos, count)


def dense_positions(
    distances: np.ndarray, good: np.ndarray, junk: np.ndarray
) -> tuple[Positions, np.ndarray]:
    """Positions of the good items of each row, by a stable argsort of each distance row.

    Args:
        distances: [b, g] distances (smaller = more similar).
        good: [b, g] bool, the true matches of each row.
        junk: [b, g] bool, the items removed from each row's ranking (junk wins over good).

    Returns:
        the :class:`Positions` and the [b, g] stable order (gallery indices by ascending distance).
    """
    order = np.argsort(distances, axis=1, kind="stable")
    keep = ~np.take_along_axis(junk, order, axis=1)
    hits = np.take_along_axis(good, order, axis=1) & keep
    after = np.cumsum(keep, axis=1) - 1
    rows, cols = np.nonzero(hits)
    return positions_from_sorted_hits(rows, after[rows, cols], len(distances)), order


def first_positions(positions: Positions) -> np.ndarray:
    """Position of the first good match of each row (rows without one are left out)."""
    return positions.pos[positions.k == 0]


def average_precision(positions: Positions, ap_mode: str = "non-interpolated") -> np.ndarray:
    """AP of every row (``0`` for a row without a good match), by the module docstring's formulas."""
    count = positions.count
    pos = positions.pos.astype(np.float64)
    k1 = positions.k.astype(np.float64) + 1.0  # j, 1-based
    precision = k1 / (pos + 1.0)
    if check_ap_mode(ap_mode) == "trapezoid":
        before = np.divide(k1 - 1.0, pos, out=np.ones_like(pos), where=pos > 0)
        terms = (before + precision) / 2.0
    else:
        terms = precision
    sums = np.bincount(positions.row, weights=terms, minlength=len(count))
    return np.divide(sums, count, out=np.zeros(len(count)), where=count > 0)


@attrs.define
class RankAccumulator:
    """Sums of the per-query metrics over blocks of queries: memory O(gallery), not O(q x g).

    Args:
        gallery_size: length of the CMC curve.
        ap_mode: ``non-interpolated`` (default) or ``trapezoid``.
    """

    gallery_size: int
    ap_mode: str = "non-interpolated"
    first_hist: np.ndarray = attrs.field(init=False)
    ap_sum: float = 0.0
    inp_sum: float = 0.0
    valid: int = 0
    skipped: int = 0

    def __attrs_post_init__(self) -> None:
        check_ap_mode(self.ap_mode)
        self.first_hist = np.zeros(max(self.gallery_size, 1), dtype=np.int64)

    def add(self, positions: Positions, first: np.ndarray | None = None) -> None:
        """Add the queries of one block; rows with no good match count as skipped.

        ``first`` overrides the CMC position of each valid row (SYSU's identity-deduplicated CMC).
        """
        count = positions.count
        valid_rows = count > 0
        n_valid = int(valid_rows.sum())
        self.skipped += int(len(count) - n_valid)
        if n_valid == 0:
            return
        ap = average_precision(positions, self.ap_mode)[valid_rows]
        last = positions.k == count[positions.row] - 1
        inp = count[positions.row[last]] / (positions.pos[last] + 1.0)
        if first is None:
            first = first_positions(positions)
        self.first_hist += np.bincount(
            np.minimum(first, len(self.first_hist) - 1), minlength=len(self.first_hist)
        )
        self.ap_sum += float(ap.sum())
        self.inp_sum += float(inp.sum())
        self.valid += n_valid

    def add_skipped(self, n: int) -> None:
        """Count ``n`` queries that have no good match (they were never ranked)."""
        self.skipped += int(n)

    def cmc(self) -> np.ndarray:
        """The full CMC curve (fractions, index k = rank k+1)."""
        if self.valid == 0:
            raise EvaluationError(self.no_valid_message())
        return np.cumsum(self.first_hist) / self.valid

    def no_valid_message(self) -> str:
        return (
            f"no query has a valid match in the gallery ({self.skipped} queries, all skipped): check that "
            "query and gallery share identities and that the protocol (junk rule, cameras, clothes) fits the data"
        )

    def summary(self, ranks: Sequence[int] = RANKS) -> dict[str, float]:
        """``rank<k>``, ``mAP``, ``mINP`` in percent, ``queries`` (valid) and ``skipped``."""
        curve = self.cmc()
        result: dict[str, float] = {}
        for r in ranks:
            result[f"rank{r}"] = 100.0 * float(curve[min(r, len(curve)) - 1])
        result["mAP"] = 100.0 * self.ap_sum / self.valid
        result["mINP"] = 100.0 * self.inp_sum / self.valid
        for name, value in result.items():
            if not -1e-9 <= value <= 100.0 + 1e-9:  # never report an impossible number (it means a bug or bad distances)
                raise EvaluationError(
                    f"{name} = {value:.4g} is outside [0, 100]: the distances were not valid numbers; "
                    "check that the features are finite and of a sane magnitude"
                )
        result["queries"] = self.valid
        result["skipped"] = self.skipped
        return result

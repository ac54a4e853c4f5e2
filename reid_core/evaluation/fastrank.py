"""Exact ranking without sorting the gallery, for protocols whose good and junk items share the query's pid.

For a query with good matches at distances ``t_1 <= ... <= t_m``, the position of the j-th good
match after junk removal is ``#{gallery d < t_j} - #{junk d < t_j} + (earlier goods tied with t_j)``.
So a query needs ``m`` counting passes over its distance row instead of a sort: with ~15 good
matches per query (Market-1501), that is a few times cheaper than ``np.argsort``, and nothing but
one block of distances is ever held.

Exactness: a second pass per good match counts ``d <= t_j``. Where a non-good, non-junk item
ties exactly with a good match (the only tie that changes a metric; float32 distances tie more
often than one would think), the tied items with a lower gallery index are counted from that row,
so the result equals the stable-sort ranking (:func:`reid_core.evaluation.ranking.dense_positions`)
in every case.

Rows are processed in order of decreasing ``m`` so that the j-th pass touches a prefix of the block.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np

from reid_core.evaluation.base import EvaluationError, SplitLabels
from reid_core.evaluation.distance import DEFAULT_BLOCK
from reid_core.evaluation.ranking import Positions, RankAccumulator, positions_from_sorted_hits
from reid_core.progress import Progress

#: ``rule(query, gallery, q_index, g_index) -> (good, junk)`` for same-pid pairs (bool arrays).
PairRule = Callable[[SplitLabels, SplitLabels, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
#: Rows per counting sub-block (keeps one sub-block of distances in cache).
SUB_BLOCK = 32


@attrs.frozen
class PairTable:
    """Good and junk gallery items of every query, as flat (query, gallery) index lists grouped by query."""

    good_g: np.ndarray
    good_start: np.ndarray
    good_count: np.ndarray
    junk_g: np.ndarray
    junk_start: np.ndarray
    junk_count: np.ndarray


def _grouped(q_idx: np.ndarray, g_idx: np.ndarray, n_query: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    count = np.bincount(q_idx, minlength=n_query)
    return g_idx, np.cumsum(count) - count, count


def build_pairs(query: SplitLabels, gallery: SplitLabels, rule: PairRule) -> PairTable:
    """Every (query, gallery) pair with the same pid, classified by ``rule`` into good / junk.

    Pairs are listed by query, then by gallery index. Only same-pid pairs can be good or junk.
    """
    g_order = np.argsort(gallery.pids, kind="stable")
    g_sorted = gallery.pids[g_order]
    lo = np.searchsorted(g_sorted, query.pids, side="left")
    hi = np.searchsorted(g_sorted, query.pids, side="right")
    count = hi - lo
    total = int(count.sum())
    q_idx = np.repeat(np.arange(len(query)), count)
    offset = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    g_idx = g_order[np.repeat(lo, count) + offset]
    good, junk = rule(query, gallery, q_idx, g_idx)
    good = np.asarray(good, dtype=bool) & ~np.asarray(junk, dtype=bool)
    junk = np.asarray(junk, dtype=bool)
    gg, gs, gc = _grouped(q_idx[good], g_idx[good], len(query))
    jg, js, jc = _grouped(q_idx[junk], g_idx[junk], len(query))
    return PairTable(gg, gs, gc, jg, js, jc)


def _padded(
    values: np.ndarray, start: np.ndarray, count: np.ndarray, rows: np.ndarray, dist: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """[b, M] arrays of the distances (sorted, +inf padded) and gallery indices of each row's items."""
    n = count[rows]
    width = int(n.max()) if len(n) else 0
    total = int(n.sum())
    row_pos = np.repeat(np.arange(len(rows)), n)
    offset = np.arange(total) - np.repeat(np.cumsum(n) - n, n)
    g = values[np.repeat(start[rows], n) + offset]
    d = dist[row_pos, g]
    order = np.lexsort((g, d, row_pos))  # by row, then distance, then gallery index (stable ties)
    padded_d = np.full((len(rows), max(width, 1)), np.inf, dtype=np.float32)
    padded_g = np.full((len(rows), max(width, 1)), -1, dtype=np.int64)
    padded_d[row_pos, offset] = d[order]
    padded_g[row_pos, offset] = g[order]
    return padded_d, padded_g, n


def _count_below(dist: np.ndarray, thresholds: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``#{d < t}`` and ``#{d <= t}`` per row and threshold (rows sorted by decreasing ``m``).

    One comparison into a reused bool buffer per (sub-block, threshold), then a per-row
    ``count_nonzero`` (much faster than ``count_nonzero(axis=1)``, which is a generic reduction).
    """
    b, width = thresholds.shape
    less = np.zeros((b, width), dtype=np.int64)
    less_equal = np.zeros((b, width), dtype=np.int64)
    buffer = np.empty((min(SUB_BLOCK, b), dist.shape[1]), dtype=bool)
    count = np.count_nonzero
    for start in range(0, b, SUB_BLOCK):
        m_sub = m[start : start + SUB_BLOCK]
        for j in range(int(m_sub[0]) if len(m_sub) else 0):
            n = int(np.count_nonzero(m_sub > j))  # rows are sorted by m: a prefix
            d = dist[start : start + n]
            t = thresholds[start : start + n, j, None]
            out = buffer[:n]
            np.less(d, t, out=out)
            less[start : start + n, j] = [count(row) for row in out]
            np.less_equal(d, t, out=out)
            less_equal[start : start + n, j] = [count(row) for row in out]
    return less, less_equal


def block_positions(dist: np.ndarray, rows: np.ndarray, pairs: PairTable) -> Positions:
    """Exact good-match positions for the queries ``rows`` (sorted by decreasing good count).

    Args:
        dist: [b, g] distances of those queries (exact up to a per-row constant).
        rows: their query indices.
        pairs: the protocol's good / junk pairs.
    """
    t, t_g, m = _padded(pairs.good_g, pairs.good_start, pairs.good_count, rows, dist)
    less, less_equal = _count_below(dist, t, m)
    j, _, mj = _padded(pairs.junk_g, pairs.junk_start, pairs.junk_count, rows, dist)
    junk_less = np.zeros_like(less)
    junk_equal = np.zeros_like(less)
    for c in range(int(mj.max()) if len(mj) and mj.max() > 0 else 0):
        junk_less += j[:, c, None] < t
        junk_equal += j[:, c, None] == t
    width = t.shape[1]
    k = np.arange(width)[None, :]
    # Goods tied with each other keep their (stable) order: j-th good = first of its group + offset.
    new_group = np.ones_like(t, dtype=bool)
    new_group[:, 1:] = t[:, 1:] != t[:, :-1]
    group_first = np.maximum.accumulate(np.where(new_group, k, 0), axis=1)
    equal_goods = np.zeros_like(less)
    for c in range(width):
        equal_goods += t[:, c, None] == t
    valid = k < m[:, None]
    negative_ties = ((less_equal - less) > (equal_goods + junk_equal)) & valid
    pos = less - junk_less + (k - group_first)
    tie_r, tie_k = np.nonzero(negative_ties)
    for r, c in zip(tie_r.tolist(), tie_k.tolist()):
        pos[r, c] = (
            less[r, c] - junk_less[r, c] + _tied_before(dist[r], t[r, c], int(t_g[r, c]), rows[r], pairs)
        )
    hit_rows, hit_k = np.nonzero(valid)
    return positions_from_sorted_hits(hit_rows, pos[hit_rows, hit_k], len(rows))


def _tied_before(row: np.ndarray, value: float, index: int, query: int, pairs: PairTable) -> int:
    """Non-junk items of ``row`` at exactly ``value`` with a gallery index below ``index`` (stable order)."""
    tied = np.flatnonzero(row == value)
    tied = tied[tied < index]
    junk = pairs.junk_g[pairs.junk_start[query] : pairs.junk_start[query] + pairs.junk_count[query]]
    return int(len(tied) - np.count_nonzero(np.isin(tied, junk)))


def rank_with_pairs(
    blocks: Any,
    pairs: PairTable,
    accumulator: RankAccumulator,
    *,
    block_size: int = DEFAULT_BLOCK,
) -> RankAccumulator:
    """Rank every query with a good match, block by block, into ``accumulator``.

    ``blocks`` is a :class:`~reid_core.evaluation.distance.DistanceBlocks` or ``MatrixBlocks``.
    Queries without a good match are counted as skipped and never ranked.
    """
    m = pairs.good_count
    order = np.argsort(-m, kind="stable")
    order = order[m[order] > 0]
    accumulator.add_skipped(len(m) - len(order))
    if len(order) == 0:
        raise EvaluationError(accumulator.no_valid_message())
    with Progress(len(order), desc="ranking", unit="query") as progress:
        for rows, dist in blocks.blocks(order, block_size):
            accumulator.add(block_positions(dist, rows, pairs))
            progress.update(len(rows))
    return accumulator

"""A straightforward per-query evaluation, written for obviousness, not speed.

It ranks each query's full distance row with a stable argsort, drops the junk items and reads the
metrics off the match vector, the way torchreid's ``eval_market1501`` and AGW's ``eval_sysu`` do.
The tests check the fast evaluators against it, and ``benchmarks/eval_speed.py`` times it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from reid_core.evaluation.base import EvaluationError

#: ``masks(i) -> (good, junk)``: [g] bool arrays for query ``i``.
MaskFunction = Callable[[int], tuple[np.ndarray, np.ndarray]]


def reference_evaluate(
    distance_row: Callable[[int], np.ndarray],
    n_query: int,
    masks: MaskFunction,
    *,
    ap_mode: str = "non-interpolated",
    gallery_pids: np.ndarray | None = None,
    dedup_cmc: bool = False,
    queries: list[int] | None = None,
) -> dict[str, float]:
    """Metrics in percent from per-query distance rows.

    Args:
        distance_row: ``distance_row(i)`` is the [g] distance row of query ``i``.
        n_query: number of queries.
        masks: good / junk masks of query ``i``.
        ap_mode: ``non-interpolated`` or ``trapezoid``.
        gallery_pids: needed for ``dedup_cmc``.
        dedup_cmc: SYSU-MM01's CMC over the identity-deduplicated ranked list.
        queries: evaluate only these query indices (for timing on a subset).
    """
    if dedup_cmc and gallery_pids is None:
        raise EvaluationError("dedup_cmc needs gallery_pids")
    cmc_sum: np.ndarray | None = None
    aps: list[float] = []
    inps: list[float] = []
    skipped = 0
    for i in range(n_query) if queries is None else queries:
        dist = distance_row(i)
        good, junk = masks(i)
        order = np.argsort(dist, kind="stable")
        keep = ~junk[order]
        matches = (good & ~junk)[order][keep]
        if not matches.any():
            skipped += 1
            continue
        if dedup_cmc:
            ranked_pids = gallery_pids[order][keep]
            _, first_index = np.unique(ranked_pids, return_index=True)
            dedup = ranked_pids[np.sort(first_index)]
            query_pid = ranked_pids[matches][0]
            cmc = np.cumsum(dedup == query_pid).clip(max=1)
        else:
            cmc = np.cumsum(matches).clip(max=1)
        cmc = np.pad(cmc, (0, len(dist) - len(cmc)), constant_values=1).astype(np.int64)
        cmc_sum = cmc if cmc_sum is None else cmc_sum + cmc
        hits = np.nonzero(matches)[0]
        j = np.arange(1, len(hits) + 1)
        precision = j / (hits + 1.0)
        if ap_mode == "trapezoid":
            before = np.array([(jj - 1) / h if h > 0 else 1.0 for jj, h in zip(j, hits)])
            aps.append(float(np.mean((before + precision) / 2.0)))
        else:
            aps.append(float(np.mean(precision)))
        inps.append(len(hits) / (hits[-1] + 1.0))
    if cmc_sum is None:
        raise EvaluationError(f"no query has a valid match in the gallery ({skipped} queries, all skipped)")
    curve = cmc_sum / len(aps)
    result = {f"rank{r}": 100.0 * float(curve[min(r, len(curve)) - 1]) for r in (1, 5, 10, 20)}
    result.update(
        mAP=100.0 * float(np.mean(aps)),
        mINP=100.0 * float(np.mean(inps)),
        queries=len(aps),
        skipped=skipped,
    )
    return result

"""Speed and memory of ``reid_core.evaluation`` on random features at Market-1501 or MSMT17 scale.

Prints: the time of the bare distance matrix product (the hardware floor), the time of the whole
``market`` evaluation from features, their ratio, the peak resident memory, and the ratio against
a straightforward per-query reference (torchreid-style: distances, then one stable argsort per
query), timed on a subset of queries and extrapolated.

Usage::

    .venv/bin/python benchmarks/eval_speed.py --scale market
    .venv/bin/python benchmarks/eval_speed.py --scale msmt --queries 2000 --reference-queries 100

Labels imitate the real sets: Market 750 test ids + 2,798 distractors (pid 0), 6 cameras;
MSMT17 3,060 ids, 15 cameras. Features are i.i.d. standard normal float32 (the worst case for
ranking work: good matches are spread over the whole list).
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

from reid_core.evaluation import SplitLabels
from reid_core.evaluation.distance import DEFAULT_BLOCK
from reid_core.evaluation.protocols import PairProtocol, market_rule
from reid_core.evaluation.reference import reference_evaluate

SCALES = {
    # name: (queries, gallery, ids, distractors, cameras)
    "market": (3368, 15913, 750, 2798, 6),
    "msmt": (11659, 82161, 3060, 0, 15),
}


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_labels(scale: str, rng: np.random.Generator) -> tuple[SplitLabels, SplitLabels]:
    """Query and gallery labels shaped like the real split (pid 0 = distractor)."""
    n_query, n_gallery, n_ids, n_distractors, n_cams = SCALES[scale]
    ids = np.arange(1, n_ids + 1)
    query_pids = ids[np.arange(n_query) % n_ids]
    gallery_pids = np.concatenate(
        [ids, rng.choice(ids, n_gallery - n_ids - n_distractors), np.zeros(n_distractors, int)]
    )
    query = SplitLabels(query_pids, rng.integers(0, n_cams, n_query))
    gallery = SplitLabels(gallery_pids, rng.integers(0, n_cams, n_gallery))
    return query, gallery


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="market")
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--queries", type=int, default=0, help="evaluate only the first N queries (0 = all)")
    parser.add_argument("--reference-queries", type=int, default=200, help="queries timed with the reference")
    parser.add_argument("--block-size", type=int, default=DEFAULT_BLOCK)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    query, gallery = make_labels(args.scale, rng)
    if args.queries:
        keep = np.arange(min(args.queries, len(query)))
        query = SplitLabels(query.pids[keep], query.camids[keep])
    qf = rng.standard_normal((len(query), args.dim), dtype=np.float32)
    gf = rng.standard_normal((len(gallery), args.dim), dtype=np.float32)
    full_product = args.scale == "market"
    print(
        f"scale={args.scale} queries={len(query)} gallery={len(gallery)} dim={args.dim} block={args.block_size}"
    )
    print(
        f"features in memory: {(qf.nbytes + gf.nbytes) / 2**20:.0f} MB; RSS before evaluation {peak_rss_mb():.0f} MB"
    )

    evaluator = PairProtocol("market", market_rule, block_size=args.block_size)
    tracemalloc.start()
    start = time.perf_counter()
    result = evaluator.evaluate(qf, gf, query, gallery)
    t_eval = time.perf_counter() - start
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_eval = peak_rss_mb()
    print(
        f"evaluation: {t_eval:.2f} s; peak RSS {rss_eval:.0f} MB; peak numpy allocations during it {traced_peak / 2**20:.0f} MB"
    )
    print("  result:", {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()})

    # The floor: the distance matrix product alone (whole matrix at Market scale, else the same blocks).
    start = time.perf_counter()
    if full_product:
        product = qf @ gf.T
        del product
        floor_label = f"matmul {len(qf)}x{args.dim} @ {args.dim}x{len(gf)} (one call)"
    else:
        buffer = np.empty((args.block_size, len(gf)), dtype=np.float32)
        for s in range(0, len(qf), args.block_size):
            block = qf[s : s + args.block_size]
            np.matmul(block, gf.T, out=buffer[: len(block)])
        floor_label = f"matmul in blocks of {args.block_size} queries (the full matrix does not fit)"
    t_matmul = time.perf_counter() - start
    print(f"{floor_label}: {t_matmul:.2f} s")
    print(f"ratio evaluation / matmul: {t_eval / t_matmul:.2f}")

    # Straightforward per-query reference, on a subset, extrapolated to every query.
    n_ref = min(args.reference_queries, len(query))
    sub = np.arange(n_ref)
    start = time.perf_counter()
    gn = np.einsum("ij,ij->i", gf, gf)
    qn = np.einsum("ij,ij->i", qf[sub], qf[sub])
    dist = qn[:, None] + gn[None, :] - 2.0 * (qf[sub] @ gf.T)
    qp, qc, gp, gc = query.pids, query.camids, gallery.pids, gallery.camids

    def masks(i: int) -> tuple[np.ndarray, np.ndarray]:
        same = gp == qp[i]
        junk = same & (gc == qc[i])
        return same & ~junk, junk

    reference = reference_evaluate(lambda i: dist[i], n_ref, masks)
    t_ref = (time.perf_counter() - start) * len(query) / n_ref
    ours = evaluator.evaluate(qf[sub], gf, SplitLabels(qp[sub], qc[sub]), gallery)
    diff = max(abs(reference[k] - ours[k]) for k in ("rank1", "rank5", "rank10", "rank20", "mAP", "mINP"))
    print(
        f"reference per-query implementation: {t_ref:.2f} s (extrapolated from {n_ref} of {len(query)} queries); "
        f"speed-up {t_ref / t_eval:.1f}x; metrics on those {n_ref} queries differ by at most {diff:.2e} points"
    )


if __name__ == "__main__":
    main()

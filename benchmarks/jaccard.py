"""Benchmark: sparse k-reciprocal Jaccard distance vs a straightforward dense implementation.

Usage (from the repository root)::

    .venv/bin/python benchmarks/jaccard.py                 # Market-1501 train scale: 12,936 x 2,048
    .venv/bin/python benchmarks/jaccard.py --n 3000        # smaller

Both implementations run on the same features, each in its own subprocess so that their peak
resident memory (``ru_maxrss``) does not mix; the parent checks that the two N x N matrices agree
to 1e-5 and prints time, peak memory and the ratios. The features are clustered (like re-ID
embeddings: ``--ids`` identities) and rounded to a 2^-10 grid, so every dot product is exact in
float32 and both implementations rank neighbours identically whatever their BLAS blocking.
Exit status 1 if the results differ.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_features(n: int, dim: int, ids: int, seed: int) -> np.ndarray:
    """Unit-norm clustered features rounded to multiples of 2^-10 (exact float32 dot products)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(ids, dim)).astype(np.float32)
    x = centres[rng.integers(0, ids, size=n)] + 0.6 * rng.normal(size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return (np.round(x * 1024) / 1024).astype(np.float32)


def dense_jaccard(features: np.ndarray, k1: int, k2: int, phases: dict[str, float] | None = None) -> np.ndarray:
    """The algorithm as the reference code writes it: dense N x N V, V_qe and output, Python loops.

    ``phases`` (if given) receives the seconds spent in the kNN step.
    """
    import torch

    started = time.perf_counter()

    x = torch.from_numpy(features)
    n = len(features)
    sq = (x * x).sum(1)
    dist = torch.addmm(sq[:, None] + sq[None, :], x, x.t(), beta=1, alpha=-2).numpy()
    rank = np.empty((n, k1), dtype=np.int64)
    for start in range(0, n, 1024):
        rank[start : start + 1024] = np.argsort(dist[start : start + 1024], axis=1, kind="stable")[:, :k1]
    del dist
    if phases is not None:
        phases["knn"] = time.perf_counter() - started
    half = int(np.around(k1 / 2)) + 1

    def reciprocal(i: int, width: int) -> np.ndarray:
        forward = rank[i, :width]
        return forward[np.where(rank[forward, :width] == i)[0]]

    full_sets = [reciprocal(i, k1) for i in range(n)]
    half_sets = [reciprocal(i, half) for i in range(n)]
    v = np.zeros((n, n), dtype=np.float32)
    for i in range(n):
        members = full_sets[i]
        expanded = members
        for candidate in members:
            candidate_set = half_sets[candidate]
            if len(np.intersect1d(candidate_set, members)) > 2 / 3 * len(candidate_set):
                expanded = np.append(expanded, candidate_set)
        expanded = np.unique(expanded)
        logits = -(2 - 2 * (features[expanded] @ features[i]))  # softmax of -(2 - 2 x_i.x_j)
        weights = np.exp(logits - logits.max())
        v[i, expanded] = weights / weights.sum()
    if k2 != 1:
        v_qe = np.zeros_like(v)
        for i in range(n):
            v_qe[i] = np.mean(v[rank[i, :k2]], axis=0)
        v = v_qe
        del v_qe
    inverse = [np.where(v[:, j] != 0)[0] for j in range(n)]
    out = np.zeros((n, n), dtype=np.float32)
    for i in range(n):
        mass = np.zeros(n, dtype=np.float32)
        nonzero = np.where(v[i] != 0)[0]
        for k in nonzero:
            rows = inverse[k]
            mass[rows] += np.minimum(v[i, k], v[rows, k])
        out[i] = 1 - mass / (2 - mass)
    out[out < 0] = 0
    return out


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def worker(kind: str, features_path: str, out_path: str, k1: int, k2: int) -> None:
    """Run one implementation; print a JSON line with seconds, memory (KiB) and the kNN seconds."""
    import torch

    from reid_core.neighbors import jaccard_distance, jaccard_distance_sparse
    from reid_core.neighbors.nearest import knn

    torch.set_grad_enabled(False)
    features = np.load(features_path)
    baseline = _rss_kib()
    phases: dict[str, float] = {}
    started = time.perf_counter()
    if kind == "sparse":
        out = jaccard_distance(features, k1, k2)
    elif kind == "sparse-output":
        out = jaccard_distance_sparse(features, k1, k2)
    else:
        out = dense_jaccard(features, k1, k2, phases)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if kind == "sparse-output":
        np.savez(out_path, indptr=out.indptr, indices=out.indices, data=out.data)
    else:
        np.save(out_path, out)
    if "knn" not in phases:  # time the sparse kNN step alone, after the measured run
        knn_started = time.perf_counter()
        knn(features, k1)
        phases["knn"] = time.perf_counter() - knn_started
    print(json.dumps({"kind": kind, "seconds": seconds, "peak_kib": peak, "baseline_kib": baseline, **phases}))


def _run(kind: str, features: Path, out: Path, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, "--features", str(features), "--out", str(out),
           "--k1", str(args.k1), "--k2", str(args.k2)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _compare(outputs: dict[str, Path], results: dict[str, dict], n: int) -> int:
    """Check both sparse outputs against the dense reference; print the ratios."""
    from reid_core.neighbors import SparseRows

    dense = np.load(outputs["dense"], mmap_mode="r")
    sparse = np.load(outputs["sparse"], mmap_mode="r")
    with np.load(outputs["sparse-output"]) as z:
        rows = SparseRows(z["indptr"], z["indices"], z["data"], n)
    diff = diff_rows = 0.0
    for start in range(0, n, 1024):
        stop = min(n, start + 1024)
        diff = max(diff, float(np.abs(sparse[start:stop] - dense[start:stop]).max()))
        block = rows.slice_rows(start, stop)
        rebuilt = np.ones((stop - start, n), dtype=np.float32)
        rebuilt[block.row_ids(), block.indices] = block.data
        diff_rows = max(diff_rows, float(np.abs(rebuilt - dense[start:stop]).max()))
    ok = diff <= 1e-5 and diff_rows <= 1e-5
    print(f"max |sparse - dense| = {diff:.2e}, sparse-output: {diff_rows:.2e} "
          f"({'OK' if ok else 'MISMATCH'}, tolerance 1e-5); sparse output keeps {rows.nnz / n:.0f} entries per row")
    d = results["dense"]
    for kind in ("sparse", "sparse-output"):
        r = results[kind]
        print(f"dense / {kind}: time x{d['seconds'] / r['seconds']:.1f} "
              f"(without kNN x{(d['seconds'] - d['knn']) / max(1e-9, r['seconds'] - r['knn']):.1f}), "
              f"peak RSS x{d['peak_kib'] / r['peak_kib']:.1f}, memory above start "
              f"x{(d['peak_kib'] - d['baseline_kib']) / max(1, r['peak_kib'] - r['baseline_kib']):.1f}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=12936, help="number of features (Market-1501 train: 12,936)")
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--ids", type=int, default=None,
                        help="identities the features cluster around (default: Market's 751 per 12,936, scaled to --n)")
    parser.add_argument("--k1", type=int, default=30)
    parser.add_argument("--k2", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-dense", action="store_true", help="time only the sparse implementation")
    parser.add_argument("--worker", choices=["sparse", "sparse-output", "dense"], help=argparse.SUPPRESS)
    parser.add_argument("--features", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ids is None:
        args.ids = max(1, round(args.n * 751 / 12936))
    if args.worker:
        worker(args.worker, args.features, args.out, args.k1, args.k2)
        return 0

    with tempfile.TemporaryDirectory(prefix="reid-jaccard-") as tmp:
        features_path = Path(tmp) / "features.npy"
        np.save(features_path, make_features(args.n, args.dim, args.ids, args.seed))
        print(f"Jaccard distance, N={args.n}, dim={args.dim}, {args.ids} identities, k1={args.k1}, k2={args.k2}, "
              f"torch threads={os.environ.get('OMP_NUM_THREADS', 'default')}")
        outputs = {"sparse": Path(tmp) / "sparse.npy", "sparse-output": Path(tmp) / "sparse-output.npz"}
        if not args.skip_dense:
            outputs["dense"] = Path(tmp) / "dense.npy"
        results = {kind: _run(kind, features_path, path, args) for kind, path in outputs.items()}
        print(f"{'implementation':<26}{'time (s)':>10}{'of which kNN':>14}{'peak RSS (MiB)':>16}{'above start (MiB)':>19}")
        labels = {"sparse": "sparse (dense N x N out)", "sparse-output": "sparse (sparse out)",
                  "dense": "dense reference"}
        for kind, r in results.items():
            print(f"{labels[kind]:<26}{r['seconds']:>10.1f}{r['knn']:>14.1f}{r['peak_kib'] / 1024:>16.0f}"
                  f"{(r['peak_kib'] - r['baseline_kib']) / 1024:>19.0f}")
        if args.skip_dense:
            return 0
        return _compare(outputs, results, args.n)


if __name__ == "__main__":
    sys.exit(main())

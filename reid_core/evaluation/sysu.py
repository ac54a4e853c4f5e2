"""SYSU-MM01 cross-modality evaluation: infrared queries against visible galleries drawn per trial.

Camera ids are 0-based in :class:`SplitLabels` (camid = SYSU camera - 1): visible cameras 1, 2, 4, 5
are camids 0, 1, 3, 4; infrared cameras 3, 6 are camids 2, 5.

Per trial ``t`` (``trials``, default 10):

1. The gallery pool (the ``gallery`` split) is restricted to the mode's visible cameras: all-search
   cameras 1, 2, 4, 5 (camids 0, 1, 3, 4), indoor-search cameras 1, 2 (camids 0, 1).
2. One image per (pid, camera) is drawn (``shots=1``, single-shot; ``shots=10`` is the official
   multi-shot). The draw uses Python's ``random.Random(seed_base + seed_step * t)``, walking the
   groups by ascending pid, then camera, with each group's images in pool order, and calling
   ``rng.choice(group)`` (single-shot) or ``rng.sample(group, min(shots, len(group)))`` (multi-shot).
   With the defaults (``seed_base=0``, ``seed_step=1``) and a pool sorted by (pid, camera, file
   name), as the ``sysumm01`` parser builds it, the single-shot galleries are AGW's
   ``random.seed(trial)`` galleries. The IV-ReID seed code used ``seed_base=2019, seed_step=33``.
3. For a query from camera 3 (camid 2), every gallery image from camera 2 (camid 1) is removed,
   whatever its pid (same location). Nothing else is removed.
4. CMC over the identity-deduplicated ranked list (the first occurrence of each pid is kept);
   mAP and mINP over the image-level list. Queries without a match are skipped.

The result is the mean over trials of each metric; ``queries`` and ``skipped`` are those of one
trial (the same in every trial) and ``trials`` the number of trials.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from reid_core.evaluation.base import EvaluationError, SplitLabels
from reid_core.evaluation.distance import DEFAULT_BLOCK, DistanceBlocks, MatrixBlocks, check_metric
from reid_core.evaluation.options import bool_option, check_inputs, check_options, choice_option, int_option
from reid_core.evaluation.protocols import COMMON_OPTIONS, rerank_distances
from reid_core.evaluation.ranking import AP_MODES, RankAccumulator, dense_positions

SEARCH_CAMIDS = {"all": (0, 1, 3, 4), "indoor": (0, 1)}
#: (query camid, gallery camid) pairs removed whatever the pid: camera 3 and camera 2 share a room.
REMOVED_CAMERA_PAIRS = ((2, 1),)
SYSU_OPTIONS = {
    **COMMON_OPTIONS,
    "trials": "number of random galleries averaged (default 10)",
    "shots": "images per (pid, camera) in a gallery: 1 single-shot (default), 10 multi-shot",
    "seed_base": "trial t draws with random.Random(seed_base + seed_step * t) (default 0: AGW)",
    "seed_step": "see seed_base (default 1)",
}


def draw_gallery(gallery: SplitLabels, mode: str, shots: int, seed: int) -> np.ndarray:
    """Indices into ``gallery`` of one trial's gallery (ascending), drawn as the module docstring says."""
    cams = SEARCH_CAMIDS[mode]
    pool = np.nonzero(np.isin(gallery.camids, cams))[0]
    if gallery.modality is not None:
        pool = pool[gallery.modality[pool] == 0]
    if len(pool) == 0:
        raise EvaluationError(
            f"sysu-{mode}: the gallery has no visible image from cameras {[c + 1 for c in cams]} "
            f"(camids {list(cams)}; camids are SYSU camera - 1)"
        )
    order = pool[np.lexsort((pool, gallery.camids[pool], gallery.pids[pool]))]
    keys = np.stack([gallery.pids[order], gallery.camids[order]], axis=1)
    boundaries = np.nonzero(np.any(keys[1:] != keys[:-1], axis=1))[0] + 1
    rng = random.Random(seed)
    chosen: list[int] = []
    for group in np.split(order, boundaries):
        members = [int(i) for i in group]
        if shots == 1:
            chosen.append(rng.choice(members))
        else:
            chosen.extend(rng.sample(members, min(shots, len(members))))
    return np.sort(np.asarray(chosen, dtype=np.int64))


def dedup_first_positions(
    order: np.ndarray, keep_sorted: np.ndarray, hits_sorted: np.ndarray, pid_index: np.ndarray
) -> np.ndarray:
    """Per row with a hit: the number of distinct pids ranked before its first hit (junk removed).

    Args:
        order: [b, g] gallery indices by ascending distance.
        keep_sorted: [b, g] not-junk flags in that order.
        hits_sorted: [b, g] good-and-kept flags in that order.
        pid_index: [g] gallery pids as dense integers 0..P-1.
    """
    n_pids = int(pid_index.max()) + 1
    rows, cols = np.nonzero(keep_sorted)
    key = rows * n_pids + pid_index[order[rows, cols]]
    _, first_index = np.unique(key, return_index=True)
    first_occurrence = np.zeros(len(key), dtype=np.int64)
    first_occurrence[first_index] = 1
    seen = np.cumsum(first_occurrence)
    row_count = np.bincount(rows, minlength=len(order))
    row_start = np.cumsum(row_count) - row_count
    seen_before_row = np.where(row_start > 0, seen[np.maximum(row_start - 1, 0)], 0)
    is_hit = hits_sorted[rows, cols]
    hit_entries = np.nonzero(is_hit)[0]
    hit_rows = rows[hit_entries]
    _, first_hit = np.unique(hit_rows, return_index=True)  # the first hit of each row, rows ascending
    entries = hit_entries[first_hit]
    return seen[entries] - seen_before_row[rows[entries]] - 1


class SYSUProtocol:
    """The ``sysu-all`` / ``sysu-indoor`` evaluator (see the module docstring for the exact rule)."""

    def __init__(
        self,
        mode: str,
        *,
        trials: int = 10,
        shots: int = 1,
        seed_base: int = 0,
        seed_step: int = 1,
        ap: str = "non-interpolated",
        block_size: int = DEFAULT_BLOCK,
        cmc_curve: bool = False,
    ) -> None:
        if mode not in SEARCH_CAMIDS:
            raise EvaluationError(f"unknown SYSU mode {mode!r}; valid: {', '.join(SEARCH_CAMIDS)}")
        self.mode = mode
        self.name = f"sysu-{mode}"
        self.trials = trials
        self.shots = shots
        self.seed_base = seed_base
        self.seed_step = seed_step
        self.ap = ap
        self.block_size = block_size
        self.cmc_curve = cmc_curve

    def trial_seeds(self) -> list[int]:
        """The seed of each trial's gallery draw."""
        return [self.seed_base + self.seed_step * t for t in range(self.trials)]

    def evaluate(
        self,
        query_features: Any,
        gallery_features: Any,
        query: SplitLabels,
        gallery: SplitLabels,
        *,
        metric: str = "euclidean",
        rerank: bool = False,
    ) -> dict[str, float]:
        """Mean over trials of rank-1/5/10/20 (deduplicated CMC), mAP and mINP, in percent."""
        check_metric(metric)
        blocks = DistanceBlocks(query_features, gallery_features, metric)
        check_inputs(self.name, blocks.shape[0], blocks.shape[1], query, gallery)
        results = []
        for seed in self.trial_seeds():
            chosen = draw_gallery(gallery, self.mode, self.shots, seed)
            if rerank:
                trial_blocks: Any = MatrixBlocks(
                    rerank_distances(blocks.query, blocks.gallery[chosen], metric)
                )
            else:
                trial_blocks = DistanceBlocks(blocks.query, blocks.gallery[chosen], metric)
            results.append(self._rank_trial(trial_blocks, query, _subset(gallery, chosen)))
        return _mean(results, self.cmc_curve)

    def evaluate_distance(self, distmat: Any, query: SplitLabels, gallery: SplitLabels) -> dict[str, float]:
        """The same protocol from a precomputed [q, g] distance matrix over the whole gallery pool."""
        blocks = MatrixBlocks(distmat)
        check_inputs(self.name, blocks.shape[0], blocks.shape[1], query, gallery)
        results = []
        for seed in self.trial_seeds():
            chosen = draw_gallery(gallery, self.mode, self.shots, seed)
            trial_blocks = MatrixBlocks(blocks.distmat[:, chosen])
            results.append(self._rank_trial(trial_blocks, query, _subset(gallery, chosen)))
        return _mean(results, self.cmc_curve)

    def _rank_trial(self, blocks: Any, query: SplitLabels, gallery: SplitLabels) -> dict[str, Any]:
        accumulator = RankAccumulator(len(gallery), self.ap)
        _, pid_index = np.unique(gallery.pids, return_inverse=True)
        for rows, dist in blocks.blocks(np.arange(len(query)), self.block_size):
            good = query.pids[rows, None] == gallery.pids[None, :]
            junk = np.zeros_like(good)
            for q_cam, g_cam in REMOVED_CAMERA_PAIRS:
                junk |= (query.camids[rows] == q_cam)[:, None] & (gallery.camids == g_cam)[None, :]
            positions, order = dense_positions(dist, good, junk)
            keep_sorted = ~np.take_along_axis(junk, order, axis=1)
            hits_sorted = np.take_along_axis(good, order, axis=1) & keep_sorted
            first = (
                dedup_first_positions(order, keep_sorted, hits_sorted, pid_index)
                if len(positions.pos)
                else None
            )
            accumulator.add(positions, first)
        result: dict[str, Any] = dict(accumulator.summary())
        result["cmc"] = 100.0 * accumulator.cmc()
        return result


def _subset(labels: SplitLabels, index: np.ndarray) -> SplitLabels:
    clothes = None if labels.clothes is None else labels.clothes[index]
    modality = None if labels.modality is None else labels.modality[index]
    return SplitLabels(labels.pids[index], labels.camids[index], clothes, modality)


def _mean(results: list[dict[str, Any]], cmc_curve: bool = False) -> dict[str, Any]:
    metrics = ("rank1", "rank5", "rank10", "rank20", "mAP", "mINP")
    out: dict[str, Any] = {m: float(np.mean([r[m] for r in results])) for m in metrics}
    out["queries"] = int(results[0]["queries"])
    out["skipped"] = int(results[0]["skipped"])
    out["trials"] = len(results)
    if cmc_curve:  # galleries may differ in length (multi-shot): pad each curve with its last value
        length = max(len(r["cmc"]) for r in results)
        curves = [np.pad(r["cmc"], (0, length - len(r["cmc"])), mode="edge") for r in results]
        out["cmc"] = np.mean(curves, axis=0).tolist()
    return out


def sysu_factory(mode: str) -> Any:
    """The registry factory of ``sysu-<mode>``."""
    name = f"sysu-{mode}"

    def factory(**options: Any) -> SYSUProtocol:
        check_options(name, options, SYSU_OPTIONS)
        return SYSUProtocol(
            mode,
            trials=int_option(name, options, "trials", 10, 1),
            shots=int_option(name, options, "shots", 1, 1),
            seed_base=int_option(name, options, "seed_base", 0, -(2**62)),
            seed_step=int_option(name, options, "seed_step", 1, -(2**62)),
            ap=choice_option(name, options, "ap", AP_MODES, "non-interpolated"),
            block_size=int_option(name, options, "block_size", DEFAULT_BLOCK, 1),
            cmc_curve=bool_option(name, options, "cmc_curve", False),
        )

    factory.__doc__ = f"Create the {name!r} evaluator."
    return factory

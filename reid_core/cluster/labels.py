"""Pseudo-label helpers: relabelling survivors, centroids, and pairwise precision/recall.

Label ``-1`` marks a sample left out of training (an outlier or a sample removed by a
refinement step) everywhere in this module.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["cluster_centroids", "num_clusters", "pairwise_precision_recall", "relabel"]


def relabel(labels: Sequence[int] | np.ndarray) -> np.ndarray:
    """Map the surviving labels (>= 0) to ``0..K-1`` in sorted order of the old labels; -1 stays -1.

    Clustering plus removal leaves gaps (a cluster whose members were all removed); a memory
    with one row per label needs contiguous labels, hence this step.
    """
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(labels.shape, -1, dtype=np.int64)
    keep = labels >= 0
    if keep.any():
        _, out[keep] = np.unique(labels[keep], return_inverse=True)
    return out


def num_clusters(labels: Sequence[int] | np.ndarray) -> int:
    """The number of distinct labels other than -1."""
    labels = np.asarray(labels)
    return int(np.unique(labels[labels >= 0]).size)


def cluster_centroids(features: torch.Tensor, labels: Sequence[int] | np.ndarray) -> torch.Tensor:
    """``K x D`` L2-normalised mean feature of each label ``0..K-1`` (labels must be contiguous).

    Samples labelled -1 are ignored. Raises ``ValueError`` if a label in ``0..K-1`` is empty,
    which means the labels were not relabelled with :func:`relabel`.
    """
    labels_t = torch.as_tensor(np.asarray(labels, dtype=np.int64), device=features.device)
    if labels_t.numel() != features.shape[0]:
        raise ValueError(f"cluster_centroids: {features.shape[0]} features but {labels_t.numel()} labels")
    keep = labels_t >= 0
    if not bool(keep.any()):
        raise ValueError("cluster_centroids: every sample is labelled -1; there is no cluster")
    k = int(labels_t[keep].max()) + 1
    feats = features[keep].float()
    sums = torch.zeros(k, feats.shape[1], dtype=feats.dtype, device=feats.device)
    sums.index_add_(0, labels_t[keep], feats)
    counts = torch.bincount(labels_t[keep], minlength=k)
    if bool((counts == 0).any()):
        missing = int((counts == 0).nonzero()[0])
        raise ValueError(f"cluster_centroids: label {missing} has no member; relabel survivors to 0..K-1 first")
    return F.normalize(sums / counts[:, None].to(sums.dtype), dim=1)


def pairwise_precision_recall(
    pred: Sequence[int] | np.ndarray, truth: Sequence[int] | np.ndarray, *, ignore_outliers: bool = True
) -> dict[str, float]:
    """Pairwise precision, recall and F-score of a pseudo labelling against ground-truth ids.

    A pair (i < j) is predicted positive when both share a predicted label, and true when both
    share a ground-truth id. Predicted -1 never forms a pair. With ``ignore_outliers`` the true
    pairs are counted over the samples with a predicted label only (cluster-contrast's
    convention); otherwise over all samples, so removing samples lowers recall. Also returns
    ``coverage`` (fraction of samples with a label) and ``clusters``.
    """
    pred = np.asarray(pred, dtype=np.int64)
    truth = np.asarray(truth, dtype=np.int64)
    if pred.shape != truth.shape:
        raise ValueError(f"pairwise_precision_recall: {pred.shape[0]} predictions but {truth.shape[0]} ids")

    def pairs(counts: np.ndarray) -> int:
        counts = counts.astype(np.int64)
        return int((counts * (counts - 1) // 2).sum())

    kept = pred >= 0
    _, joint = np.unique(np.stack([pred[kept], truth[kept]], axis=1), axis=0, return_counts=True) \
        if kept.any() else (None, np.zeros(0, dtype=np.int64))
    tp = pairs(joint)
    predicted = pairs(np.unique(pred[kept], return_counts=True)[1]) if kept.any() else 0
    true_pool = truth[kept] if ignore_outliers else truth
    true = pairs(np.unique(true_pool, return_counts=True)[1]) if true_pool.size else 0
    precision = tp / predicted if predicted else 0.0
    recall = tp / true if true else 0.0
    f_score = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": float(precision),
        "recall": float(recall),
        "f_score": float(f_score),
        "coverage": float(kept.mean()) if pred.size else 0.0,
        "clusters": num_clusters(pred),
    }

"""Pseudo-label helpers: relabelling, centroids and pairwise precision/recall (icsr.md §13.6)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from reid_core.cluster import (
    ClusterMemory,
    cluster_centroids,
    num_clusters,
    pairwise_precision_recall,
    relabel,
)


def test_relabel_gives_contiguous_labels_and_keeps_outliers() -> None:
    labels = np.array([7, -1, 3, 7, 12, 3, -1])
    out = relabel(labels)
    assert out.tolist() == [1, -1, 0, 1, 2, 0, -1]
    assert sorted(set(out[out >= 0].tolist())) == list(range(num_clusters(labels)))
    assert relabel([-1, -1]).tolist() == [-1, -1]


def test_relabel_preserves_the_partition() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(-1, 30, size=200)
    out = relabel(labels)
    for a in range(200):
        for b in range(0, 200, 17):
            if labels[a] >= 0 and labels[b] >= 0:
                assert (labels[a] == labels[b]) == (out[a] == out[b])


def test_centroids_are_unit_norm_means_and_fill_the_memory() -> None:
    gen = torch.Generator().manual_seed(0)
    feats = F.normalize(torch.randn(10, 6, generator=gen), dim=1)
    labels = relabel([5, 5, -1, 9, 9, 9, 2, -1, 2, 5])
    cents = cluster_centroids(feats, labels)
    k = num_clusters(labels)
    assert cents.shape == (k, 6)
    memory = ClusterMemory(6, k)
    memory.init_from(cents)
    for row in range(k):
        expected = F.normalize(feats[torch.as_tensor(labels == row)].mean(0), dim=0)
        assert torch.allclose(memory.features[row], expected, atol=1e-6)
        assert abs(float(memory.features[row].norm()) - 1) < 1e-6


def test_centroids_reject_gaps() -> None:
    with pytest.raises(ValueError, match="relabel"):
        cluster_centroids(torch.randn(3, 2), [0, 2, 2])


def test_pairwise_precision_recall_on_a_hand_example() -> None:
    truth = [0, 0, 0, 1, 1]
    perfect = pairwise_precision_recall([4, 4, 4, 2, 2], truth)
    assert perfect["precision"] == 1.0 and perfect["recall"] == 1.0
    merged = pairwise_precision_recall([0, 0, 0, 0, 0], truth)
    assert merged["precision"] == pytest.approx(4 / 10) and merged["recall"] == 1.0
    split = pairwise_precision_recall([0, 0, 1, 2, 3], truth)
    assert split["precision"] == 1.0 and split["recall"] == pytest.approx(1 / 4)
    removed = pairwise_precision_recall([0, 0, -1, 1, 1], truth)
    assert removed["precision"] == 1.0 and removed["recall"] == 1.0 and removed["coverage"] == 0.8
    strict = pairwise_precision_recall([0, 0, -1, 1, 1], truth, ignore_outliers=False)
    assert strict["recall"] == pytest.approx(2 / 4)

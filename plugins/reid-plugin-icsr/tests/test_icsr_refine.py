"""Refinement with intra-camera partitions: invariants a-h of icsr.md §13.5 (sequential node order, as the
released code), and the simultaneous option, on hand cases and random ones."""

from __future__ import annotations

import numpy as np
import pytest
from reid_plugin_icsr.refine import refine_labels


def _random_case(seed: int) -> tuple[np.ndarray, np.ndarray, list[int], np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 80))
    labels = rng.integers(0, max(1, n // 4), size=n)
    cams = rng.integers(0, int(rng.integers(1, 5)), size=n)
    local = rng.integers(0, max(1, n // 6), size=n)
    nodes = sorted(set(rng.choice(n, size=int(rng.integers(0, max(1, n // 5) + 1)), replace=False).tolist()))
    return labels, cams, nodes, local


CASES = [_random_case(seed) for seed in range(150)]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_random_invariants(case: int) -> None:
    labels, cams, nodes, local = CASES[case]
    copies = labels.copy(), cams.copy(), list(nodes), local.copy()
    out, removed = refine_labels(labels, cams, nodes, local)
    changed = out != labels
    node_cams = {(int(labels[v]), int(cams[v])) for v in nodes}
    # a. only samples sharing a cluster and camera with an information node lose their labels
    for i in np.nonzero(changed)[0]:
        assert (int(labels[i]), int(cams[i])) in node_cams
        assert out[i] == -1
    # b. members from cameras without an information node in their cluster are unchanged
    for i in range(len(labels)):
        if (int(labels[i]), int(cams[i])) not in node_cams:
            assert out[i] == labels[i]
    # c. the first camera-c node of g (in order) survives, and every surviving camera-c member of g
    #    shares its local cluster; no cluster that holds an information node vanishes
    first: dict[tuple[int, int], int] = {}
    for v in nodes:
        first.setdefault((int(labels[v]), int(cams[v])), v)
    for (g, c), v in first.items():
        assert out[v] == g
        same = (labels == g) & (cams == c) & (out >= 0)
        assert np.all(local[same] == local[v])
    # g. pure: inputs untouched, same output on repeat
    for a, b in zip((labels, cams, nodes, local), copies):
        assert np.array_equal(np.asarray(a), np.asarray(b))
    again, _ = refine_labels(labels, cams, nodes, local)
    assert np.array_equal(out, again)
    # h. the removal count equals the number of new -1s
    assert removed == int(((out == -1) & (labels != -1)).sum())
    # the simultaneous rule ignores the order and removes a superset of the sequential one
    both, removed_both = refine_labels(labels, cams, nodes, local, order="simultaneous")
    reverse, _ = refine_labels(labels, cams, list(reversed(nodes)), local, order="simultaneous")
    assert np.array_equal(both, reverse)
    assert np.all(both[out == -1] == -1) and removed_both >= removed


def test_sequential_removes_less_than_simultaneous_on_random_inputs() -> None:
    seq = sum(refine_labels(*case)[1] for case in CASES)
    sim = sum(refine_labels(*case, order="simultaneous")[1] for case in CASES)
    assert seq < sim


def test_d_local_equal_to_global_restriction_removes_nothing() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, size=60)
    cams = rng.integers(0, 4, size=60)
    local = labels * 10 + cams  # local cluster = global cluster within each camera
    out, removed = refine_labels(labels, cams, range(60), local)
    assert removed == 0 and np.array_equal(out, labels)


def test_e_singleton_local_partition_keeps_only_the_nodes_in_their_camera() -> None:
    labels = np.array([0, 0, 0, 0, 1, 1, 1])
    cams = np.array([0, 0, 0, 1, 0, 0, 1])
    local = np.arange(7)
    out, removed = refine_labels(labels, cams, [1, 5], local)
    assert out.tolist() == [-1, 0, -1, 0, -1, 1, 1]
    assert removed == 3


def test_f_two_same_camera_nodes_with_disjoint_local_clusters_first_one_wins() -> None:
    labels = np.array([0, 0, 0, 0, 0, 0])
    cams = np.array([2, 2, 2, 2, 3, 3])
    local = np.array([0, 0, 1, 1, 0, 0])
    out, removed = refine_labels(labels, cams, [0, 2], local)
    assert out.tolist() == [0, 0, -1, -1, 0, 0]  # node 2 was removed by node 0 and removes nothing
    assert removed == 2
    swapped, removed = refine_labels(labels, cams, [2, 0], local)
    assert swapped.tolist() == [-1, -1, 0, 0, 0, 0]  # the order decides which local cluster survives
    assert removed == 2


def test_f_simultaneous_order_lets_the_two_nodes_remove_each_other() -> None:
    labels = np.array([0, 0, 0, 0, 0, 0])
    cams = np.array([2, 2, 2, 2, 3, 3])
    local = np.array([0, 0, 1, 1, 0, 0])
    for nodes in ([0, 2], [2, 0]):
        out, removed = refine_labels(labels, cams, nodes, local, order="simultaneous")
        assert out.tolist() == [-1, -1, -1, -1, 0, 0]
        assert removed == 4


def test_single_camera_cluster_keeps_its_first_node_and_existing_outliers_stay() -> None:
    labels = np.array([3, 3, -1, 4])
    cams = np.array([0, 0, 0, 0])
    local = np.array([0, 1, 0, 1])
    out, removed = refine_labels(labels, cams, [0, 1, 2], local)
    assert out.tolist() == [3, -1, -1, 4]
    assert removed == 1
    # the simultaneous rule can empty the cluster
    out, removed = refine_labels(labels, cams, [0, 1, 2], local, order="simultaneous")
    assert out.tolist() == [-1, -1, -1, 4]
    assert removed == 2


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="equal length"):
        refine_labels([0, 1], [0], [], [0, 1])
    with pytest.raises(ValueError, match="order"):
        refine_labels([0], [0], [0], [0], order="random")

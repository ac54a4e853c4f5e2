"""kNN graph, node scores, Infomap modules and information-node selection (icsr.md §13.12)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from reid_plugin_icsr.info_nodes import (
    InfomapMissing,
    infomap_modules,
    information_nodes,
    knn_graph,
    select_nodes,
)


def _groups(seed: int = 0, groups: int = 3, per: int = 8, outliers: int = 3) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    centres = F.normalize(torch.randn(groups, 32, generator=gen), dim=1)
    pts = [F.normalize(c + 0.15 * torch.randn(per, 32, generator=gen), dim=1) for c in centres]
    pts.append(F.normalize(torch.randn(outliers, 32, generator=gen), dim=1))
    return torch.cat(pts)


def test_links_respect_threshold_and_scores_follow_formula() -> None:
    feats = _groups()
    graph = knn_graph(feats, k=6, min_sim=0.5)
    cos = (F.normalize(feats) @ F.normalize(feats).t()).numpy()
    assert np.all(cos[graph.sources, graph.targets] >= 0.5 - 1e-6)
    assert np.all(graph.sources != graph.targets)
    sims, _ = torch.topk(torch.tensor(cos), 6, dim=1)
    mean_d = float((1 - sims).mean())
    for i in range(feats.shape[0]):
        mine = graph.sources == i
        expected = np.sum(1.0 / (1.0 - cos[i, graph.targets[mine]] + mean_d))
        assert graph.scores[i] == pytest.approx(expected, rel=1e-5)


def test_walk_stops_at_first_neighbour_past_threshold() -> None:
    # node 0: neighbour 1 at cos 0.9 is linked, neighbour 2 at cos 0.45 and everything after it are not
    feats = torch.tensor([[1.0, 0.0], [0.9, 0.4359], [0.45, 0.893], [-1.0, 0.0]])
    graph = knn_graph(feats, k=4, min_sim=0.5)
    assert graph.targets[graph.sources == 0].tolist() == [1]


def test_node_without_links_is_singleton_and_small_modules_are_dropped() -> None:
    feats = _groups(outliers=3)
    graph = knn_graph(feats, k=8, min_sim=0.5)
    modules = infomap_modules(graph, min_size=4)
    lonely = [i for i in range(feats.shape[0]) if not np.any(graph.sources == i) and not np.any(graph.targets == i)]
    assert lonely, "the outliers should have no links"
    for i in lonely:
        assert modules[i] == -1
    ids, counts = np.unique(modules[modules >= 0], return_counts=True)
    assert np.all(counts > 4)
    assert len(ids) == 3
    # the three groups are recovered as modules
    for g in range(3):
        assert np.unique(modules[g * 8:(g + 1) * 8]).size == 1
    big = infomap_modules(graph, min_size=8)
    assert np.all(big == -1)


def test_selected_nodes_are_above_mean_one_per_module() -> None:
    modules = np.array([0, 0, 0, 1, 1, 1, -1, 2])
    scores = np.array([5.0, 9.0, 6.0, 1.0, 8.0, 7.0, 100.0, 0.5])
    mean = scores.mean()  # 17.06: only node 6 is above it, and it has no module
    assert select_nodes(modules, scores, "argmax") == []
    scores = np.array([5.0, 9.0, 6.0, 1.0, 8.0, 7.0, 0.0, 0.5])
    mean = scores.mean()
    assert select_nodes(modules, scores, "argmax") == [1, 4]
    assert select_nodes(modules, scores, "last_above_mean") == [2, 5]
    for node in select_nodes(modules, scores, "argmax") + select_nodes(modules, scores, "last_above_mean"):
        assert scores[node] > mean
    with pytest.raises(ValueError, match="rule"):
        select_nodes(modules, scores, "median")


def test_information_nodes_end_to_end() -> None:
    feats = _groups()
    nodes, modules = information_nodes(feats, k=8, min_sim=0.5, min_size=4)
    assert len(nodes) == len(set(modules[nodes].tolist())) == 3
    again, _ = information_nodes(feats, k=8, min_sim=0.5, min_size=4)
    assert nodes == again


def test_without_infomap_the_fallback_modules_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_infomap(name: str, *args: object, **kwargs: object) -> object:
        if name == "infomap":
            raise ImportError("no infomap")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_infomap)
    feats = _groups()
    with pytest.raises(InfomapMissing, match="pip install 'infomap>=2'"):
        information_nodes(feats, k=8)
    clusters = np.array([0] * 8 + [1] * 8 + [2] * 8 + [3, 3, 4])
    nodes, modules = information_nodes(feats, k=8, min_size=4, fallback_modules=clusters)
    assert modules[-3:].tolist() == [-1, -1, -1]
    assert sorted(set(modules[nodes].tolist())) == sorted(set(clusters[nodes].tolist()))
    assert 1 <= len(nodes) <= 3


def test_nodes_come_in_the_order_of_their_modules_first_member() -> None:
    # module 1 starts at index 0, module 0 at index 2: the released code's dict order is module 1 first
    modules = np.array([1, 1, 0, 0, 0, 1])
    scores = np.array([9.0, 1.0, 8.0, 1.0, 1.0, 1.0])
    assert select_nodes(modules, scores, "argmax") == [0, 2]
    assert select_nodes(modules, scores, "last_above_mean") == [0, 2]

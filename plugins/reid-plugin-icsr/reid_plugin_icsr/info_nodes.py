"""Information nodes: Infomap on the kNN graph of the features, then one high-score node per module (§3.3).

The kNN graph links each node to its nearest neighbours (cosine >= ``min_sim``); a node's
score is ``sum_j 1 / (d_ij + mean_d)`` over its links, a local density. Infomap groups the
nodes; modules with ``<= min_size`` members are discarded (-1). Each remaining module
contributes at most one information node, whose score is above the mean score of all nodes.
"""

from __future__ import annotations

import logging

import attrs
import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["InfomapMissing", "KnnGraph", "infomap_modules", "information_nodes", "knn_graph", "select_nodes"]

log = logging.getLogger(__name__)

SELECTIONS = ("argmax", "last_above_mean")

INFOMAP_MISSING = (
    "icsr: the refinement needs the 'infomap' package (a dependency of reid-plugin-icsr): "
    "pip install 'infomap>=2'; or --set icsr.infomap_fallback=true to pick the information nodes per "
    "global cluster instead (not the paper's method)"
)


class InfomapMissing(ImportError):
    """The ``infomap`` package is not installed and no fallback was asked for."""


@attrs.frozen
class KnnGraph:
    """The thresholded kNN graph: directed weighted links and the node scores."""

    sources: np.ndarray  #: link tails (int64)
    targets: np.ndarray  #: link heads (int64)
    weights: np.ndarray  #: cosine similarity of each link
    scores: np.ndarray  #: per-node score (0 for a node without links)
    num_nodes: int


def knn(features: torch.Tensor, k: int, *, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarities and indices of the ``k`` nearest neighbours (self included), descending."""
    feats = F.normalize(features.float(), dim=1)
    n = feats.shape[0]
    k = min(int(k), n)
    sims, idx = [], []
    for start in range(0, n, chunk):
        s, i = (feats[start:start + chunk] @ feats.t()).topk(k, dim=1)
        sims.append(s)
        idx.append(i)
    return torch.cat(sims).cpu().numpy(), torch.cat(idx).cpu().numpy().astype(np.int64)


def knn_graph(features: torch.Tensor, k: int = 15, min_sim: float = 0.5) -> KnnGraph:
    """Links ``i -> j`` to ``i``'s nearest neighbours in order (self skipped) while ``cos >= min_sim``.

    The walk stops at the first neighbour past the threshold; ``mean_d`` is the mean of the whole
    ``N x k`` distance array (``1 - cos``, self column included).
    """
    sims, idx = knn(features, k)
    n = sims.shape[0]
    dist = 1.0 - sims
    mean_d = float(dist.mean()) if dist.size else 0.0
    not_self = idx != np.arange(n)[:, None]
    within = dist <= 1.0 - min_sim + 1e-7
    # "stop at the first neighbour past the threshold": keep the prefix where every non-self one is within
    ok = np.where(not_self, within, True)
    prefix = np.cumprod(ok, axis=1).astype(bool)
    keep = prefix & not_self
    rows, cols = np.nonzero(keep)
    weights = sims[rows, cols].astype(np.float64)
    scores = np.zeros(n, dtype=np.float64)
    np.add.at(scores, rows, 1.0 / (dist[rows, cols].astype(np.float64) + mean_d))
    return KnnGraph(rows.astype(np.int64), idx[rows, cols], weights, scores, n)


def infomap_modules(graph: KnnGraph, min_size: int = 4, seed: int = 1) -> np.ndarray:
    """Two-level directed Infomap module of each node; modules of ``<= min_size`` nodes get -1.

    Nodes without links are their own (discarded) module. Module ids are relabelled ``0..M-1``.
    """
    import infomap

    im = infomap.Infomap(f"--two-level --directed --silent --seed {int(seed)}")
    for node in range(graph.num_nodes):
        im.add_node(node)
    for s, t, w in zip(graph.sources.tolist(), graph.targets.tolist(), graph.weights.tolist()):
        im.add_link(s, t, max(w, 1e-12))
    result = im.run()
    mapping = result.modules() if hasattr(result, "modules") else im.get_modules()
    modules = np.full(graph.num_nodes, -1, dtype=np.int64)
    for node, module in dict(mapping).items():
        modules[int(node)] = int(module)
    ids, counts = np.unique(modules[modules >= 0], return_counts=True)
    small = set(ids[counts <= min_size].tolist())
    if small:
        modules[np.isin(modules, list(small))] = -1
    out = np.full_like(modules, -1)
    kept = modules >= 0
    if kept.any():
        _, out[kept] = np.unique(modules[kept], return_inverse=True)
    return out


def select_nodes(modules: np.ndarray, scores: np.ndarray, rule: str = "argmax") -> list[int]:
    """At most one information node per module, always with a score above the mean over all nodes.

    ``argmax``: the highest-score member (ties: lowest index). ``last_above_mean``: the released
    code's choice, the last member in index order whose score is above the mean. The nodes come in
    the order of their modules' first member (lowest index), the order of the released code's
    ``information_node`` dict, which the sequential refinement follows.
    """
    if rule not in SELECTIONS:
        raise ValueError(f"information-node rule must be one of {SELECTIONS}, got {rule!r}")
    modules = np.asarray(modules)
    scores = np.asarray(scores, dtype=np.float64)
    mean = float(scores.mean()) if scores.size else 0.0
    nodes = []
    ids, first = np.unique(modules[modules >= 0], return_index=True)
    for module in ids[np.argsort(first, kind="stable")].tolist():
        members = np.nonzero((modules == module) & (scores > mean))[0]
        if members.size == 0:
            continue
        if rule == "argmax":
            nodes.append(int(members[np.argmax(scores[members])]))
        else:
            nodes.append(int(members[-1]))
    return nodes


def information_nodes(
    features: torch.Tensor, *, k: int = 15, min_sim: float = 0.5, min_size: int = 4, rule: str = "argmax",
    seed: int = 1, fallback_modules: np.ndarray | None = None,
) -> tuple[list[int], np.ndarray]:
    """The information nodes of ``features`` and the Infomap modules they came from.

    Without the ``infomap`` package this is an :class:`InfomapMissing` error naming the package and
    the install command, unless ``fallback_modules`` (e.g. the global clusters) is given: the caller
    asked explicitly for them to stand in for the Infomap modules, with the same size filter and
    node rule (spec §12; another method, hence logged as a warning).
    """
    graph = knn_graph(features, k=k, min_sim=min_sim)
    try:
        modules = infomap_modules(graph, min_size=min_size, seed=seed)
    except ImportError:
        if fallback_modules is None:
            raise InfomapMissing(INFOMAP_MISSING) from None
        log.warning("infomap is not installed: information nodes are picked per global cluster instead")
        modules = np.asarray(fallback_modules, dtype=np.int64).copy()
        ids, counts = np.unique(modules[modules >= 0], return_counts=True)
        modules[np.isin(modules, ids[counts <= min_size])] = -1
    nodes = select_nodes(modules, graph.scores, rule)
    log.debug("infomap: %d modules, %d information nodes", int(modules.max(initial=-1)) + 1, len(nodes))
    return nodes, modules


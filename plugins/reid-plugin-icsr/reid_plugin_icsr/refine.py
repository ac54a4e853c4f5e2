"""Refinement of global clusters with the intra-camera partitions (ICSR §3.4), a pure function.

For each information node ``v`` (camera ``c``, global cluster ``g``), every member of ``g``
from camera ``c`` that is not in ``v``'s local (stage-1) cluster is removed (label -1).
Members from other cameras are never touched.

Two orders are offered:

* ``sequential`` (default, the released ``train_global.py``): the nodes run in the given order and
  each looks its cluster up by its *current* label; a node an earlier node removed looks up the
  outlier label, finds nothing and removes nothing. So per global cluster and camera, the local
  cluster of the first surviving node of that camera is kept, and a cluster that holds an
  information node never vanishes.
* ``simultaneous`` (this plugin's earlier rule): every node's filter applies to the labels taken
  before any removal, so two same-camera nodes of one cluster with different local clusters
  remove each other; it removes more and can empty clusters. The result ignores the node order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["ORDERS", "refine_labels"]

#: The node orders :func:`refine_labels` knows (see the module docstring).
ORDERS = ("sequential", "simultaneous")


def refine_labels(
    global_labels: Sequence[int] | np.ndarray,
    cams: Sequence[int] | np.ndarray,
    info_nodes: Iterable[int],
    local_labels: Sequence[int] | np.ndarray,
    *,
    order: str = "sequential",
) -> tuple[np.ndarray, int]:
    """Refined copy of ``global_labels`` and the number of samples removed.

    Args:
        global_labels: ``N`` global cluster labels (-1 = already left out; never a cluster).
        cams: ``N`` camera ids.
        info_nodes: indices of the information nodes, in the order they are applied (a node
            whose label is -1 when its turn comes is ignored).
        local_labels: ``N`` labels of each sample in its own camera's stage-1 partition (only
            compared between samples of the same camera).
        order: ``sequential`` (the released code) or ``simultaneous`` (module docstring).

    The inputs are not modified; the result depends on nothing else.
    """
    if order not in ORDERS:
        raise ValueError(f"refine_labels: order must be one of {ORDERS}, got {order!r}")
    labels = np.asarray(global_labels, dtype=np.int64)
    cams = np.asarray(cams, dtype=np.int64)
    local = np.asarray(local_labels, dtype=np.int64)
    if not (labels.shape == cams.shape == local.shape) or labels.ndim != 1:
        raise ValueError(
            f"refine_labels: global_labels, cams and local_labels must be 1-d of equal length, got "
            f"{labels.shape}, {cams.shape}, {local.shape}"
        )
    sort = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[sort], [labels, labels + 1], side="left") if labels.size else None
    out = labels.copy()
    removed = np.zeros(labels.shape, dtype=bool)
    for v in info_nodes:
        v = int(v)
        current = out[v] if order == "sequential" else labels[v]
        if current < 0:
            continue
        members = sort[bounds[0][v]:bounds[1][v]]  # G(y_v): labels only ever change to -1
        drop = members[(cams[members] == cams[v]) & (local[members] != local[v])]
        if order == "sequential":
            out[drop] = -1
        removed[drop] = True
    newly = removed & (labels >= 0)
    out[newly] = -1
    return out, int(newly.sum())

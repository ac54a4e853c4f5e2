"""Refinement of global clusters with the intra-camera partitions (ICSR §3.4), a pure function.

For each information node ``v`` (camera ``c``, global cluster ``g``), every member of ``g``
from camera ``c`` that is not in ``v``'s local (stage-1) cluster is removed (label -1).
Members from other cameras are never touched. ``G(g)`` is taken before any removal, so the
filters of several information nodes in one cluster compose (two same-camera nodes with
different local clusters remove each other).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["refine_labels"]


def refine_labels(
    global_labels: Sequence[int] | np.ndarray,
    cams: Sequence[int] | np.ndarray,
    info_nodes: Iterable[int],
    local_labels: Sequence[int] | np.ndarray,
) -> tuple[np.ndarray, int]:
    """Refined copy of ``global_labels`` and the number of samples removed.

    Args:
        global_labels: ``N`` global cluster labels (-1 = already left out; never a cluster).
        cams: ``N`` camera ids.
        info_nodes: indices of the information nodes (a node whose global label is -1 is ignored).
        local_labels: ``N`` labels of each sample in its own camera's stage-1 partition (only
            compared between samples of the same camera).

    The inputs are not modified; the result depends on nothing else.
    """
    labels = np.asarray(global_labels, dtype=np.int64)
    cams = np.asarray(cams, dtype=np.int64)
    local = np.asarray(local_labels, dtype=np.int64)
    if not (labels.shape == cams.shape == local.shape) or labels.ndim != 1:
        raise ValueError(
            f"refine_labels: global_labels, cams and local_labels must be 1-d of equal length, got "
            f"{labels.shape}, {cams.shape}, {local.shape}"
        )
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], [labels, labels + 1], side="left") if labels.size else None
    removed = np.zeros(labels.shape, dtype=bool)
    for v in info_nodes:
        v = int(v)
        if labels[v] < 0:
            continue
        members = order[bounds[0][v]:bounds[1][v]]  # G(y_v), before any removal
        drop = members[(cams[members] == cams[v]) & (local[members] != local[v])]
        removed[drop] = True
    out = labels.copy()
    newly = removed & (labels >= 0)
    out[newly] = -1
    return out, int(newly.sum())

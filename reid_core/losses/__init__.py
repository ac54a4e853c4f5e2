"""Losses: cross-entropy with label smoothing, batch-hard triplet and center loss (registered as
``cross_entropy_ls``, ``triplet`` and ``center``). Submodules are imported on first access."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reid_core._lazy import lazy_getattr

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from reid_core.losses.center import CenterLoss
    from reid_core.losses.cross_entropy import CrossEntropyLabelSmooth
    from reid_core.losses.triplet import TripletLoss, hard_example_mining, pairwise_distance

_LAZY = {
    "CenterLoss": "center",
    "CrossEntropyLabelSmooth": "cross_entropy",
    "TripletLoss": "triplet",
    "hard_example_mining": "triplet",
    "pairwise_distance": "triplet",
}


__getattr__ = lazy_getattr("reid_core.losses", _LAZY, globals())


__all__ = ["CenterLoss", "CrossEntropyLabelSmooth", "TripletLoss", "hard_example_mining", "pairwise_distance"]

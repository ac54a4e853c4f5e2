"""Losses: cross-entropy with label smoothing, batch-hard triplet and center loss (registered as
``cross_entropy_ls``, ``triplet`` and ``center``). Submodules are imported on first access."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    """Import the submodule defining ``name`` on first access (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'reid_core.losses' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"reid_core.losses.{module}"), name)
    globals()[name] = value
    return value


__all__ = ["CenterLoss", "CrossEntropyLabelSmooth", "TripletLoss", "hard_example_mining", "pairwise_distance"]

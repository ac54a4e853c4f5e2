"""Procedurally generated persons: the embedded default data and the fixture maker's images."""

from reid_core.datasets.synthetic.world import SyntheticWorld

__all__ = ["SyntheticWorld"]

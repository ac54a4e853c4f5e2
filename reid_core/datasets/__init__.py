"""Data set parsers and generated data sets; each is registered through ``reid_register_datasets``."""

from reid_core.datasets.base import DatasetError, EvalSpec, ReidDataset, split_stats

__all__ = ["DatasetError", "EvalSpec", "ReidDataset", "split_stats"]

"""Data set parsers and generated data sets; each is registered through ``reid_register_datasets``."""

from reid_core.datasets.base import DatasetError, EvalSpec, ReidDataset, split_stats
from reid_core.datasets.cross_domain import CrossDomainDataset, require_cross_domain, unlabelled

__all__ = [
    "CrossDomainDataset",
    "DatasetError",
    "EvalSpec",
    "ReidDataset",
    "require_cross_domain",
    "split_stats",
    "unlabelled",
]

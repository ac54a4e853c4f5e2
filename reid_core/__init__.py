"""reid-core: a plugin-based framework for person re-identification.

The public API is what ``__all__`` lists; everything else is implementation.
"""

from __future__ import annotations

__version__ = "0.1.0"

from reid_core._lazy import lazy_getattr
from reid_core.config import ConfigError, DataConfig, TrainConfig
from reid_core.data.sample import Sample
from reid_core.datasets.base import DatasetError, EvalSpec, ReidDataset
from reid_core.evaluation.base import EvaluationError, Evaluator, SplitLabels
from reid_core.hookspecs import HOOKSPEC_VERSION, hookimpl
from reid_core.methods.base import ExportError, Method, Stage
from reid_core.plugins import PluginError, get_plugin_manager, get_registry
from reid_core.registry import RegistryError, UnknownNameError

__all__ = [
    "HOOKSPEC_VERSION",
    "ConfigError",
    "DataConfig",
    "DatasetError",
    "EvalSpec",
    "EvaluationError",
    "Evaluator",
    "ExportError",
    "Method",
    "PluginError",
    "RegistryError",
    "ReidDataset",
    "Sample",
    "SplitLabels",
    "Stage",
    "TrainConfig",
    "UnknownNameError",
    "__version__",
    "get_plugin_manager",
    "get_registry",
    "hookimpl",
    "load",
]

#: ``reid_core.load(run_dir_or_checkpoint)`` (see :func:`reid_core.inference.load`), imported on first use.
__getattr__ = lazy_getattr("reid_core", {"load": "inference.loader"}, globals())

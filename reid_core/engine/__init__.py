"""The training engine: the loop, devices, AMP, DDP, checkpoints, logging and evaluation.

``reid run`` calls :func:`train_run`, ``reid eval`` calls :func:`evaluate_checkpoint`. A method
(:class:`reid_core.methods.Method`) sees the engine through :class:`RunContext` and the step
context (:class:`StepRunner`). See ``docs/engine.md``.
"""

from reid_core.engine.checkpoint import unwrap
from reid_core.engine.context import EpochLoader, RunContext
from reid_core.engine.errors import EngineError, NonFiniteLossError
from reid_core.engine.evaluate import evaluate_checkpoint
from reid_core.engine.runner import Run, train_run
from reid_core.engine.step import StepRunner

__all__ = [
    "EngineError",
    "EpochLoader",
    "NonFiniteLossError",
    "Run",
    "RunContext",
    "StepRunner",
    "evaluate_checkpoint",
    "train_run",
    "unwrap",
]

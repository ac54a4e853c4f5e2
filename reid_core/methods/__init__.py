"""Training methods: the interface and the core's reference method (the strong baseline)."""

from reid_core.methods.base import Context, ExportError, Method, Stage, StepContext
from reid_core.methods.frozen import FrozenModule

__all__ = ["Context", "ExportError", "FrozenModule", "Method", "Stage", "StepContext"]

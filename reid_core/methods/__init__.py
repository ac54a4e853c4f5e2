"""Training methods: the interface and the core's reference method (the strong baseline).

:class:`FrozenModule` (which needs torch) is loaded on first access, so that registering plugins
stays free of torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reid_core._lazy import lazy_getattr
from reid_core.methods.base import Context, ExportError, Method, Stage, StepContext

_LAZY = {"FrozenModule": "frozen"}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from reid_core.methods.frozen import FrozenModule

__getattr__ = lazy_getattr(__name__, _LAZY, globals())

__all__ = ["Context", "ExportError", "FrozenModule", "Method", "Stage", "StepContext"]

"""The core's builtin losses plugin: registers the core's losses through the public hooks."""

from __future__ import annotations

from typing import Any

from reid_core.hookspecs import hookimpl


@hookimpl
def reid_register_losses(register: Any) -> None:
    """Register the core's losses."""

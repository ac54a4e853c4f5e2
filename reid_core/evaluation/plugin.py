"""The core's builtin evaluation plugin: registers the core's evaluation through the public hooks."""

from __future__ import annotations

from typing import Any

from reid_core.hookspecs import hookimpl


@hookimpl
def reid_register_evaluators(register: Any) -> None:
    """Register the core's evaluation."""

"""The core's builtin models plugin: registers the core's models through the public hooks."""

from __future__ import annotations

from typing import Any

from reid_core.hookspecs import hookimpl


@hookimpl
def reid_register_backbones(register: Any) -> None:
    """Register the core's backbones."""

"""The core's builtin datasets plugin: registers the core's datasets through the public hooks."""

from __future__ import annotations

from typing import Any

from reid_core.hookspecs import hookimpl


@hookimpl
def reid_register_datasets(register: Any) -> None:
    """Register the core's datasets."""

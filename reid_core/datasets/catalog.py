"""The list of public data set parsers registered by the core."""

from __future__ import annotations

from typing import Any


def register_parsers(register: Any) -> None:
    """Register every public data set parser and the ``folder`` format."""

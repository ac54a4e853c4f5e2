"""The synthetic presets registered as data sets."""

from __future__ import annotations

from typing import Any


def register_presets(register: Any) -> None:
    """Register synthetic, synthetic-cc, synthetic-ir, synthetic-a and synthetic-b."""

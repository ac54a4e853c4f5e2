"""The core's builtin methods plugin: registers the core's methods through the public hooks."""

from __future__ import annotations

from typing import Any

from reid_core.hookspecs import hookimpl


@hookimpl
def reid_register_methods(register: Any) -> None:
    """Register the core's methods."""
    from reid_core.methods.baseline import Baseline

    register("baseline", Baseline, description="strong baseline (BoT): ResNet-50, BNNeck, CE-LS + triplet")

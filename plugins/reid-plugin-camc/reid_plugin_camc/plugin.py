"""Hook implementations of the camc plugin: registers the ``camc`` method."""

from __future__ import annotations

from typing import Any

from reid_core import hookimpl


@hookimpl
def reid_register_methods(register: Any) -> None:
    """Register the camc method (imported lazily so that ``reid plugins`` stays fast)."""
    from reid_plugin_camc.method import CAMC

    register(
        "camc",
        CAMC,
        description="CAMC (Wang et al., ACCV 2022): pose-guided co-attention / mutual cross-attention, cloth-changing",
    )

"""Hook implementations of the aim plugin: registers the ``aim`` method."""

from __future__ import annotations

from typing import Any

from reid_core import hookimpl


@hookimpl
def reid_register_methods(register: Any) -> None:
    """Register the aim method (imported lazily so that ``reid plugins`` stays fast)."""
    from reid_plugin_aim.method import AIM

    register(
        "aim",
        AIM,
        description="AIM (Yang et al., CVPR 2023): causal cloth-debiasing for cloth-changing re-ID",
    )

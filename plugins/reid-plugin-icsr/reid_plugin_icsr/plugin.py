"""Hook implementations of the icsr plugin."""

from __future__ import annotations

from typing import Any

from reid_core import hookimpl


@hookimpl
def reid_register_methods(register: Any) -> None:
    """Register the icsr method."""
    from reid_plugin_icsr.method import ICSRMethod

    register("icsr", ICSRMethod, description="ICSR (ICIP 2023): unsupervised, intra-camera similarity refinement")

"""Hook implementations of the ivreid plugin: registers the ``ivreid`` and ``agw`` methods."""

from __future__ import annotations

from typing import Any

from reid_core import hookimpl


@hookimpl
def reid_register_methods(register: Any) -> None:
    """Register ivreid and agw (imported lazily so that ``reid plugins`` stays fast)."""
    from reid_plugin_ivreid.agw import AGW
    from reid_plugin_ivreid.method import IVReID

    register(
        "ivreid",
        IVReID,
        description="IV-ReID seed (linyq17/IV-REID): shared ResNet-50, modality heads with mutual KL",
    )
    register(
        "agw",
        AGW,
        description="AGW (Ye et al., TPAMI 2021): two-stream visible-infrared baseline, non-local + GeM + WRT",
    )


@hookimpl
def reid_register_commands(cli: Any) -> None:
    """Add ``reid ivreid-import`` (official checkpoints)."""
    from reid_plugin_ivreid.commands import add_commands

    add_commands(cli)

"""The core's builtin datasets plugin: the public data set parsers and the synthetic presets."""

from __future__ import annotations

from typing import Any

import click

from reid_core.hookspecs import hookimpl


@hookimpl
def reid_register_datasets(register: Any) -> None:
    """Register the eleven public data sets, the ``folder`` format and the synthetic presets."""
    from reid_core.datasets.catalog import register_parsers
    from reid_core.datasets.synthetic.presets import register_presets

    register_parsers(register)
    register_presets(register)


@hookimpl
def reid_register_commands(cli: click.Group) -> None:
    """Add ``reid datasets ...`` and ``reid synth``."""
    from reid_core.datasets.commands import add_commands
    from reid_core.datasets.synthetic.cli import add_synth_command

    add_commands(cli)
    add_synth_command(cli)

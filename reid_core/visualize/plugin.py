"""The core's builtin visualisation plugin: adds ``reid visualize`` and ``reid plot``."""

from __future__ import annotations

import click

from reid_core.hookspecs import hookimpl


@hookimpl
def reid_register_commands(cli: click.Group) -> None:
    """Add ``reid visualize`` and ``reid plot``."""
    from reid_core.visualize.commands import plot_cmd, visualize_cmd

    cli.add_command(visualize_cmd)
    cli.add_command(plot_cmd)

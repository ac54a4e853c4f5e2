"""The core's builtin inference plugin: adds ``reid extract`` and ``reid export``."""

from __future__ import annotations

import click

from reid_core.hookspecs import hookimpl


@hookimpl
def reid_register_commands(cli: click.Group) -> None:
    """Add ``reid extract`` and ``reid export``."""
    from reid_core.inference.commands import export_cmd, extract_cmd

    cli.add_command(extract_cmd)
    cli.add_command(export_cmd)

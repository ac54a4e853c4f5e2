"""``reid datasets ...`` commands."""

from __future__ import annotations

import click


def add_commands(cli: click.Group) -> None:
    """Add the ``datasets`` command group to ``cli``."""

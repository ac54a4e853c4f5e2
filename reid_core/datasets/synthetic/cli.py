"""``reid synth``: write a fixture tree in a public layout, or a contact sheet."""

from __future__ import annotations

import click


def add_synth_command(cli: click.Group) -> None:
    """Add ``reid synth`` to ``cli``."""

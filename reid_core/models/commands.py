"""``reid weights``: which pretrained files the core backbones expect, and whether they are found."""

from __future__ import annotations

import json
import os

import click


def weights_table() -> list[dict[str, str | None]]:
    """One row per core backbone: its standard file, where it was found (or ``None``) and its source URL."""
    from reid_core.models.resnet import ARCHITECTURES
    from reid_core.models.weights import KNOWN_FILES, WeightsNotFoundError, resolve_weights

    rows: list[dict[str, str | None]] = []
    for name, (_, _, file_name, _) in ARCHITECTURES.items():
        try:
            found: str | None = str(resolve_weights("imagenet", file_name))
        except WeightsNotFoundError:
            found = None
        rows.append({"backbone": name, "file": file_name, "found": found, "url": KNOWN_FILES.get(file_name)})
    return rows


def add_commands(cli: click.Group) -> None:
    """Add ``reid weights`` to the command group."""

    @cli.command("weights")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    def weights_cmd(as_json: bool) -> None:
        """List the pretrained weights files of the core backbones and where they are found.

        Nothing is downloaded: put the files in $REID_WEIGHTS_DIR (or torch's hub cache) yourself.
        """
        from reid_core.models.weights import WEIGHTS_DIR_ENV, search_dirs

        rows = weights_table()
        if as_json:
            click.echo(json.dumps(rows, indent=2))
            return
        unset = "" if os.environ.get(WEIGHTS_DIR_ENV) else f" (${WEIGHTS_DIR_ENV} is not set)"
        click.echo("searched: " + ", ".join(str(d) for d in search_dirs()) + unset)
        for row in rows:
            status = row["found"] or f"MISSING (get it from {row['url']})"
            click.echo(f"{row['backbone']:<16} {row['file']:<30} {status}")

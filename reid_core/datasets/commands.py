"""``reid datasets ...`` commands."""

from __future__ import annotations

import json
from typing import Any

import click


def dataset_stats(name: str, root: str | None, options: dict[str, str]) -> dict[str, Any]:
    """Parse data set ``name`` and return ``{"dataset", "root", "evaluations", "splits"}``."""
    from reid_core.plugins import get_registry

    dataset = get_registry("datasets").create(name, root, **options)
    return {
        "dataset": name,
        "root": dataset.root,
        "evaluations": [
            {"name": e.key, "protocol": e.protocol, "query": e.query, "gallery": e.gallery}
            for e in dataset.evaluations
        ],
        "splits": dataset.stats(),
    }


def format_stats(report: dict[str, Any]) -> str:
    """A text table of one ``dataset_stats`` report."""
    lines = [f"{report['dataset']}  ({report['root']})"]
    header = f"  {'split':<16}{'ids':>8}{'images':>10}{'cameras':>9}{'clothes':>9}  modalities"
    lines.append(header)
    for split, st in report["splits"].items():
        clothes = "-" if st["clothes"] is None else str(st["clothes"])
        mods = ",".join(st["modalities"]) or "-"
        lines.append(f"  {split:<16}{st['ids']:>8}{st['images']:>10}{st['cameras']:>9}{clothes:>9}  {mods}")
    evals = ", ".join(
        f"{e['name']} ({e['protocol']}: {e['query']} vs {e['gallery']})" for e in report["evaluations"]
    )
    lines.append(f"  evaluations: {evals}")
    return "\n".join(lines)


def add_commands(cli: click.Group) -> None:
    """Add the ``datasets`` command group to ``cli``."""

    @cli.group("datasets")
    def datasets_group() -> None:
        """Inspect data sets: parse a copy on disk and print its statistics."""

    @datasets_group.command("stats")
    @click.argument("name")
    @click.option("--root", type=click.Path(), default=None, help="Folder holding the data set's own folder.")
    @click.option(
        "--option", "items", multiple=True, metavar="KEY=VALUE", help="Data set option (repeatable)."
    )
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    def stats_cmd(name: str, root: str | None, items: tuple[str, ...], as_json: bool) -> None:
        """Parse data set NAME under --root and print ids, images, cameras, clothes, modalities per split."""
        from reid_core.resolve import parse_options

        report = dataset_stats(name, root, parse_options(items))
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "dataset": report["dataset"],
                        "splits": report["splits"],
                        "root": report["root"],
                        "evaluations": report["evaluations"],
                    },
                    indent=2,
                )
            )
        else:
            click.echo(format_stats(report))

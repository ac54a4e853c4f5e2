"""``reid ivreid-import``: convert (and evaluate) an official IV-ReID checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import click


def import_official(
    checkpoint: Path, output: Path, *, dataset: str | None = None, root: str | None = None,
    options: tuple[str, ...] = (), sets: tuple[str, ...] = (), device: str | None = None,
) -> dict:
    """Write the reid checkpoint of an official file to ``output``; with ``dataset``, evaluate it and
    return the results (else ``{}``)."""
    from reid_core.engine import evaluate_checkpoint
    from reid_core.engine.checkpoint import atomic_save
    from reid_core.resolve import parse_options, resolve_run_config
    from reid_plugin_ivreid.method import IVReID
    from reid_plugin_ivreid.official import OFFICIAL_MODEL, official_checkpoint

    config = resolve_run_config(
        IVReID, dataset=dataset, root=root, profile="paper", sets=sets, options=parse_options(options), device=device
    )
    section = attrs.evolve(config.ivreid, pretrained="none", **OFFICIAL_MODEL)
    config = attrs.evolve(config, ivreid=section)
    state = official_checkpoint(checkpoint, config)  # errors before anything is written
    atomic_save(state, output)
    if dataset is None:
        return {}
    return evaluate_checkpoint(IVReID, config, output)


def add_commands(cli: click.Group) -> None:
    """Add ``reid ivreid-import``."""

    @cli.command("ivreid-import")
    @click.argument("checkpoint", type=click.Path(dir_okay=False))
    @click.option("--output", required=True, type=click.Path(dir_okay=False), help="The reid checkpoint to write.")
    @click.option("--dataset", help="Evaluate the imported model on this data set (regdb, sysumm01...).")
    @click.option("--root", type=click.Path(file_okay=False), help="Folder that holds the data set's folder.")
    @click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Data set option (trial=3).")
    @click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override one config key.")
    @click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Where to evaluate.")
    def ivreid_import(checkpoint: str, output: str, **kwargs: object) -> None:
        """Convert an official IV-ReID CHECKPOINT (a state dict in the seed's key layout) into a reid
        checkpoint; with --dataset, evaluate it (then ``reid eval ivreid --checkpoint OUTPUT`` works too)."""
        results = import_official(Path(checkpoint), Path(output), **kwargs)  # type: ignore[arg-type]
        click.echo(f"wrote {output}", err=True)
        if results:
            click.echo(json.dumps(results, indent=2))

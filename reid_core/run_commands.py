"""``reid run`` and ``reid eval``: resolve names and configuration, then hand over to the engine."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import click

from reid_core.cli import cli
from reid_core.resolve import method_class, parse_options, resolve_run_config

RUNS_DIR = Path("runs")


def default_output(method: str, dataset: str, resume: bool) -> Path:
    """``runs/<method>-<dataset>-<time>``; with ``--resume``, the newest such folder."""
    if resume:
        candidates = sorted(RUNS_DIR.glob(f"{method}-{dataset}-*"))
        if not candidates:
            raise click.ClickException(
                f"--resume found no earlier run of {method} on {dataset} under {RUNS_DIR}/; "
                "pass --output DIR of the run to resume"
            )
        return candidates[-1]
    return RUNS_DIR / f"{method}-{dataset}-{time.strftime('%Y%m%d-%H%M%S')}"


def _run_options(func: click.decorators.FC) -> click.decorators.FC:
    options = [
        click.option("--dataset", help="Registered data set name (default: the method's demo data)."),
        click.option("--root", type=click.Path(file_okay=False), help="Folder that holds the data set's folder."),
        click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Data set option."),
        click.option("--profile", help="Named settings of the method: paper or quick."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False), help="A TOML config file."),
        click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override one config key."),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Where to train."),
        click.option("--seed", type=int, help="Random seed."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@cli.command("run")
@click.argument("method")
@_run_options
@click.option("--output", type=click.Path(file_okay=False), help="Run folder (default: runs/<method>-<dataset>-<time>).")
@click.option("--resume", is_flag=True, help="Continue the run in --output from its last checkpoint.")
def run_cmd(method: str, output: str | None, resume: bool, **kwargs: object) -> None:
    """Train and evaluate METHOD (e.g. ``reid run baseline``; ``reid run aim --dataset prcc --root /data``)."""
    cls = method_class(method)
    config = resolve_run_config(cls, options=parse_options(kwargs.pop("options")), **kwargs)  # type: ignore[arg-type]
    from reid_core.engine import train_run

    out = Path(output) if output else default_output(cls.name, config.data.dataset, resume)
    metrics = train_run(cls, config, output_dir=out, resume=resume)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, only rank 0 prints
        click.echo(json.dumps(metrics, indent=2))


@cli.command("eval")
@click.argument("method")
@_run_options
@click.option("--checkpoint", required=True, type=click.Path(dir_okay=False), help="A checkpoint written by reid run.")
@click.option(
    "--from",
    "source",
    default="reid",
    show_default=True,
    metavar="FORMAT",
    help="Layout of --checkpoint: reid, or a foreign one the method converts (e.g. official: the paper's weights).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
def eval_cmd(method: str, checkpoint: str, source: str, as_json: bool, **kwargs: object) -> None:
    """Evaluate a trained METHOD checkpoint with the data set's protocols."""
    cls = method_class(method)
    config = resolve_run_config(cls, options=parse_options(kwargs.pop("options")), **kwargs)  # type: ignore[arg-type]
    from reid_core.engine import evaluate_checkpoint

    results = evaluate_checkpoint(cls, config, Path(checkpoint), source=source)
    click.echo(json.dumps(results, indent=2))

"""``reid run`` and ``reid eval``: resolve names and configuration, then hand over to the engine."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import click

from reid_core.cli import cli
from reid_core.resolve import method_class, parse_options, resolve_run_config, user_layers

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
        click.option("--source", help="A labelled source data set: train on it, adapt to and test on --dataset."),
        click.option("--source-root", type=click.Path(file_okay=False), help="Root of --source (default: --root)."),
        click.option("--source-option", "source_options", multiple=True, metavar="KEY=VALUE", help="Source option."),
        click.option("--profile", help="Named settings of the method: paper or quick."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False), help="A TOML config file."),
        click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override one config key."),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Where to train."),
        click.option("--seed", type=int, help="Random seed."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _parsed(kwargs: dict[str, object]) -> dict[str, object]:
    """The ``--option`` and ``--source-option`` pairs as dicts."""
    kwargs["options"] = parse_options(kwargs.pop("options"))  # type: ignore[arg-type]
    kwargs["source_options"] = parse_options(kwargs.pop("source_options"))  # type: ignore[arg-type]
    return kwargs


@cli.command("run")
@click.argument("method")
@_run_options
@click.option("--output", type=click.Path(file_okay=False), help="Run folder (default: runs/<method>-<dataset>-<time>).")
@click.option("--resume", is_flag=True, help="Continue the run in --output from its last checkpoint.")
@click.option("--dry-run", is_flag=True, help="Check everything, print the config and the plan; train nothing.")
@click.option(
    "--trials",
    metavar="SPEC",
    help="Train one run per trial (e.g. 1-10) into OUTPUT/trial-<k>; metrics.json gets the mean and std.",
)
def run_cmd(method: str, output: str | None, resume: bool, dry_run: bool, trials: str | None, **kwargs: object) -> None:
    """Train and evaluate METHOD (e.g. ``reid run baseline``; ``reid run aim --dataset prcc --root /data``)."""
    from reid_core import preflight

    cls = method_class(method)
    config = resolve_run_config(cls, **_parsed(kwargs))  # type: ignore[arg-type]
    typed = user_layers(**kwargs)  # type: ignore[arg-type]
    name = f"{config.data.source}2{config.data.dataset}" if config.data.source else config.data.dataset
    out = Path(output) if output else default_output(cls.name, name, resume)
    if trials is not None:
        _run_trials(cls, config, out, trials, resume=resume, dry_run=dry_run, typed=typed)
        return
    checked = preflight.check_run(cls, config, output_dir=out, resume=resume, typed=typed, all_images=dry_run)
    if dry_run:
        from reid_core.config import dumps_toml

        click.echo(dumps_toml(checked.config), nl=False)
        click.echo(preflight.plan_run(cls, checked.config, checked.dataset, out, checked.folder))
        return
    from reid_core.engine import train_run

    metrics = train_run(cls, config, output_dir=out, resume=resume, dataset=checked.dataset, typed=typed)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, only rank 0 prints
        click.echo(json.dumps(metrics, indent=2))


def _run_trials(
    cls: type, config: object, out: Path, spec: str, *, resume: bool, dry_run: bool, typed: list
) -> None:
    """``reid run --trials``: the checks on the first trial's run, then every trial (``engine.trials``)."""
    from reid_core import preflight
    from reid_core.engine.trials import parse_trials, run_trials, trial_config, trial_option

    numbers = parse_trials(spec)
    first = out / f"trial-{numbers[0]}"
    first_config = trial_config(config, numbers[0], trial_option(config.data.dataset))  # type: ignore[attr-defined]
    checked = preflight.check_run(cls, first_config, output_dir=first, typed=typed, all_images=dry_run,
                                  resume=resume and (first / "config.toml").exists())
    if dry_run:
        from reid_core.config import dumps_toml

        click.echo(dumps_toml(checked.config), nl=False)
        click.echo(preflight.plan_run(cls, checked.config, checked.dataset, first, checked.folder))
        click.echo(f"trials {numbers}: one such run each, into {out}/trial-<k>")
        return
    metrics = run_trials(cls, config, output_dir=out, trials=numbers, resume=resume, typed=typed)  # type: ignore[arg-type]
    if os.environ.get("RANK", "0") == "0":
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
@click.option("--dry-run", is_flag=True, help="Check the checkpoint and the data, print the plan; evaluate nothing.")
def eval_cmd(method: str, checkpoint: str, source: str, as_json: bool, dry_run: bool, **kwargs: object) -> None:
    """Evaluate a trained METHOD checkpoint with the data set's protocols (also on another data set)."""
    from reid_core import preflight

    cls = method_class(method)
    config = resolve_run_config(cls, **_parsed(kwargs))  # type: ignore[arg-type]
    dataset = preflight.check_eval(cls, config, Path(checkpoint), all_images=dry_run, source=source)
    if dry_run:
        click.echo(preflight.plan_eval(cls, config, Path(checkpoint), dataset, source=source))
        return
    from reid_core.engine import evaluate_checkpoint
    from reid_core.engine.evaluate import format_table

    results = evaluate_checkpoint(cls, config, Path(checkpoint), dataset=dataset, source=source)
    if os.environ.get("RANK", "0") != "0":  # under torchrun, only rank 0 prints
        return
    if not as_json:
        click.echo(format_table(results, "last"), err=True)
    click.echo(json.dumps(results, indent=2))

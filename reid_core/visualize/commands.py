"""``reid visualize`` (ranked galleries of chosen queries) and ``reid plot`` (CMC and per-epoch curves)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click
import numpy as np

from reid_core.engine.checkpoint import atomic_write_bytes, atomic_write_text
from reid_core.inference.commands import (
    check_output_file,
    cli_logging,
    dataset_from_options,
    device_option,
    load_model,
    model_options,
    overwrite_option,
)

logger = logging.getLogger(__name__)


def _dataset_options(func: Any) -> Any:
    options = [
        click.option("--dataset", help="A registered data set (default: the run's own)."),
        click.option("--root", type=click.Path(file_okay=False), help="Folder that holds the data set's folder."),
        click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Data set option."),
        click.option("--evaluation", help="Which of the data set's evaluations (default: its first)."),
        click.option("--batch-size", type=click.IntRange(min=1), help="Images per batch."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _dataset(model: Any, dataset: str | None, root: str | None, options: tuple[str, ...]) -> Any:
    if dataset is not None:
        return dataset_from_options(dataset, root, options)
    if root is not None or options:
        raise click.UsageError("--root and --option need --dataset NAME")
    from reid_core.engine.setup import load_dataset

    return load_dataset(model.config)


def choose_queries(aps: np.ndarray, *, count: int | None, worst: int | None) -> list[int]:
    """``worst``: the valid queries with the lowest AP (ties: lower index first); else ``count``
    valid queries spread evenly over the split."""
    valid = np.nonzero(~np.isnan(aps))[0]
    if len(valid) == 0:
        raise click.ClickException("no query has a match in the gallery under this protocol: nothing to show")
    if worst is not None:
        order = valid[np.lexsort((valid, aps[valid]))]
        return [int(i) for i in order[:worst]]
    n = min(count or 8, len(valid))
    return [int(valid[i]) for i in np.linspace(0, len(valid) - 1, n).round().astype(int)]


@click.command("visualize")
@model_options
@device_option
@_dataset_options
@click.option("--features", "features_file", type=click.Path(exists=True, dir_okay=False),
              help="An .npz of reid extract --dataset (features, labels, paths) instead of --run.")
@click.option("--protocol", help="With --features: the evaluator (default market).")
@click.option("--queries", "count", type=click.IntRange(min=1), help="Show N queries spread over the split (default 8).")
@click.option("--worst", type=click.IntRange(min=1), help="Show the N queries with the lowest AP.")
@click.option("--top", type=click.IntRange(min=1, max=50), default=10, show_default=True, help="Gallery items per query.")
@click.option("--output", required=True, type=click.Path(dir_okay=False), help="ranks.png or ranks.html.")
@overwrite_option
def visualize_cmd(run_dir: str | None, checkpoint: str | None, method: str | None, sets: tuple[str, ...],
                  training_data: bool, device: str,
                  dataset: str | None, root: str | None, options: tuple[str, ...], evaluation: str | None,
                  batch_size: int | None, features_file: str | None, protocol: str | None, count: int | None,
                  worst: int | None, top: int, output: str, overwrite: bool) -> None:
    """Draw queries with their top-K gallery items: green = match, red = wrong identity, grey = ignored by
    the protocol (same camera, same/other clothes), with the reason; --worst picks the lowest-AP queries."""
    from reid_core.evaluation.explain import explain_rankings, query_aps
    from reid_core.visualize.features import (
        create_evaluator,
        evaluation_features,
        features_from_npz,
        pick_evaluation,
    )
    from reid_core.visualize.render import render_html, render_png

    if count is not None and worst is not None:
        raise click.UsageError("give --queries N or --worst N, not both")
    out = check_output_file(output, (".png", ".html"), overwrite=overwrite)
    if features_file is not None:
        if run_dir or checkpoint or dataset or evaluation:
            raise click.UsageError("--features replaces --run/--checkpoint, --dataset and --evaluation (use --protocol)")
        feats = features_from_npz(features_file, protocol or "market")
        source = Path(features_file).name
    else:
        if protocol is not None:
            raise click.UsageError("--protocol goes with --features; with a run, pick one of the data set's "
                                   "evaluations with --evaluation KEY")
        model = load_model(run_dir, checkpoint, method, sets, device, training_data)
        data = _dataset(model, dataset, root, options)
        spec = pick_evaluation(data, evaluation)
        with cli_logging():
            feats = evaluation_features(model, data, spec, batch_size=batch_size)
        source = f"{model.name} on {getattr(data, 'name', dataset)}"
    evaluator = create_evaluator(feats.spec)
    query, gallery = feats.labels()
    aps = query_aps(evaluator, feats.query_features, feats.gallery_features, query, gallery, metric=feats.metric)
    chosen = choose_queries(aps, count=count, worst=worst)
    ranked = explain_rankings(evaluator, feats.query_features, feats.gallery_features, query, gallery,
                              queries=chosen, top=top, metric=feats.metric)
    which = f"the {len(chosen)} lowest-AP queries" if worst is not None else f"{len(chosen)} queries"
    title = (f"{source}, {feats.spec.key} protocol: {which}, top {top} "
             f"(mAP {np.nanmean(aps):.1f}% over {int((~np.isnan(aps)).sum())} queries)")
    if out.suffix.lower() == ".html":
        atomic_write_text(render_html(ranked, feats.query, feats.gallery, title=title), out)
    else:
        import io

        buffer = io.BytesIO()
        render_png(ranked, feats.query, feats.gallery, title=title).save(buffer, format="PNG", optimize=True)
        atomic_write_bytes(buffer.getvalue(), out)
    click.echo(f"wrote {out}: {title}")


@click.command("plot")
@click.option("--run", "run_dir", required=True, type=click.Path(file_okay=False), help="A run folder.")
@_dataset_options
@click.option("--output", type=click.Path(dir_okay=False), help="Image file (.png, .svg, .pdf; default RUN/plots.png).")
@click.option("--cmc/--no-cmc", default=True, show_default=True,
              help="Add the CMC curve of the best checkpoint (extracts the evaluation features).")
@device_option
@overwrite_option
def plot_cmd(run_dir: str, dataset: str | None, root: str | None, options: tuple[str, ...], evaluation: str | None,
             batch_size: int | None, output: str | None, cmc: bool, device: str, overwrite: bool) -> None:
    """Plot a run: the CMC curve of its best checkpoint and its per-epoch evaluation metrics and losses."""
    from reid_core.visualize.plots import plot_run, run_history

    out = check_output_file(output or str(Path(run_dir) / "plots.png"), (".png", ".svg", ".pdf"), overwrite=overwrite)
    history = run_history(Path(run_dir))
    curves: dict[str, np.ndarray] = {}
    title = Path(run_dir).name
    if cmc:
        from reid_core.visualize.features import create_evaluator, evaluation_features, pick_evaluation

        model = load_model(run_dir, None, None, (), device)
        data = _dataset(model, dataset, root, options)
        specs = [pick_evaluation(data, evaluation)] if evaluation else list(data.evaluations)
        for spec in specs:
            with cli_logging():
                feats = evaluation_features(model, data, spec, batch_size=batch_size)
            query, gallery = feats.labels()
            result = create_evaluator(spec, cmc_curve=True).evaluate(
                feats.query_features, feats.gallery_features, query, gallery, metric=feats.metric)
            curves[spec.key] = np.asarray(result["cmc"])
        title = f"{title}: {model.name} on {getattr(data, 'name', '')}"
    atomic_write_bytes(plot_run(history, curves, title=title, image_format=out.suffix.lower()[1:]), out)
    click.echo(f"wrote {out} ({len(history)} epochs{', CMC of ' + ', '.join(curves) if curves else ''})")

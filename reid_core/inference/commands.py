"""``reid extract`` and ``reid export``: features and deployable models from a trained run."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from reid_core.methods.base import ExportError


def model_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--run DIR | --checkpoint FILE [--method NAME]`` and ``--set``."""
    options = [
        click.option("--run", "run_dir", type=click.Path(file_okay=False), help="A run folder (reid run --output)."),
        click.option("--checkpoint", type=click.Path(dir_okay=False), help="A checkpoint file instead of --run."),
        click.option("--method", help="The checkpoint's method (checked against the one it names)."),
        click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                     help="Override a saved config key, e.g. baseline.flip=true."),
        click.option("--training-data", is_flag=True,
                     help="Build the method from its training data set (saved config) instead of the labels "
                          "the checkpoint carries (for methods that need more than labels)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


#: ``--device`` of the commands that run the model (export always traces on the CPU).
device_option = click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="cpu",
                             show_default=True, help="Where to run the model.")


@contextlib.contextmanager
def cli_logging() -> Iterator[None]:
    """Show the library's INFO lines (progress, what was skipped) on stderr while a command runs,
    unless logging is already configured."""
    root, package = logging.getLogger(), logging.getLogger("reid_core")
    if root.handlers or package.handlers:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level = package.level
    package.addHandler(handler)
    package.setLevel(logging.INFO)
    try:
        yield
    finally:
        package.removeHandler(handler)
        package.setLevel(level)


def load_model(run_dir: str | None, checkpoint: str | None, method: str | None, sets: tuple[str, ...],
               device: str, training_data: bool = False) -> Any:
    """The :class:`ReidModel` of ``--run`` or ``--checkpoint`` (exactly one)."""
    if (run_dir is None) == (checkpoint is None):
        raise click.UsageError("give exactly one of --run DIR or --checkpoint FILE")
    from reid_core.inference.loader import load

    return load(run_dir or checkpoint, method=method, sets=sets, device=device,  # type: ignore[arg-type]
                training_data=training_data)


def dataset_from_options(name: str, root: str | None, options: tuple[str, ...]) -> Any:
    """A registered data set from ``--dataset``, ``--root`` and ``--option key=value``."""
    from reid_core.plugins import get_registry
    from reid_core.resolve import parse_options

    return get_registry("datasets").create(name, root, **parse_options(options))


def check_output_file(
    output: str, suffixes: tuple[str, ...], flag: str = "--output", *, overwrite: bool = False
) -> Path:
    """``output`` as a path, if it ends in one of ``suffixes``, is not a folder and, unless
    ``overwrite``, does not exist yet (a usage error otherwise): nothing the user has is replaced
    without being asked."""
    path = Path(output)
    if path.suffix.lower() not in suffixes:
        raise click.BadParameter(f"{output!r} must end in {' or '.join(suffixes)}", param_hint=flag)
    if path.is_dir():
        raise click.BadParameter(f"{output!r} is a folder; give a file name", param_hint=flag)
    if path.exists() and not overwrite:
        raise click.BadParameter(
            f"{output!r} already exists; choose another file name, or pass --overwrite to replace it", param_hint=flag
        )
    return path


#: ``--overwrite``: the commands that write one file refuse an existing one without it.
overwrite_option = click.option(
    "--overwrite", is_flag=True, help="Replace the output file if it exists (written atomically)."
)


@click.command("extract")
@model_options
@device_option
@click.option("--images", metavar="DIR|GLOB", help="Image files: a folder (recursive) or a glob pattern.")
@click.option("--dataset", help="A registered data set (reid list datasets) instead of --images.")
@click.option("--root", type=click.Path(file_okay=False), help="Folder that holds the data set's folder.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Data set option.")
@click.option("--split", "splits", default="query,gallery", show_default=True,
              help="Comma-separated splits of --dataset.")
@click.option("--output", required=True, type=click.Path(dir_okay=False), help="The .npz file to write.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Images per batch (default: data.eval_batch_size).")
@click.option("--num-workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Loader processes that read images.")
@click.option("--skip-unreadable", is_flag=True, help="Leave unreadable images out (a warning names each) "
              "instead of stopping at the first.")
@overwrite_option
def extract_cmd(run_dir: str | None, checkpoint: str | None, method: str | None, sets: tuple[str, ...],
                training_data: bool, device: str, images: str | None, dataset: str | None, root: str | None, options: tuple[str, ...],
                splits: str, output: str, batch_size: int | None, num_workers: int, skip_unreadable: bool,
                overwrite: bool) -> None:
    """Write the test features of images or of data set splits to an .npz (reid evaluate-features reads it).

    \b
    reid extract --run runs/baseline-x --dataset market1501 --root /data --output feats.npz
    reid extract --run runs/baseline-x --images 'crops/*.jpg' --output crops.npz
    """
    from reid_core.inference.extract import extract_images, extract_splits, image_files, write_npz

    if (images is None) == (dataset is None):
        raise click.UsageError("give exactly one of --images DIR|GLOB or --dataset NAME")
    out = check_output_file(output, (".npz",), overwrite=overwrite)
    names = [s.strip() for s in splits.split(",") if s.strip()]
    if not names:
        raise click.BadParameter("give at least one split, e.g. query,gallery", param_hint="--split")
    files = image_files(images) if images is not None else []
    data = dataset_from_options(dataset, root, options) if dataset is not None else None
    if data is not None:
        for name in names:
            data.split(name)  # an unknown split is an error before any work
    from reid_core.engine import distributed

    info = distributed.setup(device)  # under torchrun: join the group, each rank extracts its share
    clean = False
    try:
        model = load_model(run_dir, checkpoint, method, sets, device, training_data)
        kwargs = {"batch_size": batch_size, "num_workers": num_workers, "skip_unreadable": skip_unreadable}
        with cli_logging():
            if data is None:
                arrays = extract_images(model, files, **kwargs)
            else:
                arrays = extract_splits(model, data, names, **kwargs)
        if info.is_main:
            write_npz(arrays, out)
            shapes = {k: list(v.shape) for k, v in arrays.items() if k.endswith("features")}
            click.echo(f"wrote {out}: {json.dumps(shapes)} (method {model.name}, metric {model.method.eval_metric})")
        clean = True
    finally:
        distributed.teardown(info, clean=clean)


@click.command("export")
@model_options
@click.option("--format", "fmt", type=click.Choice(["onnx", "torchscript"]), required=True)
@click.option("--output", required=True, type=click.Path(dir_okay=False), help="The file to write.")
@click.option("--tolerance", type=float, default=1e-4, show_default=True,
              help="Largest allowed |exported - eager| feature difference.")
@overwrite_option
def export_cmd(run_dir: str | None, checkpoint: str | None, method: str | None, sets: tuple[str, ...],
               training_data: bool, fmt: str, output: str, tolerance: float, overwrite: bool) -> None:
    """Export the test-time model (images [batch, 3, H, W] -> features [batch, D]) as ONNX or TorchScript.

    The model is traced on the CPU; the file is read back and checked against the eager model on
    two batch sizes.
    """
    from reid_core.inference.export import export_module

    out = check_output_file(output, (".onnx",) if fmt == "onnx" else (".pt", ".ts", ".torchscript"),
                            overwrite=overwrite)
    model = load_model(run_dir, checkpoint, method, sets, "cpu", training_data)
    height, width = model.config.data.height, model.config.data.width
    try:
        report = export_module(model.export_module(), out, fmt, height=height, width=width, tolerance=tolerance)
    except ExportError as exc:
        raise click.ClickException(f"cannot export method {model.name!r}: {exc}") from exc
    click.echo(
        f"wrote {report.path} ({fmt}): images [batch, 3, {height}, {width}] (the method's test transform) -> "
        f"features [batch, {report.feature_dim}]; max |exported - eager| = {report.max_abs_diff:.2e} "
        f"on batches of {', '.join(map(str, report.batch_sizes))}"
    )

"""``reid evaluate-features FILE.npz``: evaluate saved features (or a distance matrix) with a protocol."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import click
import numpy as np

from reid_core.evaluation.base import EvaluationError, SplitLabels
from reid_core.evaluation.distance import METRICS

SHOWN = ("rank1", "rank5", "rank10", "rank20", "mAP", "mINP")
LABEL_KEYS = ("pids", "camids", "clothes", "modality")


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file; unreadable files are an :class:`EvaluationError`."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise EvaluationError(f"{path}: cannot read as .npz ({exc}); save the arrays with numpy.savez") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise EvaluationError(
            f"{path} holds a single array (a .npy), not named arrays; save query_features, gallery_features, "
            "query_pids, gallery_pids, query_camids and gallery_camids with numpy.savez(FILE.npz, ...)"
        )
    try:
        with data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise EvaluationError(f"{path}: cannot read as .npz ({exc}); save the arrays with numpy.savez") from None


def npz_labels(arrays: dict[str, np.ndarray], side: str, path: Path) -> SplitLabels:
    """The ``side`` (``query``/``gallery``) labels of an ``.npz``'s arrays, checked (errors name the array)."""
    values: dict[str, Any] = {}
    for key in LABEL_KEYS:
        name = f"{side}_{key}"
        if name not in arrays:
            if key in ("pids", "camids"):
                raise EvaluationError(f"{path}: missing array {name!r} (have: {', '.join(sorted(arrays))})")
            continue
        array = arrays[name]
        if array.ndim != 1 or not (
            np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.bool_)
        ):
            raise EvaluationError(
                f"{path}: {name!r} must be a 1-D integer array, got shape {array.shape} dtype {array.dtype}"
            )
        values[key] = array
    n = len(values["pids"])
    for key, array in values.items():
        if len(array) != n:
            raise EvaluationError(
                f"{path}: {side}_{key!s} has shape {array.shape} but {side}_pids has shape ({n},); they must match"
            )
    return SplitLabels(**values)


def _check_features(
    arrays: dict[str, np.ndarray], query: SplitLabels, gallery: SplitLabels, path: Path
) -> None:
    if "distmat" in arrays and "query_features" not in arrays and "gallery_features" not in arrays:
        shape = arrays["distmat"].shape
        if shape != (len(query), len(gallery)):
            raise EvaluationError(
                f"{path}: distmat has shape {shape} but query_pids has {len(query)} entries and gallery_pids "
                f"{len(gallery)}; expected ({len(query)}, {len(gallery)})"
            )
        return
    for side, labels in (("query", query), ("gallery", gallery)):
        key = f"{side}_features"
        if key not in arrays:
            raise EvaluationError(
                f"{path}: missing array {key!r} (or a 'distmat'); have: {', '.join(sorted(arrays))}"
            )
        shape = arrays[key].shape
        if len(shape) != 2 or shape[0] != len(labels):
            raise EvaluationError(
                f"{path}: {key} has shape {shape} but {side}_pids has shape ({len(labels)},); "
                f"expected ({len(labels)}, dim)"
            )
    dims = arrays["query_features"].shape[1], arrays["gallery_features"].shape[1]
    if dims[0] != dims[1]:
        raise EvaluationError(
            f"{path}: query_features are {dims[0]}-d but gallery_features are {dims[1]}-d "
            f"(shapes {arrays['query_features'].shape} and {arrays['gallery_features'].shape})"
        )


def _parse_options(items: tuple[str, ...]) -> dict[str, str]:
    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise EvaluationError(f"--option {item!r}: expected KEY=VALUE, e.g. --option ap=trapezoid")
        options[key.strip()] = value.strip()
    return options


def run_evaluation(
    path: Path,
    protocol: str,
    metric: str = "euclidean",
    rerank: bool = False,
    options: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Load ``path`` and evaluate it with ``protocol``: the result dict with ``protocol`` first."""
    from reid_core.plugins import get_registry

    evaluator = get_registry("evaluators").create(protocol, **(options or {}))
    arrays = load_npz(path)
    query, gallery = npz_labels(arrays, "query", path), npz_labels(arrays, "gallery", path)
    _check_features(arrays, query, gallery, path)
    if "distmat" in arrays and "query_features" not in arrays:
        if rerank:
            raise EvaluationError(
                f"{path}: --rerank needs query_features and gallery_features, not only a distmat"
            )
        if not hasattr(evaluator, "evaluate_distance"):
            raise EvaluationError(
                f"evaluator {protocol!r} cannot evaluate a precomputed distmat; save features"
            )
        result = evaluator.evaluate_distance(arrays["distmat"], query, gallery)
    else:
        result = evaluator.evaluate(
            arrays["query_features"], arrays["gallery_features"], query, gallery, metric=metric, rerank=rerank
        )
    return {"protocol": protocol, **result}


def format_result(result: dict[str, Any]) -> str:
    """A two-line table: header and values."""
    columns = ["protocol", *SHOWN, "queries"]
    cells = [str(result["protocol"]), *(f"{result[m]:.2f}" for m in SHOWN), str(result["queries"])]
    widths = [max(len(c), len(v)) for c, v in zip(columns, cells)]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths)))

    text = f"{line(columns)}\n{line(cells)}"
    if result.get("skipped"):
        text += f"\n({result['skipped']} queries without a valid match were skipped)"
    return text


@click.command("evaluate-features")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--protocol",
    "-p",
    default="market",
    show_default=True,
    help="A registered evaluator (reid list evaluators).",
)
@click.option("--metric", type=click.Choice(METRICS), default=None,
              help="Distance (default: the file's 'metric' array, as reid extract writes it, else euclidean).")
@click.option("--rerank", is_flag=True, help="k-reciprocal re-ranking (k1=20, k2=6, lambda=0.3).")
@click.option(
    "--option",
    "-o",
    "option_items",
    multiple=True,
    metavar="KEY=VALUE",
    help="Evaluator option, e.g. ap=trapezoid, trials=10.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def evaluate_features(
    file: Path, protocol: str, metric: str | None, rerank: bool, option_items: tuple[str, ...], as_json: bool
) -> None:
    """Evaluate saved features: FILE.npz holds query_features, gallery_features (or distmat),
    query_pids, gallery_pids, query_camids, gallery_camids and optionally query_clothes,
    gallery_clothes, query_modality, gallery_modality (0 visible, 1 infrared) and metric
    (what reid extract writes)."""
    if metric is None:
        saved = load_npz(file).get("metric")
        metric = str(saved) if saved is not None and str(saved) in METRICS else "euclidean"
    result = run_evaluation(file, protocol, metric, rerank, _parse_options(option_items))
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(format_result(result))

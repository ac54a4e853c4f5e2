"""Evaluation glue: features of each protocol's query and gallery splits, fed to its evaluator.

A data set lists its evaluations (:class:`reid_core.datasets.EvalSpec`); the first one is the
main metric. Results are keyed by ``spec.key`` (the evaluator's registered name unless the
spec names itself), as in ``metrics.json``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import torch

from reid_core import config as cfg
from reid_core.config import ConfigError
from reid_core.engine import checkpoint as ckpt
from reid_core.engine import distributed
from reid_core.engine.errors import EngineError
from reid_core.engine.setup import load_dataset_once, restore_for_inference, seed_everything
from reid_core.evaluation.base import SplitLabels
from reid_core.models.weights import initial_weights_skipped
from reid_core.plugins import get_registry
from reid_core.registry import suggest

if TYPE_CHECKING:
    from reid_core.datasets.base import ReidDataset
    from reid_core.engine.context import RunContext
    from reid_core.methods.base import Method

logger = logging.getLogger(__name__)

METRIC_NAMES = ("rank1", "rank5", "rank10", "rank20", "mAP", "mINP")


def main_metric(best_metric: str, dataset: ReidDataset) -> tuple[str, str]:
    """``(evaluation key, metric)`` used to pick the best epoch: ``train.best_metric`` or the
    data set's first evaluation's rank-1 for ``auto``; an unknown name is a :class:`ConfigError`."""
    keys = [spec.key for spec in dataset.evaluations]
    if not keys:
        raise ConfigError(f"data set {dataset.name!r} declares no evaluation; it cannot be trained with reid run")
    if best_metric == "auto":
        return keys[0], "rank1"
    key, sep, metric = best_metric.rpartition("/")
    extra: list[str] = []
    for spec in dataset.evaluations:
        if spec.key == key:
            factory = get_registry("evaluators").get(spec.protocol).factory
            extra = list(getattr(factory, "metric_names", ()))
    if not sep or key not in keys or metric not in (*METRIC_NAMES, *extra):
        choices = [f"{k}/{m}" for k in keys for m in METRIC_NAMES]
        raise ConfigError(
            f"train.best_metric = {best_metric!r} is not a metric of data set {dataset.name!r}."
            f"{suggest(best_metric, choices)} Use 'auto' or one of: {', '.join(choices[:12])}..."
        )
    return key, metric


def _plain(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, torch.Tensor)):
        return float(value)
    return value


def evaluate(method: Method, context: RunContext, dataset: ReidDataset) -> dict[str, dict[str, Any]]:
    """Run every evaluation of ``dataset`` with ``method``'s test features; same result on every rank."""
    features: dict[str, torch.Tensor] = {}

    def split_features(name: str) -> torch.Tensor:
        if name not in features:
            features[name] = context.extract_features(dataset.split(name))
        return features[name]

    results: dict[str, dict[str, Any]] = {}
    registry = get_registry("evaluators")
    for spec in dataset.evaluations:
        query_features = split_features(spec.query)
        gallery_features = split_features(spec.gallery)
        if not context.is_main:
            continue
        evaluator = registry.create(spec.protocol, **spec.options)
        raw = evaluator.evaluate(
            query_features,
            gallery_features,
            SplitLabels.from_samples(dataset.split(spec.query)),
            SplitLabels.from_samples(dataset.split(spec.gallery)),
            metric=method.eval_metric,
        )
        results[spec.key] = {k: _plain(v) for k, v in raw.items()}
        shown = " ".join(f"{k}={results[spec.key][k]:.2f}" for k in METRIC_NAMES if k in results[spec.key])
        logger.info("eval %s: %s", spec.key, shown)
    return distributed.broadcast_object(results, context.dist)


def format_table(metrics: dict[str, dict[str, Any]], which: str = "last") -> str:
    """A plain-text table of ``metrics.json`` content (one row per evaluation).

    The last columns count the ranked queries and those skipped (identity not in the gallery,
    or every match excluded by the protocol), so that the table shows what ``metrics.json`` holds.
    """
    header = f"{'evaluation':<20}" + "".join(f"{m:>8}" for m in METRIC_NAMES) + f"{'queries':>9}{'skipped':>9}"
    rows = [header]
    for key, entry in metrics.items():
        values = entry.get(which, entry) if isinstance(entry, dict) else {}
        counts = "".join(f"{values[c]:>9d}" if isinstance(values.get(c), int) else f"{'-':>9}"
                         for c in ("queries", "skipped"))
        rows.append(f"{key:<20}" + "".join(f"{values.get(m, float('nan')):>8.2f}" for m in METRIC_NAMES) + counts)
    return "\n".join(rows)


def load_for_eval(method_cls: type[Method], checkpoint: Path) -> dict[str, Any]:
    """A checkpoint ``reid eval`` can use: readable, written by ``method_cls``, with finite weights."""
    state = ckpt.load(Path(checkpoint))
    if state.get("method") != method_cls.name:
        raise EngineError(
            f"checkpoint {str(checkpoint)!r} was written by method {state.get('method')!r}, not {method_cls.name!r}; "
            f"evaluate it with `reid eval {state.get('method')}`"
        )
    ckpt.check_finite_weights(state, Path(checkpoint))
    return state


def evaluate_checkpoint(
    method_cls: type[Method], config: Any, checkpoint: Path, *, dataset: Any = None, source: str = "reid"
) -> dict[str, dict[str, Any]]:
    """Evaluate a checkpoint written by :func:`reid_core.engine.train_run` on the data set of ``config``.

    The method's section and the image size come from the checkpoint's saved config (the model
    must match the weights); the data set, devices and batch sizes come from ``config``.

    ``source`` other than ``reid`` names a foreign layout (``reid eval --from``), e.g. the weights
    a paper's authors released: the method converts it (:meth:`Method.convert_checkpoint`) and the
    whole configuration, image size included, comes from ``config`` (use the ``paper`` profile).
    """
    if source != "reid":
        return _evaluate_foreign(method_cls, config, Path(checkpoint), source, dataset)
    state = load_for_eval(method_cls, Path(checkpoint))
    if state.get("config"):
        try:
            saved = cfg.loads_toml(type(config), state["config"])
        except (ConfigError, ValueError) as exc:
            raise EngineError(f"checkpoint {str(checkpoint)!r} holds a config this version cannot read: {exc}") from None
        section = method_cls.name.replace("-", "_")
        data = attrs.evolve(config.data, height=saved.data.height, width=saved.data.width)
        config = attrs.evolve(config, data=data, **{section: getattr(saved, section)})

    def load(method: Method) -> None:
        skipped = restore_for_inference(method, state, path=checkpoint, test_only=True)
        if skipped and method.ctx.dist.is_main:
            trained_on = ckpt.run_identity(state, type(config))["dataset"] or "another data set"
            logger.info("cross-domain evaluation (trained on %s, tested on %s): ignored training-only weights %s",
                        trained_on, config.data.dataset, ", ".join(skipped))

    return _evaluate_loaded(method_cls, config, Path(checkpoint), dataset, load)


def check_foreign_format(method_cls: type[Method], source: str) -> None:
    """``--from source`` names a layout the method converts, else an :class:`EngineError` listing them."""
    formats = tuple(method_cls.checkpoint_formats)
    if source not in formats:
        known = ", ".join(map(repr, ("reid", *formats)))
        raise EngineError(f"--from {source!r}: method {method_cls.name!r} reads checkpoints of {known}")


def _evaluate_foreign(
    method_cls: type[Method], config: Any, checkpoint: Path, source: str, dataset: Any
) -> dict[str, dict[str, Any]]:
    check_foreign_format(method_cls, source)
    raw = ckpt.load_foreign(checkpoint)

    def load(method: Method) -> None:
        stages = list(method.stages())
        method.reset()
        method.setup_stage(stages[-1])  # the last stage: the final network
        try:
            converted = method.convert_checkpoint(source, raw)
        except (KeyError, ValueError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            raise EngineError(f"{str(checkpoint)!r} is not a {source!r} {method_cls.name} checkpoint: {message}") from None
        modules = method.modules()
        unknown = sorted(set(converted) - set(modules))
        if unknown:
            raise EngineError(f"convert_checkpoint returned unknown module(s) {unknown}; the method has {sorted(modules)}")
        for name, weights in converted.items():
            try:
                ckpt.unwrap(modules[name]).load_state_dict(weights, strict=True)
            except RuntimeError as exc:
                detail = " ".join(str(exc).split())[:600]
                raise EngineError(f"{str(checkpoint)!r}: the {source!r} weights do not fit module {name!r} "
                                  f"(check the profile/config, e.g. the backbone): {detail}") from None
        method.train(False)
        logger.info("loaded %s weights of %s from %s", source, ", ".join(converted), checkpoint)

    return _evaluate_loaded(method_cls, config, checkpoint, dataset, load)


def _evaluate_loaded(
    method_cls: type[Method], config: Any, checkpoint: Path, dataset: Any, load: Any
) -> dict[str, dict[str, Any]]:
    """Build the method, let ``load(method)`` set up its stage and weights, and evaluate."""
    from reid_core.engine.context import RunContext

    info = distributed.setup(config.train.device)
    clean = False
    try:
        seed_everything(config.train.seed)
        data_set = dataset if dataset is not None else load_dataset_once(config, info)
        context = RunContext(config, data_set, info, Path(checkpoint).parent)
        with initial_weights_skipped():  # the checkpoint's weights replace any initialisation
            method = method_cls(config, context)
            context.method = method
            load(method)
        results = evaluate(method, context, data_set)
        if info.is_main:
            logger.info("results:\n%s", format_table(results, "last"))
        clean = True
        return results
    finally:
        distributed.teardown(info, clean=clean)

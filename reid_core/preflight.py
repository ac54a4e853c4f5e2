"""Checks before a run folder exists: everything that can fail without training fails here.

``reid run`` and ``reid eval`` call :func:`check_run` / :func:`check_eval` before the engine
starts, so that a typo, an impossible batch, a misspelt metric, a broken image or an output folder
that holds someone's work is one ``Error:`` line, and nothing was written. ``--dry-run`` stops after
them and prints the resolved config and a one-line plan.

New run options (other data sources, repeated trials...) add their checks here, so that the
commands stay thin: each check is a small function of the config and the data set.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from reid_core import config as cfg
from reid_core.datasets.base import DatasetError
from reid_core.methods.base import Method

logger = logging.getLogger(__name__)


@attrs.frozen
class Preflight:
    """What the checks found: the config to run (a resumed run's saved one), the loaded data set
    (``None`` under ``torchrun``, where each rank loads it in turn) and the output folder's state."""

    config: Any
    dataset: Any
    folder: str


# -- single checks --------------------------------------------------------------------------------
def check_batches(method_cls: type[Method], config: Any, dataset: Any) -> None:
    """P x K batches are possible: ``data.batch_size`` a multiple of ``data.num_instances``, and enough
    identities in the train split for one batch (methods with ``identity_batches = False`` choose
    their own batches, e.g. from pseudo labels)."""
    if not getattr(method_cls, "identity_batches", True):
        return
    data = config.data
    batch, k = data.batch_size, data.num_instances
    if batch < k or batch % k:
        fixed = max(k, batch // k * k)
        raise cfg.ConfigError(
            f"data.batch_size ({batch}) must be a multiple of data.num_instances ({k}): a batch is P identities x "
            f"K images; e.g. --set data.batch_size={fixed}"
        )
    from reid_core.data.samplers import build_sampler

    build_sampler(  # raises DatasetError naming P, K and the usable identities when one batch cannot be filled
        "identity", pids=[s.pid for s in dataset.train], batch_size=batch, num_instances=k, seed=0
    )


def check_metric_name(config: Any, dataset: Any) -> str:
    """``train.best_metric`` names a metric of one of the data set's evaluations (``key/metric``)."""
    from reid_core.engine.evaluate import main_metric

    key, name = main_metric(config.train.best_metric, dataset)
    return f"{key}/{name}"


def check_images(dataset: Any, splits: Sequence[str]) -> int:
    """Every image of ``splits`` opens (its header is read, not the whole image); returns how many.

    Test images are read only at the first evaluation, after training: a broken one must stop the
    run before it starts, not after an epoch that would then be lost.
    """
    from PIL import Image, UnidentifiedImageError

    seen: set[str] = set()
    for split in splits:
        for sample in dataset.split(split):
            path = str(sample.path)
            if path in seen:
                continue
            seen.add(path)
            try:
                with Image.open(path) as img:
                    img.size  # noqa: B018 (the header is parsed by open)
            except FileNotFoundError:
                raise DatasetError(f"image file {path} ({split} split) does not exist; is the data set complete?") from None
            except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
                raise DatasetError(
                    f"image file {path} ({split} split) cannot be read ({type(exc).__name__}: {exc}); it is broken "
                    "or not an image: re-extract or re-download it, or remove it from the data set"
                ) from None
    return len(seen)


def eval_splits(dataset: Any) -> list[str]:
    """The query and gallery splits of every evaluation of ``dataset``, without repeats."""
    names: list[str] = []
    for spec in dataset.evaluations:
        for name in (spec.query, spec.gallery):
            if name not in names:
                names.append(name)
    return names


def load_dataset(config: Any) -> Any:
    """The data set of ``config`` (in a single process; ``None`` under ``torchrun``)."""
    from reid_core.engine import distributed
    from reid_core.engine.setup import load_dataset as load

    if distributed.env_world_size() > 1:
        return None
    return load(config)


# -- the commands' checks --------------------------------------------------------------------------
def check_run(
    method_cls: type[Method],
    config: Any,
    *,
    output_dir: Path,
    resume: bool,
    typed: Sequence[Mapping[str, Any]] | None = None,
    dataset: Any = None,
    all_images: bool = False,
) -> Preflight:
    """Every check of ``reid run`` that needs no training, in the order that fails fastest.

    The output folder first (nothing loaded yet), then the config that will run (a resumed run's
    saved one, with the typed changes it accepts), the data set, the best-metric name, P x K
    feasibility and the test images (``all_images``: the train images too).
    """
    from reid_core.engine.resume import reconcile_folder

    folder, reconciled, last = reconcile_folder(method_cls.name, config, Path(output_dir), resume=resume, typed=typed)
    config = reconciled.config
    if last is not None:  # a checkpoint of another run is refused before the data set is loaded
        from reid_core.engine import checkpoint as ckpt

        ckpt.verify_run(ckpt.load(last), config, method_cls.name, last, Path(output_dir) / "config.toml")
    if dataset is None:
        dataset = load_dataset(config)
    if dataset is not None:
        method_cls.check_data(config, dataset)
        check_metric_name(config, dataset)
        check_batches(method_cls, config, dataset)
        check_images(dataset, (["train"] if all_images else []) + eval_splits(dataset))
    return Preflight(config=config, dataset=dataset, folder=folder)


def check_eval(
    method_cls: type[Method], config: Any, checkpoint: Path, *, all_images: bool = False, source: str = "reid"
) -> Any:
    """``reid eval``'s checks: the checkpoint is this method's and finite (or, with ``--from``, a
    layout the method converts, readable without unpickling code), the data set loads and its test
    images open. Returns the data set (``None`` under ``torchrun``)."""
    from reid_core.engine.evaluate import check_foreign_format, load_for_eval

    if source == "reid":
        load_for_eval(method_cls, Path(checkpoint))
    else:
        from reid_core.engine import checkpoint as ckpt

        check_foreign_format(method_cls, source)
        ckpt.load_foreign(Path(checkpoint))
    dataset = load_dataset(config)
    if dataset is not None:
        check_images(dataset, (["train"] if all_images else []) + eval_splits(dataset))
    return dataset


# -- --dry-run ---------------------------------------------------------------------------------------
def _iterations(method: Method, stage: Any, max_iters: int) -> str:
    """Iterations per epoch of ``stage`` as the engine will count them ("?" when only training can tell)."""
    count: int | None = stage.iters_per_epoch
    if count is None:
        try:  # a method whose loaders need the epoch's pseudo labels cannot tell yet
            loaders = dict(method.train_loaders(stage))
            first = next(iter(loaders.values()))
            count = len(first)  # type: ignore[arg-type]
        except (AttributeError, TypeError, ValueError, RuntimeError, StopIteration):
            count = None
    if count is None:
        return "? (set by the data of each epoch)"
    return str(min(count, max_iters) if max_iters else count)


def plan_run(method_cls: type[Method], config: Any, dataset: Any, output_dir: Path, folder: str) -> str:
    """The one-line plan of a run: data set sizes, stages, epochs, iterations per epoch, evaluations.

    The method is built on the CPU (which also finds its pretrained weights files); nothing is written.
    """
    from reid_core.engine import distributed
    from reid_core.engine.context import RunContext

    if dataset is None:
        dataset = load_dataset_for_plan(config)
    context = RunContext(config, dataset, distributed.DistInfo(), Path(output_dir))
    method = method_cls(config, context)
    context.method = method
    stages = list(method.stages())
    parts = []
    for index, stage in enumerate(stages):
        method.reset()
        method.setup_stage(stage)  # builds the model: pretrained weights are looked up here
        if index == 0:
            iters = _iterations(method, stage, config.train.max_iters)
        else:
            iters = str(stage.iters_per_epoch or "?")
        parts.append(f"{stage.name} {stage.epochs} epoch(s) x {iters} iterations")
    total = sum(s.epochs for s in stages)
    every = config.train.eval_every
    evals = sorted({e for e in range(every, total + 1, every)} | {total}) if every else [total]
    sizes = ", ".join(
        f"{name} {len(dataset.split(name))} images/{len({s.pid for s in dataset.split(name)})} ids"
        for name in ["train", *eval_splits(dataset)]
    )
    action = {"new": "new run", "restart": "restart (no epoch finished)", "resume": "resume"}.get(folder, folder)
    shown = ", ".join(map(str, evals[:6])) + (", ..." if len(evals) > 6 else "")
    return (
        f"plan: {method_cls.name} on {config.data.dataset} ({sizes}); stages: {'; '.join(parts)}; "
        f"{len(evals)} evaluation(s) at epoch {shown} ({', '.join(s.key for s in dataset.evaluations)}, best by "
        f"{check_metric_name(config, dataset)}); {action} in {output_dir}"
    )


def load_dataset_for_plan(config: Any) -> Any:
    """The data set, also under ``torchrun`` (a dry run trains nothing, so no rank waits for another)."""
    from reid_core.engine.setup import load_dataset as load

    return load(config)


def plan_eval(method_cls: type[Method], config: Any, checkpoint: Path, dataset: Any, source: str = "reid") -> str:
    """The one-line plan of ``reid eval``: the checkpoint, what it was trained on, and the test splits."""
    from reid_core.engine import checkpoint as ckpt

    if dataset is None:
        dataset = load_dataset_for_plan(config)
    if source == "reid":
        state = ckpt.load(Path(checkpoint))
        trained_on = ckpt.run_identity(state, type(config))["dataset"] or "?"
    else:  # foreign weights carry no reid metadata
        state, trained_on = {"epoch": f"? ({source} layout)"}, "?"
    sizes = ", ".join(f"{name} {len(dataset.split(name))} images" for name in eval_splits(dataset))
    transfer = " (cross-domain)" if trained_on not in ("?", config.data.dataset) else ""
    return (
        f"plan: evaluate {checkpoint} ({method_cls.name}, trained on {trained_on}, epoch {state.get('epoch', '?')}) "
        f"on {config.data.dataset}{transfer} ({sizes}); evaluations: {', '.join(s.key for s in dataset.evaluations)}"
    )

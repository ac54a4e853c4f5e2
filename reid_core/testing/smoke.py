"""``run_method_smoke``: train a registered method a few steps on a tiny data set, evaluate, resume.

What one call checks, with the real engine (the path ``reid run`` takes):

1. the method trains on the tiny data set (``train.max_iters`` steps per epoch, on the CPU);
2. with more than one epoch, the run is interrupted after its first epoch and resumed from
   ``checkpoints/last.pt`` (the interrupted run must have written it); with one epoch, the
   finished run is resumed and must return its metrics unchanged;
3. every evaluation of the data set produced finite metrics in [0, 100], ``metrics.json`` holds them;
4. evaluating ``checkpoints/last.pt`` again (``reid eval``'s path) gives the same numbers.

The method's ``smoke`` profile is used when it has one (a plugin's tiny settings: small widths,
two epochs), else its ``quick`` profile; ``sets`` override any key as ``--set`` does.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs

from reid_core.hookspecs import hookimpl
from reid_core.testing.datasets import KINDS, tiny_options
from reid_core.testing.managers import active_plugin_manager

#: Settings of every smoke run (before the profile's own and the caller's ``sets``).
SMOKE_SETS = (
    "data.height=32",
    "data.width=16",
    "data.batch_size=8",
    "data.num_instances=2",
    "data.eval_batch_size=16",
    "data.num_workers=0",
    "train.max_iters=2",
    "train.eval_every=0",
    "train.log_every=1",
)


class SmokeInterrupt(BaseException):  # a BaseException, like KeyboardInterrupt: passes through the engine
    """Raised by the smoke observer after the first epoch (what a Ctrl-C would do)."""


class _StopAfterFirstEpoch:
    """An engine observer that interrupts a run of several epochs after its first one."""

    def __init__(self) -> None:
        self.fired = False

    @hookimpl
    def reid_epoch_end(self, run: Any, epoch: int, metrics: dict[str, float]) -> None:
        total = sum(stage.epochs for stage in run.stages)
        if not self.fired and run.epoch == 1 and total > 1:
            self.fired = True
            raise SmokeInterrupt


@attrs.frozen
class SmokeResult:
    """What a smoke run produced: the resolved config, the run folder, ``metrics.json``, the
    history (one entry per epoch), whether it was interrupted and resumed, and the re-evaluation."""

    config: Any
    output_dir: Path
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    resumed: bool
    reevaluated: dict[str, Any]


def _dataset_args(dataset: str | Any) -> tuple[str | None, dict[str, str] | None, Any]:
    """``(data set name, options, object)`` for a kind, a registered name or a data set object."""
    if isinstance(dataset, str):
        if dataset in KINDS:
            name, options = tiny_options(dataset)
            return name, options, None
        return dataset, None, None
    return None, None, dataset


def _check_metrics(metrics: dict[str, Any], keys: Sequence[str], where: str) -> None:
    missing = [k for k in keys if k not in metrics]
    if missing:
        raise AssertionError(f"{where}: no results for evaluation(s) {missing}; got {sorted(metrics)}")
    for key, entry in metrics.items():
        for name in ("rank1", "mAP"):
            value = entry["last"].get(name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or not 0.0 <= value <= 100.0:
                raise AssertionError(f"{where}: {key}/{name} = {value!r} is not a percentage")


def run_method_smoke(
    name: str,
    dataset: str | Any = "market",
    *,
    sets: Sequence[str] = (),
    profile: str | None = None,
    output_dir: str | Path | None = None,
    plugins: Sequence[ModuleType | object] = (),
    resume: bool = True,
    reevaluate: bool = True,
    tolerance: float = 1e-3,
) -> SmokeResult:
    """Train method ``name`` a few steps, evaluate, interrupt and resume, re-evaluate the checkpoint.

    Args:
        name: the registered method name (installed, or from ``plugins``).
        dataset: a tiny kind (``market``, ``cloth-changing``, ``infrared``, ``two-domains``,
            ``keypoints``), a registered data set name (then give its size with ``data.options``
            in ``sets`` or a ``data.root``), or a data set object.
        sets: ``--set`` style overrides (``"mymethod.width=8"``), applied last.
        profile: the method's profile (default: ``smoke`` when defined, else ``quick``).
        output_dir: the run folder (default: a new temporary folder).
        plugins: plugin modules or objects to register besides the installed ones (a plugin under
            development that is not installed yet).
        resume: interrupt after the first epoch and resume (needs two epochs or more).
        reevaluate: evaluate ``checkpoints/last.pt`` again and compare with the run's last results.
        tolerance: largest difference allowed between the run's and the re-evaluation's metrics.

    Returns:
        a :class:`SmokeResult`; a failed check raises ``AssertionError`` saying which.
    """
    from reid_core.engine import evaluate_checkpoint, train_run
    from reid_core.engine.setup import load_dataset
    from reid_core.plugins import ReidPluginManager
    from reid_core.resolve import method_class, resolve_run_config

    out = Path(output_dir) if output_dir is not None else Path(tempfile.mkdtemp(prefix=f"reid-smoke-{name}-"))
    stopper = _StopAfterFirstEpoch()
    manager = ReidPluginManager()
    for i, plugin in enumerate(plugins):
        manager.register_plugin(plugin, getattr(plugin, "__name__", f"smoke-plugin-{i}"))
    manager.register_plugin(stopper, "reid-smoke-stopper")
    with active_plugin_manager(manager):
        cls = method_class(name)
        if profile is None:
            profile = "smoke" if "smoke" in cls.profiles else ("quick" if "quick" in cls.profiles else None)
        data_name, options, data_object = _dataset_args(dataset)
        config = resolve_run_config(cls, dataset=data_name, options=options, profile=profile,
                                    sets=[*SMOKE_SETS, *sets], device="cpu")
        data = data_object if data_object is not None else load_dataset(config)
        keys = [spec.key for spec in data.evaluations]
        interrupted = False
        try:
            first = train_run(cls, config, output_dir=out, dataset=data)
        except SmokeInterrupt:
            interrupted = True
            if not (out / "checkpoints" / "last.pt").exists():
                raise AssertionError(f"{name}: interrupted after epoch 1 but no checkpoints/last.pt in {out}") from None
        resumed = False
        if interrupted or resume:
            metrics = train_run(cls, config, output_dir=out, resume=True, dataset=data)
            resumed = interrupted
            if not interrupted and metrics != first:
                raise AssertionError(f"{name}: resuming the finished run changed its metrics")
        else:
            metrics = first
        _check_metrics(metrics, keys, name)
        written = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
        if set(written) != set(metrics):
            raise AssertionError(f"{name}: metrics.json holds {sorted(written)}, the run returned {sorted(metrics)}")
        import torch

        state = torch.load(out / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
        history = list(state.get("history", []))
        if len(history) != state.get("epoch"):
            raise AssertionError(f"{name}: the checkpoint's history has {len(history)} entries for "
                                 f"{state.get('epoch')} epochs")
        again: dict[str, Any] = {}
        if reevaluate:
            again = evaluate_checkpoint(cls, config, out / "checkpoints" / "last.pt", dataset=data)
            for key in keys:
                for metric in ("rank1", "mAP"):
                    a, b = metrics[key]["last"][metric], again[key][metric]
                    if abs(a - b) > tolerance:
                        raise AssertionError(f"{name}: re-evaluating last.pt gave {key}/{metric} = {b}, "
                                             f"the run gave {a}")
    return SmokeResult(config, out, metrics, history, resumed, again)


__all__ = ["SMOKE_SETS", "SmokeInterrupt", "SmokeResult", "run_method_smoke"]

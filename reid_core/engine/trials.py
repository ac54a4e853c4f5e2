"""Repeated runs over trials: ``reid run METHOD --trials 1-10``.

Each trial is an ordinary run in ``<output>/trial-<k>/``, trained one after the other. A data set
with a trial option (``ReidDataset.trial_option``; RegDB's ``trial``: train and test lists of
trial k) gets ``--option <trial_option>=k``; any other data set keeps its data and trial k uses
``train.seed + k - 1``. ``resume`` continues trial by trial: finished trials are read back,
an interrupted one continues from its last checkpoint, missing ones start.

The parent's ``metrics.json`` has, per evaluation key, the mean over trials of the ``last`` and the
``best`` results, their sample standard deviation (``last_std``, ``best_std``; 0 for one trial), the
trial numbers and each trial's own metrics (``per_trial``).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from reid_core.config import ConfigError
from reid_core.engine.checkpoint import atomic_write_text
from reid_core.engine.errors import EngineError
from reid_core.engine.runner import train_run
from reid_core.methods.base import Method

logger = logging.getLogger(__name__)

MAX_TRIALS = 1000


def parse_trials(spec: str) -> list[int]:
    """``"1-10"``, ``"3"`` or ``"1,4,7-9"`` -> the trial numbers (ascending, each once, all >= 1)."""
    trials: set[int] = set()
    for part in str(spec).split(","):
        part = part.strip()
        low, sep, high = part.partition("-")
        try:
            first, last = (int(low), int(high)) if sep else (int(part), int(part))
        except ValueError:
            first, last = 0, -1
        if first < 1 or last < first or last - first >= MAX_TRIALS:
            raise ConfigError(f"--trials {spec!r}: expected trial numbers >= 1 such as 1-10, 3 or 1,4,7-9")
        trials.update(range(first, last + 1))
    if len(trials) > MAX_TRIALS:
        raise ConfigError(f"--trials {spec!r}: at most {MAX_TRIALS} trials")
    return sorted(trials)


def trial_option(dataset_name: str) -> str | None:
    """The data set's trial option name (``None`` when it has none: trials then vary the seed)."""
    from reid_core.plugins import get_registry

    factory = get_registry("datasets").get(dataset_name).factory
    return getattr(factory, "trial_option", None)


def trial_config(config: Any, trial: int, option: str | None) -> Any:
    """The run config of ``trial``: the data set's trial option set to it, or the seed shifted by it."""
    if option is not None:
        data = attrs.evolve(config.data, options={**dict(config.data.options), option: str(trial)})
        return attrs.evolve(config, data=data)
    return attrs.evolve(config, train=attrs.evolve(config.train, seed=config.train.seed + trial - 1))


def _stats(values: Sequence[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def aggregate(per_trial: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    """The parent ``metrics.json`` from each trial's ``metrics.json`` (module docstring)."""
    trials = sorted(per_trial)
    keys = [k for k in per_trial[trials[0]] if all(k in per_trial[t] for t in trials)]
    out: dict[str, Any] = {}
    for key in keys:
        entry: dict[str, Any] = {"trials": trials}
        for which in ("last", "best"):
            results = [per_trial[t][key].get(which, {}) for t in trials]
            names = [n for n, v in results[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)
                     and all(n in r for r in results)]
            means, stds = {}, {}
            for name in names:
                means[name], stds[name] = _stats([float(r[name]) for r in results])
            entry[which], entry[f"{which}_std"] = means, stds
        entry["per_trial"] = {str(t): per_trial[t][key] for t in trials}
        out[key] = entry
    return out


def run_trials(
    method_cls: type[Method], config: Any, *, output_dir: Path, trials: Sequence[int], resume: bool = False,
    typed: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Train ``trials`` one after the other into ``output_dir/trial-<k>``; write and return the aggregate.

    ``typed``: the layers the user typed, as :func:`reid_core.engine.train_run` takes them (resume checks).
    """
    output_dir = Path(output_dir)
    if not trials:
        raise ConfigError("--trials: no trial given")
    if not resume:
        started = [t for t in trials if (output_dir / f"trial-{t}" / "config.toml").exists()]
        if started:
            raise EngineError(
                f"output folder {str(output_dir)!r} already holds trial(s) {started}; pass --resume to "
                "continue them, or choose another --output"
            )
    option = trial_option(config.data.dataset)
    how = f"--option {option}=k" if option else f"train.seed + k - 1 (data set {config.data.dataset!r} has no trials)"
    logger.info("trials %s of %s on %s (%s) -> %s", list(trials), method_cls.name, config.data.dataset, how, output_dir)
    per_trial: dict[int, dict[str, Any]] = {}
    for trial in trials:
        folder = output_dir / f"trial-{trial}"
        again = resume and (folder / "config.toml").exists()
        logger.info("trial %d: %s %s", trial, "continuing" if again else "starting", folder)
        per_trial[trial] = train_run(
            method_cls, trial_config(config, trial, option), output_dir=folder, resume=again, typed=typed
        )
        metrics = aggregate(per_trial)
        atomic_write_text(json.dumps(metrics, indent=2) + "\n", output_dir / "metrics.json")
    return aggregate(per_trial)

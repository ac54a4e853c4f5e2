"""Flat comparisons: every arm once per seed on one data set (or a ``source`` -> target pair), no dial.

A comparison script (``camc.py``, ``ivreid.py``, ``camera_mixup.py``) declares its arms (method names
or variants of one method), its budget options and its table; :func:`flat_parser` / :func:`flat_args`
give it the common options (comma-separated ``--seeds`` and ``--arms``, ``--out``, the image cache,
one more ``--set`` for every arm, ``--readme``), :func:`compare` trains every (seed, arm) through the
engine in a temporary folder, :func:`flat_report` is the provenance of the raw json (date, commit read
before the runs, synthetic generator version, seeds, budget, torch threads, command) and
:func:`write_flat` writes ``<out>/<name>.json``, ``<out>/<name>.md`` and the README block between the
script's own markers. :func:`run_comparison` does all of it for methods compared by rank-1 and mAP per
evaluation (:func:`comparison_table`: mean and min-max over the seeds). The dial sweeps (``aim.py``,
``icsr.py``) use ``_common.sweep``; both share ``_common``'s provenance, runner and README block.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _common import block_problem, command_line, git_commit, markdown_rows, replace_block, train_arm


def flat_parser(
    description: str, *, arms: Sequence[str], seeds: str, out: Path, readme: str | None = None,
    set_flag: str = "--extra-set", cache_flag: str = "--cache-dir", cache_default: Path | None = None,
    data_seed: bool = True,
) -> argparse.ArgumentParser:
    """The options of a flat comparison (it adds its budget options); parse them with :func:`flat_args`.

    ``--seeds`` and ``--arms`` are comma-separated; ``set_flag`` (``args.sets``) adds a ``--set`` to every
    arm, ``cache_flag`` (``args.cache_dir``) names the synthetic image cache; ``readme`` (the block's
    name) adds ``--readme FILE``.
    """
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--seeds", default=seeds, help=f"comma-separated training seeds (default {seeds})")
    if data_seed:
        parser.add_argument("--data-seed", type=int, default=0, help="synthetic world seed")
    parser.add_argument("--arms", default=",".join(arms), help="comma-separated arms")
    parser.add_argument("--out", type=Path, default=out, help="folder of the json and the markdown table")
    if readme:
        parser.add_argument("--readme", type=Path, help=f"also replace the {readme} block of this file")
    cache = cache_default or "the generator's"
    parser.add_argument(cache_flag, dest="cache_dir", type=Path, default=cache_default, metavar="DIR",
                        help=f"synthetic image cache (default: {cache})")
    parser.add_argument(set_flag, dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="one more --set for every arm")
    return parser


def flat_args(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None, arms: Sequence[str],
    markers: tuple[str, str] | None = None,
) -> argparse.Namespace:
    """Parse ``argv``: ``seeds`` and ``arms`` as lists (an unknown arm or a README without ``markers`` is an
    error before anything runs) and ``argv`` kept for the command line of the report."""
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--seeds {args.seeds!r}: give comma-separated integers, e.g. 0,1")
    args.arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    unknown = [a for a in args.arms if a not in arms]
    if unknown:
        parser.error(f"unknown arm(s) {', '.join(unknown)}; arms: {', '.join(arms)}")
    problem = block_problem(args.readme, markers) if markers and getattr(args, "readme", None) else None
    if problem:
        parser.error(problem)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    return args


def compare(
    arms: Sequence[str], seeds: Sequence[int], run: Callable[[str, int, Path], dict[str, Any]], *, prefix: str,
) -> list[dict[str, Any]]:
    """``run(arm, seed, folder)`` for every seed and arm, in a temporary folder; the runs in that order.

    Each run is a dict with at least ``metrics`` and ``seconds`` (printed as it ends)."""
    runs = []
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        for seed in seeds:
            for arm in arms:
                result = run(arm, seed, Path(tmp) / f"{arm}-seed{seed}")
                print(f"{arm} seed {seed}: {json.dumps(result['metrics'])} ({result['seconds']} s)", flush=True)
                runs.append(result)
    return runs


def last_metrics(metrics: dict[str, Any], evaluations: Sequence[str], keys: Sequence[str]) -> dict[str, dict[str, float]]:
    """The last epoch's ``keys`` of each evaluation in an engine ``metrics`` dict."""
    return {e: {k: float(metrics[e]["last"][k]) for k in keys} for e in evaluations}


def flat_report(
    args: argparse.Namespace, script: str | Path, commit: str, budget: dict[str, Any], **tail: Any,
) -> dict[str, Any]:
    """The provenance of a flat comparison: date, ``commit`` (read before the runs), generator version,
    seeds, the ``budget`` fields, torch threads and the command; then ``tail`` (arms, runs, ...)."""
    import torch

    from reid_core.datasets.synthetic.cache import GENERATOR_VERSION

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit, "generator_version": GENERATOR_VERSION, "seeds": list(args.seeds), **budget,
        "threads": torch.get_num_threads(), "command": command_line(args.argv, script), **tail,
    }


def spread(values: Sequence[float]) -> str:
    """Mean, and (min-max) when there are several values."""
    extent = f" ({min(values):.1f}-{max(values):.1f})" if len(values) > 1 else ""
    return f"{statistics.fmean(values):.1f}{extent}"


def comparison_table(caption: str, report: dict[str, Any], evaluations: dict[str, str]) -> str:
    """Per arm: rank-1 and mAP of each evaluation (key -> column label), mean (min-max) over the seeds,
    and the mean wall time; under ``caption`` and above the command."""
    header = ["method", *(f"{label} {what}" for label in evaluations.values() for what in ("rank-1", "mAP")),
              "train + eval s"]
    rows = []
    for arm in report["arms"]:
        runs = [r for r in report["runs"] if r["arm"] == arm]
        cells = [spread([r["metrics"][e][k] for r in runs]) for e in evaluations for k in ("rank1", "mAP")]
        rows.append([arm, *cells, f"{statistics.fmean(r['seconds'] for r in runs):.0f}"])
    return "\n".join([caption, "", *markdown_rows(header, rows), "", f"Command: `{report['command']}`"]) + "\n"


def write_flat(
    args: argparse.Namespace, name: str, raw: dict[str, Any], page: str, markers: tuple[str, str] | None = None,
) -> None:
    """Write ``<out>/<name>.json`` and ``<out>/<name>.md`` (and the README block between ``markers``)."""
    from reid_core.engine.checkpoint import atomic_write_text

    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(json.dumps(raw, indent=2) + "\n", args.out / f"{name}.json")
    atomic_write_text(page, args.out / f"{name}.md")
    if markers and getattr(args, "readme", None):
        replace_block(args.readme, markers, page)
    print(page)


def run_comparison(
    args: argparse.Namespace, script: str | Path, *, name: str, dataset: str, options: dict[str, str],
    sets: Callable[[str], list[str]], evaluations: dict[str, str], keys: Sequence[str],
    table: Callable[[dict[str, Any]], str], budget: dict[str, Any], markers: tuple[str, str],
) -> dict[str, Any]:
    """Train every method ``args.arms`` (``sets(arm)`` + ``args.sets``) per seed on ``dataset``, write the raw
    report and its ``table`` (and the README block); returns the report."""
    if args.cache_dir:
        options = {**options, "cache_dir": str(args.cache_dir)}

    def run(arm: str, seed: int, folder: Path) -> dict[str, Any]:
        arm_sets = [*sets(arm), *args.sets]
        metrics, seconds, _ = train_arm(arm, seed, folder, dataset=dataset, options=options, sets=arm_sets)
        return {"arm": arm, "seed": seed, "seconds": seconds, "metrics": last_metrics(metrics, evaluations, keys),
                "sets": arm_sets, "options": options}

    commit = git_commit("+dirty")  # before the runs: the code that produced them
    runs = compare(args.arms, args.seeds, run, prefix=f"{name}-")
    report = flat_report(args, script, commit, budget, arms=args.arms, runs=runs)
    write_flat(args, name, report, table(report), markers)
    return report

"""Shared machinery of the ablation scripts: arms x dial values x seeds, raw metrics, a markdown table.

An ablation script (``benchmarks/ablations/<method>.py``) describes its *arms* (a method and its
``--set`` overrides: the method, the method without its key term, ...), the *dial* values of the
synthetic generator it sweeps (data set options), the seeds and a budget; :func:`run_grid` trains and
evaluates every (dial, seed, arm) in process through the engine (``train_run``), each in its own run
folder ``OUT/<dial>/seed<k>/<arm>/`` with the engine's ``metrics.json``. A run whose ``metrics.json``
exists is reused (an interrupted sweep continues), so delete ``OUT`` to measure again.

:func:`write_report` writes ``OUT/results.json`` (every run's metrics, timings, options and overrides)
and ``OUT/table.md``: a header with the date, the git commit, the synthetic generator version, the
seeds and the exact command, then mean +- standard deviation over the seeds per dial value and arm.
With ``--readme FILE`` the table also replaces the block between ``<!-- ablation:NAME start -->`` and
``<!-- ablation:NAME end -->`` in that file, so the README shows exactly what the script wrote.

The provenance (:func:`git_commit`, :func:`command_line`), one training run (:func:`train_arm`), the
markdown rows and the README block (:func:`replace_block`) are shared with the flat comparisons of
``_compare.py`` (``camc.py``, ``ivreid.py``, ``camera_mixup.py``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

REPO = Path(__file__).resolve().parents[2]

#: A metric column: (evaluation name in metrics.json, metric) or (None, key of a run's ``extra``).
Column = tuple[str | None, str]


@attrs.frozen
class Arm:
    """One configuration of a method; ``report=False`` runs it (e.g. a shared first stage) without a row."""

    name: str
    method: str
    sets: tuple[str, ...] = ()
    dataset: str | None = None
    profile: str | None = None
    report: bool = True
    source: str | None = None


@attrs.frozen
class Dial:
    """A value of a generator dial: a row label and the data set options it sets."""

    label: str
    options: tuple[tuple[str, str], ...] = ()


@attrs.define
class RunResult:
    """One trained and evaluated run."""

    dial: str
    seed: int
    arm: str
    metrics: dict[str, Any]
    seconds: float
    extra: dict[str, float] = attrs.field(factory=dict)
    report: bool = True


def common_parser(description: str, *, seeds: Sequence[int] = (1, 2)) -> argparse.ArgumentParser:
    """The options every ablation script takes (it adds its own dials and budget options)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder of the runs, results.json and table.md")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(seeds), help="training seeds")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--readme", type=Path, help="replace this file's ablation block with the table")
    parser.add_argument("--cache-dir", help="synthetic image cache (default: the generator's)")
    parser.add_argument("--block", help="name of the README block (<!-- ablation:NAME start -->; default: the script's)")
    parser.add_argument("--only", nargs="+", metavar="ARM",
                        help="run only these arms (e.g. one more arm in a second process); the table shows them only")
    return parser


def train_arm(
    method: str, seed: int, folder: Path, *, dataset: str | None, options: dict[str, str],
    sets: Sequence[str] = (), profile: str | None = "quick", source: str | None = None,
    device: str = "cpu", resume: bool = False,
) -> tuple[dict[str, Any], float, Any]:
    """Train and evaluate ``method`` (by its registered name) in ``folder``: (metrics, seconds, config).

    With ``source`` the run adapts from that labelled data set (the same generator options) to ``dataset``.
    """
    from reid_core.engine import train_run
    from reid_core.resolve import method_class, resolve_run_config

    cls = method_class(method)
    domains = {"source": source, "source_options": options} if source else {}
    config = resolve_run_config(cls, dataset=dataset, profile=profile, sets=list(sets), options=options,
                                device=device, seed=seed, **domains)
    start = time.perf_counter()
    metrics = train_run(cls, config, output_dir=folder, resume=resume)
    return metrics, round(time.perf_counter() - start, 1), config


def run_arm(
    arm: Arm, *, dial: str, seed: int, options: dict[str, str], folder: Path, device: str = "cpu",
    extra: Callable[[Path], dict[str, float]] | None = None,
) -> RunResult:
    """Train and evaluate one arm in ``folder`` (reused when its ``metrics.json`` exists)."""
    done = folder / "run.json"
    if done.is_file():
        saved = json.loads(done.read_text())
        values = extra(folder) if extra else saved.get("extra", {})  # recomputed: cheap, and follows the script
        return RunResult(dial, seed, arm.name, saved["metrics"], saved["seconds"], values, arm.report)
    metrics, seconds, _ = train_arm(arm.method, seed, folder, dataset=arm.dataset, options=options, sets=arm.sets,
                                    profile=arm.profile, source=arm.source, device=device,
                                    resume=(folder / "config.toml").is_file())
    values = extra(folder) if extra else {}
    result = RunResult(dial, seed, arm.name, metrics, seconds, values, arm.report)
    record = {**attrs.asdict(result), "method": arm.method, "sets": list(arm.sets), "options": options}
    done.write_text(json.dumps(record, indent=2))
    return result


def run_grid(
    dials: Sequence[Dial],
    seeds: Sequence[int],
    arms: Callable[[Dial, int, Path], list[Arm]],
    out: Path,
    *,
    base_options: dict[str, str] | None = None,
    device: str = "cpu",
    extra: Callable[[Path], dict[str, float]] | None = None,
    log: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True),
) -> list[RunResult]:
    """Every arm of every (dial, seed), in order; ``arms(dial, seed, folder)`` may refer to earlier runs' folders."""
    results = []
    for dial in dials:
        for seed in seeds:
            folder = out / dial.label / f"seed{seed}"
            options = {**(base_options or {}), **dict(dial.options)}
            for arm in arms(dial, seed, folder):
                log(f"[ablation] {dial.label} seed {seed}: {arm.name}")
                result = run_arm(arm, dial=dial.label, seed=seed, options=options, folder=folder / arm.name,
                                 device=device, extra=extra)
                log(f"[ablation]   done in {result.seconds:.0f} s")
                results.append(result)
    return results


def metric(result: RunResult, column: Column) -> float:
    """The value of one column for one run (the last epoch's evaluation, or an extra value)."""
    evaluation, name = column
    if evaluation is None:
        return float(result.extra.get(name, math.nan))
    entry = result.metrics.get(evaluation, {})
    return float(entry.get("last", entry).get(name, math.nan))


def _mean_sd(values: list[float], digits: int) -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "-"
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def git_commit(dirty_mark: str = " (with uncommitted changes)") -> str:
    """The short commit hash of the repository, marked when tracked files other than Markdown pages changed."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!*.md"],
                               cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (dirty_mark if dirty else "")


def command_line(argv: Sequence[str] | None = None, script: str | Path | None = None) -> str:
    """The command that produced the table (``script`` with ``argv``; default: this process's), from the repo root."""
    path = Path(script or sys.argv[0]).resolve()
    shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    return " ".join(["python", str(shown), *map(shlex.quote, sys.argv[1:] if argv is None else argv)])


def markdown_rows(header: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str] | None = None) -> list[str]:
    """The lines of a markdown table: header, alignment row (``---`` per column unless given), rows."""
    return ["| " + " | ".join(line) + " |" for line in (header, align or ["---"] * len(header), *rows)]


def markdown_table(
    results: Sequence[RunResult], columns: Sequence[tuple[str, Column, int]], *, dial_name: str,
) -> str:
    """Rows = (dial value, arm) in run order; cells = mean ± sd over the seeds; plus seeds and minutes."""
    rows: dict[tuple[str, str], list[RunResult]] = {}
    for result in results:
        if result.report:
            rows.setdefault((result.dial, result.arm), []).append(result)
    header = [dial_name, "arm", *(title for title, _, _ in columns), "seeds", "min / run"]
    cells = []
    for (dial, arm), group in rows.items():
        values = [_mean_sd([metric(r, col) for r in group], digits) for _, col, digits in columns]
        minutes = sum(r.seconds for r in group) / len(group) / 60
        cells.append([dial, arm, *values, ", ".join(str(r.seed) for r in group), f"{minutes:.1f}"])
    return "\n".join(markdown_rows(header, cells))


def write_report(
    name: str, out: Path, results: Sequence[RunResult], table: str, *, seeds: Sequence[int], budget: str,
    readme: Path | None = None,
) -> str:
    """Write ``results.json`` and ``table.md`` (and the README block); returns the markdown."""
    from reid_core.datasets.synthetic.cache import GENERATOR_VERSION

    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    text = (
        f"Generated {stamp} by `{command_line()}` at commit {git_commit()}, synthetic generator version "
        f"{GENERATOR_VERSION}, seeds {', '.join(map(str, seeds))}, on {os.cpu_count()} CPU cores "
        f"({'OMP_NUM_THREADS=' + os.environ['OMP_NUM_THREADS'] if 'OMP_NUM_THREADS' in os.environ else 'default threads'}). "
        f"Budget: {budget} Cells: mean ± standard deviation over the seeds, last epoch.\n\n{table}\n"
    )
    out.mkdir(parents=True, exist_ok=True)
    raw = {"name": name, "generator_version": GENERATOR_VERSION, "commit": git_commit(), "date": stamp,
           "command": command_line(), "seeds": list(seeds), "budget": budget,
           "runs": [attrs.asdict(r) for r in results]}
    from reid_core.engine.checkpoint import atomic_write_text

    atomic_write_text(json.dumps(raw, indent=2), out / "results.json")
    atomic_write_text(text, out / "table.md")
    if readme is not None:
        replace_block(readme, block_markers(name), text)
    return text


def block_markers(name: str) -> tuple[str, str]:
    """The README markers of an ablation block."""
    return f"<!-- ablation:{name} start -->", f"<!-- ablation:{name} end -->"


def block_problem(path: Path, markers: tuple[str, str]) -> str | None:
    """Why the text between ``markers`` in ``path`` cannot be replaced (``None``: it can)."""
    start, end = markers
    if not path.is_file():
        return f"{path} does not exist; give the README whose block the table replaces"
    content = path.read_text()
    if start not in content or end not in content:
        return f"{path} has no '{start}' ... '{end}' block to replace; add the two markers first"
    return None


def replace_block(path: Path, markers: tuple[str, str], text: str) -> None:
    """Replace the text between the two ``markers`` (start, end) of ``path`` by ``text``."""
    from reid_core.engine.checkpoint import atomic_write_text

    problem = block_problem(path, markers)
    if problem:
        raise SystemExit(f"Error: {problem}")
    start, end = markers
    head, rest = path.read_text().split(start, 1)
    _, tail = rest.split(end, 1)
    atomic_write_text(f"{head}{start}\n{text}{end}{tail}", path)


def sweep(
    name: str, args: argparse.Namespace, dials: Sequence[Dial], arms: Callable[[Dial, int, Path], list[Arm]],
    columns: Sequence[tuple[str, Column, int]], *, base_options: dict[str, str], budget: str,
    extra: Callable[[Path], dict[str, float]] | None = None,
) -> str:
    """Run the grid with the :func:`common_parser` options ``args`` and write the report; returns the markdown."""
    problem = block_problem(args.readme, block_markers(args.block or name)) if args.readme else None
    if problem:
        raise SystemExit(f"Error: {problem}")
    options = dict(base_options)
    if args.cache_dir:
        options["cache_dir"] = args.cache_dir
    if args.only:
        chosen = set(args.only)
        every = arms

        def arms(dial: Dial, seed: int, folder: Path) -> list[Arm]:
            return [arm for arm in every(dial, seed, folder) if arm.name in chosen]

    results = run_grid(dials, args.seeds, arms, args.out, base_options=options, device=args.device, extra=extra)
    table = markdown_table(results, columns, dial_name="dial")
    return write_report(args.block or name, args.out, results, table, seeds=args.seeds, budget=budget,
                        readme=args.readme)


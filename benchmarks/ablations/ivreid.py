"""IV-ReID against AGW and the core's strong baseline on ``synthetic-ir``, with the same budget.

Every arm trains on the same generated visible + infrared persons, at the same image size, batch
(P x K), number of iterations (``--epochs`` x ``--iters``) and backbone (a ResNet-18 at ``--width``
from scratch: no ImageNet weights exist here); each method keeps its own losses, optimizer and
schedule (its ``quick`` profile), and its own sampler (ivreid and agw: K/2 infrared + K/2 visible
per identity; baseline: P x K without regard to the modality). The arms run through the engine by
their registered names, in-process (nothing imports a plugin). Both directions are reported:
infrared query -> visible gallery (``ir-to-visible``) and visible -> infrared (``visible-to-ir``),
last epoch, all gallery images (the ``regdb`` protocol: nothing removed).

It writes the raw metrics (``<out>/ivreid_synthetic_ir.json``) and a markdown table
(``<out>/ivreid_synthetic_ir.md``) with the date, git commit, synthetic generator version and seeds;
``--readme FILE`` also replaces the block between the ``ivreid-benchmark`` markers of FILE.

Usage::

    python benchmarks/ablations/ivreid.py [--epochs 12] [--iters 40] [--ids 100] [--seeds 0] \\
        [--arms ivreid,agw,baseline] [--out benchmarks/results] [--readme plugins/reid-plugin-ivreid/README.md]
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ARMS = ("ivreid", "agw", "baseline")
DIRECTIONS = ("ir-to-visible", "visible-to-ir")
START, END = "<!-- ivreid-benchmark:start -->", "<!-- ivreid-benchmark:end -->"
ROOT = Path(__file__).resolve().parents[2]
NAME = "ivreid_synthetic_ir"


def budget_sets(arm: str, args: argparse.Namespace) -> list[str]:
    """``--set`` overrides that give ``arm`` the common budget on top of its quick profile."""
    sets = [
        "data.height=64", "data.width=32", f"data.batch_size={args.batch}", "data.num_instances=4",
        "data.num_workers=0", "data.eval_batch_size=128", "train.eval_every=0", "train.amp=off",
        "train.log_every=100",
        f"{arm}.epochs={args.epochs}", f"{arm}.iters_per_epoch={args.iters}", f"{arm}.backbone=resnet18",
        f"{arm}.pretrained=none", f"{arm}.width={args.width}",
    ]
    milestone = max(1, (3 * args.epochs) // 4)
    if arm in ("agw", "baseline"):  # the schedule's shape scaled to the budget
        sets.append(f"{arm}.milestones=[{milestone}]")
    return sets


def run_arm(arm: str, seed: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Train and evaluate one arm; its last-epoch metrics per direction and the wall time."""
    from reid_core.engine import train_run
    from reid_core.resolve import method_class, resolve_run_config

    options = {"ids": str(args.ids), "seed": str(args.data_seed)}
    if args.cache_dir:
        options["cache_dir"] = args.cache_dir
    cls = method_class(arm)
    sets = [*budget_sets(arm, args), *args.extra_set]
    config = resolve_run_config(cls, dataset="synthetic-ir", profile="quick", options=options, sets=sets,
                                device="cpu", seed=seed)
    start = time.perf_counter()
    metrics = train_run(cls, config, output_dir=workdir / f"{arm}-seed{seed}")
    seconds = time.perf_counter() - start
    out = {d: {k: float(metrics[d]["last"][k]) for k in ("rank1", "rank10", "mAP", "mINP")} for d in DIRECTIONS}
    return {"arm": arm, "seed": seed, "seconds": round(seconds, 1), "metrics": out, "sets": sets, "options": options}


def git_commit() -> str:
    """The short commit of the working tree (``unknown`` outside git)."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip()


def _cell(values: list[float]) -> str:
    spread = f" ({min(values):.1f}-{max(values):.1f})" if len(values) > 1 else ""
    return f"{statistics.fmean(values):.1f}{spread}"


def table(report: dict[str, Any]) -> str:
    """The markdown table (mean, and min-max over seeds) with its provenance line and command."""
    lines = [
        f"*{report['date']}, commit `{report['commit']}`, synthetic generator v{report['generator_version']}, "
        f"training seeds {report['seeds']}, world seed {report['data_seed']}; synthetic-ir with {report['ids']} "
        f"train and {report['ids']} test ids (chance rank-1 {100 / report['ids']:.0f} %); {report['epochs']} epochs x "
        f"{report['iters']} iterations, batch {report['batch']} (P x 4), 64x32, ResNet-18 width {report['width']} "
        f"from scratch; CPU, {report['threads']} thread(s), a shared 2-core machine.*",
        "",
        "| method | IR->visible rank-1 | IR->visible mAP | visible->IR rank-1 | visible->IR mAP | train + eval s |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for arm in report["arms"]:
        runs = [r for r in report["runs"] if r["arm"] == arm]
        cells = [_cell([r["metrics"][d][k] for r in runs]) for d in DIRECTIONS for k in ("rank1", "mAP")]
        lines.append(f"| {arm} | {' | '.join(cells)} | {statistics.fmean(r['seconds'] for r in runs):.0f} |")
    lines += ["", f"Command: `{report['command']}`"]
    return "\n".join(lines) + "\n"


def update_readme(path: Path, block: str) -> None:
    """Replace the text between the benchmark markers of ``path`` with ``block``."""
    text = path.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"error: {path} has no {START} ... {END} block to replace")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{block}{END}{tail}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the arms, write the json and the table (and the README block); returns the report."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--iters", type=int, default=40, help="iterations per epoch (the same for every arm)")
    parser.add_argument("--ids", type=int, default=100, help="train ids (and as many test ids)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds")
    parser.add_argument("--data-seed", type=int, default=0, help="synthetic world seed")
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--readme", type=Path, help="also replace the ivreid-benchmark block of this file")
    parser.add_argument("--cache-dir", help="synthetic image cache (default: the generator's)")
    parser.add_argument("--extra-set", action="append", default=[], help="one more --set for every arm (tests)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    import torch

    from reid_core.datasets.synthetic.cache import GENERATOR_VERSION

    commit = git_commit()  # before the runs: the code they use
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    runs = []
    with tempfile.TemporaryDirectory(prefix="ivreid-bench-") as tmp:
        for seed in seeds:
            for arm in arms:
                result = run_arm(arm, seed, args, Path(tmp))
                print(f"{arm} seed {seed}: {json.dumps(result['metrics'])} ({result['seconds']} s)", flush=True)
                runs.append(result)
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "generator_version": GENERATOR_VERSION,
        "seeds": seeds,
        "data_seed": args.data_seed,
        "ids": args.ids,
        "epochs": args.epochs,
        "iters": args.iters,
        "batch": args.batch,
        "width": args.width,
        "threads": torch.get_num_threads(),
        "arms": arms,
        "command": "python benchmarks/ablations/ivreid.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "runs": runs,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{NAME}.json").write_text(json.dumps(report, indent=2) + "\n")
    block = table(report)
    (args.out / f"{NAME}.md").write_text(block)
    if args.readme:
        update_readme(args.readme, block)
    print(block)
    return report


if __name__ == "__main__":
    main()

"""CAMC against the strong baseline and AIM on ``synthetic-cc``, with the same budget.

Every arm trains on the same generated data (options below), at CAMC's 256x128, with the same
batches (P x K), epochs, learning-rate schedule shape and backbone (a ResNet-18 at ``--width``
from scratch: no pretrained weights exist here); each method keeps its own losses and
optimizers (its ``quick`` profile). CAMC uses keypoint heatmaps (``pose_source = "keypoints"``):
no HRNet weights exist here either, so these are not the paper's pose inputs. The arms run
through the engine by their registered names (``reid run NAME`` in-process): nothing imports a
plugin. Results: the ``cloth-changing`` and ``standard`` protocols of ``synthetic-cc``, last epoch.

It writes the raw metrics (``<out>/camc_synthetic_cc.json``) and a markdown table
(``<out>/camc_synthetic_cc.md``) with the date, git commit, synthetic generator version and seeds;
``--readme FILE`` also replaces the block between the ``camc-benchmark`` markers of FILE.

Usage::

    python benchmarks/ablations/camc.py [--epochs 6] [--ids 40] [--images 2] [--seeds 0] \\
        [--arms camc,baseline,aim] [--out benchmarks/ablations/results] [--readme plugins/reid-plugin-camc/README.md]
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

ARMS = ("camc", "baseline", "aim")
PROTOCOLS = ("cloth-changing", "standard")
START, END = "<!-- camc-benchmark:start -->", "<!-- camc-benchmark:end -->"
ROOT = Path(__file__).resolve().parents[2]


def arm_sets(arm: str, epochs: int, width: int) -> list[str]:
    """``--set`` overrides that give ``arm`` the common budget on top of its quick profile."""
    milestone = max(1, (3 * epochs) // 4)
    common = [f"{arm}.epochs={epochs}", f"{arm}.milestones=[{milestone}]", f"{arm}.lr=0.001",
              f"{arm}.backbone=resnet18", f"{arm}.pretrained=none", f"{arm}.width={width}"]
    if arm in ("camc", "baseline"):
        common += [f"{arm}.warmup_epochs=1", f"{arm}.warmup_factor=0.1"]
    if arm == "aim":
        common += [f"aim.start_epoch={max(1, epochs // 3)}"]
    return common


def data_sets(batch: int) -> list[str]:
    return ["data.height=256", "data.width=128", f"data.batch_size={batch}", "data.num_instances=4",
            "data.num_workers=0", "data.eval_batch_size=64", "train.eval_every=0", "train.amp=off",
            "train.log_every=50"]


def run_arm(arm: str, seed: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Train and evaluate one arm; returns its last-epoch metrics per protocol and the wall time."""
    from reid_core.engine import train_run
    from reid_core.resolve import method_class, resolve_run_config

    options = {"ids": str(args.ids), "images": str(args.images), "seed": str(args.data_seed)}
    if args.cache_dir:
        options["cache_dir"] = args.cache_dir
    cls = method_class(arm)
    sets = [*data_sets(args.batch), *arm_sets(arm, args.epochs, args.width), *args.extra_set]
    config = resolve_run_config(cls, dataset="synthetic-cc", profile="quick", options=options, sets=sets,
                                device="cpu", seed=seed)
    start = time.perf_counter()
    metrics = train_run(cls, config, output_dir=workdir / f"{arm}-seed{seed}")
    seconds = time.perf_counter() - start
    out = {p: {k: float(metrics[p]["last"][k]) for k in ("rank1", "rank5", "mAP")} for p in PROTOCOLS}
    return {"arm": arm, "seed": seed, "seconds": round(seconds, 1), "metrics": out, "sets": sets, "options": options}


def git_commit() -> str:
    """The short commit of the code that runs, ``+dirty`` when tracked files differ from it."""
    try:
        def git(*cmd: str) -> str:
            return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()

        commit = git("rev-parse", "--short", "HEAD")
        return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def table(report: dict[str, Any]) -> str:
    """The markdown table: mean (and min-max over seeds) per arm and protocol, with the provenance."""
    lines = [
        f"*{report['date']}, commit `{report['commit']}`, synthetic generator v{report['generator_version']}, "
        f"seeds {report['seeds']}; synthetic-cc ids={report['ids']}, images={report['images']} per camera; "
        f"{report['epochs']} epochs, batch {report['batch']} (P x 4), 256x128, ResNet-18 width {report['width']} "
        f"from scratch; CPU, {report['threads']} thread(s).*",
        "",
        "| method | cloth-changing rank-1 | cloth-changing mAP | standard rank-1 | standard mAP | train + eval s |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for arm in report["arms"]:
        runs = [r for r in report["runs"] if r["arm"] == arm]
        cells = []
        for protocol in PROTOCOLS:
            for key in ("rank1", "mAP"):
                values = [r["metrics"][protocol][key] for r in runs]
                mean = statistics.fmean(values)
                spread = f" ({min(values):.1f}-{max(values):.1f})" if len(values) > 1 else ""
                cells.append(f"{mean:.1f}{spread}")
        seconds = statistics.fmean(r["seconds"] for r in runs)
        lines.append(f"| {arm} | {' | '.join(cells)} | {seconds:.0f} |")
    lines += ["", f"Command: `{report['command']}`"]
    return "\n".join(lines) + "\n"


def update_readme(path: Path, block: str) -> None:
    text = path.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"error: {path} has no {START} ... {END} block to replace")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{block}{END}{tail}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--ids", type=int, default=40)
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds")
    parser.add_argument("--data-seed", type=int, default=0, help="synthetic world seed")
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "ablations" / "results")
    parser.add_argument("--readme", type=Path, help="also replace the camc-benchmark block of this file")
    parser.add_argument("--cache-dir", help="synthetic image cache (default: the generator's)")
    parser.add_argument("--extra-set", action="append", default=[], help="one more --set for every arm (tests)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    import torch

    from reid_core.datasets.synthetic.cache import GENERATOR_VERSION

    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    commit = git_commit()  # before the runs: the code that produced them
    runs = []
    with tempfile.TemporaryDirectory(prefix="camc-bench-") as tmp:
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
        "images": args.images,
        "epochs": args.epochs,
        "batch": args.batch,
        "width": args.width,
        "threads": torch.get_num_threads(),
        "arms": arms,
        "command": "python benchmarks/ablations/camc.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "runs": runs,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "camc_synthetic_cc.json").write_text(json.dumps(report, indent=2) + "\n")
    block = table(report)
    (args.out / "camc_synthetic_cc.md").write_text(block)
    if args.readme:
        update_readme(args.readme, block)
    print(block)
    return report


if __name__ == "__main__":
    main()

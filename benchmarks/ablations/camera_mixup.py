"""Ablation of camera-mixup on the synthetic domains (synthetic-a -> synthetic-b), one budget for every arm.

Arms (all with the method's ``quick`` profile, the same epochs, seeds and images):

- ``source-only``: ``camera_mixup.joint = false``: CE on the labelled source only, tested on the
  target (direct transfer; ``single_domain.yml`` of the released code);
- ``full``: the method;
- ``no-mixup``: ``camera_mixup.mix = false`` (pure-source CE all along, camera terms kept);
- ``no-camera-terms``: ``intra_weight = inter_weight = 0`` (mixup kept; the memory still feeds the
  virtual class).

Each arm runs ``reid_core.engine.train_run`` once per seed and the target's ``market`` metrics (and
``market-trapezoid`` AP) of the last epoch are written, raw, to ``OUT/camera_mixup.json`` and as a
markdown table with the date, the git commit, the synthetic generator version and the seeds to
``OUT/camera_mixup.md``.

Usage::

    python benchmarks/ablations/camera_mixup.py [--seeds 1] [--epochs N] [--ids N] [--out DIR]
        [--arms full,source-only] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

ARMS: dict[str, list[str]] = {
    "source-only": ["camera_mixup.joint=false"],
    "full": [],
    "no-mixup": ["camera_mixup.mix=false"],
    "no-camera-terms": ["camera_mixup.intra_weight=0", "camera_mixup.inter_weight=0"],
}
METRICS = ("rank1", "rank5", "mAP")


def git_commit() -> str:
    """The checkout's commit (``unknown`` outside git), ``+dirty`` with uncommitted changes."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def run_arm(arm: str, seed: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Train and evaluate one arm with one seed; the target's last-epoch metrics."""
    from reid_core.engine import train_run
    from reid_core.resolve import method_class, resolve_run_config

    cls = method_class("camera-mixup")
    options = {"ids": str(args.ids), "test_ids": str(args.ids), "cache_dir": str(args.cache)}
    sets = [*ARMS[arm], *args.set]
    if args.epochs:
        sets.append(f"camera_mixup.epochs={args.epochs}")
    config = resolve_run_config(cls, dataset="synthetic-b", source="synthetic-a", profile="quick", sets=sets,
                                options=options, source_options=options, seed=seed, device="cpu")
    start = time.perf_counter()
    metrics = train_run(cls, config, output_dir=work / f"{arm}-seed{seed}")
    seconds = time.perf_counter() - start
    last = metrics["market"]["last"]
    row = {m: float(last[m]) for m in METRICS}
    if "market-trapezoid" in metrics:
        row["mAP_trapezoid"] = float(metrics["market-trapezoid"]["last"]["mAP"])
    row["seconds"] = round(seconds, 1)
    row["epochs"] = int(config.camera_mixup.epochs)
    return row


def table(results: dict[str, list[dict[str, Any]]], header: dict[str, Any]) -> str:
    """The markdown page: the provenance lines, then one row per arm (mean over the seeds)."""
    lines = [
        f"Generated {header['date']} by `{header['command']}`; commit {header['commit']}, synthetic generator "
        f"version {header['generator_version']}, seeds {header['seeds']}, {header['epochs']} epochs per arm, "
        f"{header['ids']} identities per domain, {header['threads']} torch thread(s) on CPU.",
        "",
        "| arm | rank-1 | rank-5 | mAP | mAP (trapezoid) | minutes |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for arm, rows in results.items():
        def mean(key: str, rows: list[dict[str, Any]] = rows) -> float:
            return statistics.fmean(r[key] for r in rows) if all(key in r for r in rows) else float("nan")

        lines.append(f"| {arm} | {mean('rank1'):.1f} | {mean('rank5'):.1f} | {mean('mAP'):.1f} | "
                     f"{mean('mAP_trapezoid'):.1f} | {mean('seconds') / 60:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="1", help="comma-separated seeds (default 1)")
    parser.add_argument("--epochs", type=int, default=0, help="epochs per arm (default: the quick profile's)")
    parser.add_argument("--ids", type=int, default=100, help="identities per domain (train and test)")
    parser.add_argument("--arms", default=",".join(ARMS), help="comma-separated arms")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override, all arms")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "reid-ablation-cache")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    unknown = [a for a in arms if a not in ARMS]
    if unknown:
        parser.error(f"unknown arm(s) {', '.join(unknown)}; arms: {', '.join(ARMS)}")
    from reid_core.datasets.synthetic.cache import GENERATOR_VERSION

    commit = git_commit()  # the code that runs, read before the runs
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="reid-ablation-") as tmp:
        for arm in arms:
            results[arm] = []
            for seed in seeds:
                row = run_arm(arm, seed, args, Path(tmp))
                print(f"{arm} seed {seed}: " + ", ".join(f"{k} {v}" for k, v in row.items()), flush=True)
                results[arm].append({"seed": seed, **row})
    epochs = sorted({r["epochs"] for rows in results.values() for r in rows})
    header = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "generator_version": GENERATOR_VERSION,
        "seeds": seeds,
        "epochs": epochs[0] if len(epochs) == 1 else epochs,
        "ids": args.ids,
        "threads": torch.get_num_threads(),
        "command": " ".join(["python benchmarks/ablations/camera_mixup.py", *(sys.argv[1:] if argv is None else argv)]),
    }
    from reid_core.engine.checkpoint import atomic_write_text

    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(json.dumps({"header": header, "results": results}, indent=2) + "\n", args.out / "camera_mixup.json")
    page = table(results, header)
    atomic_write_text(page, args.out / "camera_mixup.md")
    print(page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

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

import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import git_commit, markdown_rows, train_arm
from _compare import compare, flat_args, flat_parser, flat_report, write_flat

ARMS: dict[str, list[str]] = {
    "source-only": ["camera_mixup.joint=false"],
    "full": [],
    "no-mixup": ["camera_mixup.mix=false"],
    "no-camera-terms": ["camera_mixup.intra_weight=0", "camera_mixup.inter_weight=0"],
}
METRICS = ("rank1", "rank5", "mAP")
COLUMNS = {"rank-1": "rank1", "rank-5": "rank5", "mAP": "mAP", "mAP (trapezoid)": "mAP_trapezoid"}


def table(results: dict[str, list[dict[str, Any]]], header: dict[str, Any]) -> str:
    """The markdown page: the provenance lines, then one row per arm (mean over the seeds)."""
    caption = (
        f"Generated {header['date']} by `{header['command']}`; commit {header['commit']}, synthetic generator "
        f"version {header['generator_version']}, seeds {header['seeds']}, {header['epochs']} epochs per arm, "
        f"{header['ids']} identities per domain, {header['threads']} torch thread(s) on CPU."
    )

    def mean(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.fmean(r[key] for r in rows) if all(key in r for r in rows) else float("nan")

    rows = [[arm, *(f"{mean(runs, key):.1f}" for key in COLUMNS.values()), f"{mean(runs, 'seconds') / 60:.1f}"]
            for arm, runs in results.items()]
    header_row = ["arm", *COLUMNS, "minutes"]
    return "\n".join([caption, "", *markdown_rows(header_row, rows, ["---", *["---:"] * 5])]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = flat_parser(__doc__ or "", arms=list(ARMS), seeds="1", out=Path(__file__).resolve().parent / "results",
                         set_flag="--set", cache_flag="--cache", data_seed=False,
                         cache_default=Path(tempfile.gettempdir()) / "reid-ablation-cache")
    parser.add_argument("--epochs", type=int, default=0, help="epochs per arm (default: the quick profile's)")
    parser.add_argument("--ids", type=int, default=100, help="identities per domain (train and test)")
    args = flat_args(parser, argv, list(ARMS))
    options = {"ids": str(args.ids), "test_ids": str(args.ids), "cache_dir": str(args.cache_dir)}
    epochs = [f"camera_mixup.epochs={args.epochs}"] if args.epochs else []

    def run(arm: str, seed: int, folder: Path) -> dict[str, Any]:
        """One arm with one seed: the target's last-epoch metrics."""
        metrics, seconds, config = train_arm("camera-mixup", seed, folder, dataset="synthetic-b", source="synthetic-a",
                                             options=options, sets=[*ARMS[arm], *args.sets, *epochs])
        row = {m: float(metrics["market"]["last"][m]) for m in METRICS}
        if "market-trapezoid" in metrics:
            row["mAP_trapezoid"] = float(metrics["market-trapezoid"]["last"]["mAP"])
        return {"arm": arm, "seed": seed, "metrics": row, "seconds": seconds, "epochs": int(config.camera_mixup.epochs)}

    commit = git_commit("+dirty")  # the code that runs, read before the runs
    runs = compare(args.arms, args.seeds, run, prefix="reid-ablation-")
    results = {arm: [{"seed": r["seed"], **r["metrics"], "seconds": r["seconds"], "epochs": r["epochs"]}
                     for r in runs if r["arm"] == arm] for arm in args.arms}
    ran = sorted({r["epochs"] for r in runs})
    header = flat_report(args, __file__, commit, {"epochs": ran[0] if len(ran) == 1 else ran, "ids": args.ids})
    write_flat(args, "camera_mixup", {"header": header, "results": results}, table(results, header))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
